"""Configuration read from the environment (and a `.env` file in the repo root): docs/CONTRACT.md §1."""

import os
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
DEV_WECHAT_TOKEN = "hegui-dev-token"
DEV_WECHAT_APPID = "wxdev0000000000000"
DEV_DOUBLE_BASE = "http://127.0.0.1:5101"
DEFAULT_ISSUER = "黑河市社会信用体系建设领导小组办公室 (信用黑河)"


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load_config(instance_path):
    """Return a dict of settings built from the environment; raise ConfigError when production lacks one."""
    load_dotenv(ROOT / ".env", override=False)
    instance_path = Path(instance_path)
    dev = _env("WECHAT_APPID") is None
    cfg = {
        "DEV_MODE": dev,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": _env("DATABASE_URL", f"sqlite:///{instance_path / 'hegui.db'}"),
        "REDIS_URL": _env("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "WECHAT_APPID": _env("WECHAT_APPID", DEV_WECHAT_APPID),
        "WECHAT_SECRET": _env("WECHAT_SECRET", "dev-secret" if dev else None),
        "WECHAT_TOKEN": _env("WECHAT_TOKEN", DEV_WECHAT_TOKEN if dev else None),
        "WECHAT_AES_KEY": _env("WECHAT_AES_KEY"),
        "WECHAT_AES_KEY_PREVIOUS": _env("WECHAT_AES_KEY_PREVIOUS"),
        "WECHAT_MAX_SKEW": int(_env("WECHAT_MAX_SKEW", "300")),  # seconds a signed request's timestamp may be off
        "WECHAT_ACCEPT_PLAINTEXT": _env("WECHAT_ACCEPT_PLAINTEXT", "") in ("1", "true", "yes"),  # mode switch only
        "WECHAT_API_BASE": _env(
            "WECHAT_API_BASE",
            f"{DEV_DOUBLE_BASE}/cgi-bin/" if dev else "https://api.weixin.qq.com/cgi-bin/",
        ),
        "WECHAT_OAUTH_BASE": _env("WECHAT_OAUTH_BASE", DEV_DOUBLE_BASE if dev else None),
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "WECOM_ROBOT_URL": _env("WECOM_ROBOT_URL"),
        "SMS_BACKEND": _env("SMS_BACKEND", "log"),  # docs/CONTRACT.md §1; devtools/dev.sh points it at the SMS double
        "SMS_WEBHOOK_URL": _env("SMS_WEBHOOK_URL"),
        "WECHAT_TEMPLATE_ID": _env("WECHAT_TEMPLATE_ID", "dev-notice-template" if dev else None),
        "WECHAT_REPLY_WAIT": float(_env("WECHAT_REPLY_WAIT", "3.0")),
        "WECHAT_HTTP_TIMEOUT": float(_env("WECHAT_HTTP_TIMEOUT", "10")),  # read timeout of outbound API calls
        "WECHAT_BUSY_BACKOFF": tuple(float(x) for x in _env("WECHAT_BUSY_BACKOFF", "0.2,0.5,1.0").split(",")),
        "SIGNING_KEY": _env("SIGNING_KEY"),
        "REPORT_VALID_DAYS": int(_env("REPORT_VALID_DAYS", "30")),
        "REPORT_ISSUER": _env("REPORT_ISSUER", DEFAULT_ISSUER),
        "REPORT_REGION": _env("REPORT_REGION", "HH"),
        "RULE_SET": _env("RULE_SET", "heihe-2024"),
        "FEED_STALE_DAYS": int(_env("FEED_STALE_DAYS", "45")),
        "VIEW_LOG_DAYS": int(_env("VIEW_LOG_DAYS", "180")),
        "SIGNING_KEYS_RETIRED": _env("SIGNING_KEYS_RETIRED"),  # PEM public keys or paths, comma-separated, or a dir
        "PROXY_COUNT": int(_env("PROXY_COUNT", "0")),  # trusted reverse proxies in front (X-Forwarded-For)
        "VERIFY_OAUTH": _env("VERIFY_OAUTH", "1") not in ("0", "false", "no"),
        "VERIFY_MISS_LIMIT": _env("VERIFY_MISS_LIMIT", "30 per minute"),
        "VERIFY_LOOKUP_LIMIT": _env("VERIFY_LOOKUP_LIMIT", "10 per 10 minutes"),
        "GUIDE_CONTACT": _env("GUIDE_CONTACT", ""),  # phone/address printed in the 办事指南
        "SECRET_KEY": _env("SECRET_KEY", "hegui-development-only" if dev else None),
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024))),
        "RQ_QUEUE": _env("RQ_QUEUE", "hegui"),
        "REPORT_STUCK_SECONDS": int(_env("REPORT_STUCK_SECONDS", "300")),  # the sweep re-enqueues older requests
        "LOG_FORMAT": _env("LOG_FORMAT", "text" if dev else "json"),
        # Cases and staff (see models/policy/casework/cases.py for the basis of the deadlines).
        "CASE_DEADLINE_OBJECTION_DAYS": int(_env("CASE_DEADLINE_OBJECTION_DAYS", "5")),
        "CASE_DEADLINE_REPAIR_DAYS": int(_env("CASE_DEADLINE_REPAIR_DAYS", "5")),
        "CASE_REMIND_WORKDAYS": int(_env("CASE_REMIND_WORKDAYS", "1")),
        "WECOM_RATE_LIMIT": int(_env("WECOM_RATE_LIMIT", "20")),
        "WECOM_RATE_WINDOW": float(_env("WECOM_RATE_WINDOW", "60")),
        "WECOM_BATCH_SECONDS": float(_env("WECOM_BATCH_SECONDS", "5")),
        "WECOM_BATCH_MAX": int(_env("WECOM_BATCH_MAX", "10")),
        "STAFF_IDLE_MINUTES": int(_env("STAFF_IDLE_MINUTES", "30")),
        "STAFF_LOGIN_MAX_FAILURES": int(_env("STAFF_LOGIN_MAX_FAILURES", "5")),
        "STAFF_LOGIN_LOCK_MINUTES": int(_env("STAFF_LOGIN_LOCK_MINUTES", "15")),
        # Imports (models/policy/ingestion/formats.py ReadLimits): what one file may cost. XLSX limits apply at every
        # door; the row limit and the deadline to staff uploads, which a worker imports (jobs/imports.py).
        "IMPORT_XLSX_MAX_INFLATED_MB": int(_env("IMPORT_XLSX_MAX_INFLATED_MB", "256")),
        "IMPORT_XLSX_MAX_SHARED_MB": int(_env("IMPORT_XLSX_MAX_SHARED_MB", "32")),
        "IMPORT_XLSX_MAX_SHARED_STRINGS": int(_env("IMPORT_XLSX_MAX_SHARED_STRINGS", "500000")),
        "IMPORT_UPLOAD_MAX_ROWS": int(_env("IMPORT_UPLOAD_MAX_ROWS", "100000")),
        "IMPORT_MAX_SECONDS": int(_env("IMPORT_MAX_SECONDS", "600")),
        # A registered mobile replaced by another: bindings within this many days go to staff review.
        "MOBILE_CHANGE_REVIEW_DAYS": int(_env("MOBILE_CHANGE_REVIEW_DAYS", "90")),
    }
    if not dev:
        missing = [k for k in ("WECHAT_SECRET", "WECHAT_TOKEN", "SIGNING_KEY", "SECRET_KEY") if not cfg[k]]
        if missing:
            raise ConfigError("production mode requires: " + ", ".join(missing))
    return cfg
