"""The SMS gateway: binding codes to a registered mobile. Backend `log` (development only) or `http`.

`http` POSTs JSON `{"mobile": "...", "text": "..."}` to SMS_WEBHOOK_URL; any 2xx is success. Typed errors; no retry
here (the job's RQ Retry decides).
"""

import logging

import requests

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = (3.05, 10)


class SMSError(Exception):
    """An SMS could not be sent."""


class SMSNotConfigured(SMSError):
    """No usable backend: `http` without SMS_WEBHOOK_URL, an unknown backend, or `log` outside development mode."""


class SMSRejected(SMSError):
    """The gateway refused the message (HTTP 4xx): retrying will not help."""


class SMSUnavailable(SMSError):
    """The gateway failed or could not be reached (HTTP 5xx, network): retried."""


def send(config, mobile, text):
    """Send one SMS through the backend the configuration names; return "logged" or "sent"."""
    backend = config["SMS_BACKEND"]
    if backend == "log":
        return _send_log(config, mobile, text)
    if backend == "http":
        return _send_http(config, mobile, text)
    raise SMSNotConfigured(f"unknown SMS_BACKEND {backend!r}")


def _send_log(config, mobile, text):
    """Write the SMS to the log; refused outside development mode, where codes must not end up in logs."""
    if not config["DEV_MODE"]:
        raise SMSNotConfigured("SMS_BACKEND=log is for development mode only; set SMS_BACKEND=http")
    logger.info("SMS to %s: %s", mobile, text)
    return "logged"


def _send_http(config, mobile, text):
    """POST the SMS as JSON to SMS_WEBHOOK_URL."""
    url = config["SMS_WEBHOOK_URL"]
    if not url:
        raise SMSNotConfigured("SMS_BACKEND=http needs SMS_WEBHOOK_URL")
    try:
        res = requests.post(url, json={"mobile": mobile, "text": text}, timeout=HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise SMSUnavailable(f"SMS gateway unreachable: {exc}") from exc
    if 400 <= res.status_code < 500:
        raise SMSRejected(f"SMS gateway refused the message: HTTP {res.status_code} {res.text[:200]}")
    if res.status_code >= 500:
        raise SMSUnavailable(f"SMS gateway failed: HTTP {res.status_code}")
    logger.info("SMS to %s*** sent", mobile[:3])
    return "sent"
