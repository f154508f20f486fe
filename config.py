"""Configuration read from the environment (and a `.env` file in the repo root): docs/CONTRACT.md §1.

Development mode only when asked for: `HEGUI_ENV=development` or `FLASK_DEBUG` — never because a setting is missing.
In production the web, the worker, the scheduler and `flask menu push` refuse to start without the required settings
(`require_settings`); the other commands need only the database and Redis.
"""

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
DEV_WECHAT_TOKEN = "hegui-dev-token"
DEV_WECHAT_APPID = "wxdev0000000000000"
DEV_DOUBLE_BASE = "http://127.0.0.1:5101"
DEV_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
ENVIRONMENTS = ("development", "production")
REQUIRED = ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_TOKEN", "SIGNING_KEY", "SECRET_KEY", "PUBLIC_BASE_URL",
            "GUIDE_CONTACT", "SM2_SIGNING_KEY", "PDF_SIGNING_CERT", "PDF_SIGNING_KEY", "PDF_SIGNING_CHAIN")
NOTICE_TEMPLATES = ("CASE_OUTCOME", "REPORT_CORRECTED", "VIEW_DIGEST", "BINDING_OUTCOME", "MOBILE_CHANGED")
DEFAULT_ISSUER = "黑河市社会信用体系建设领导小组办公室 (信用黑河)"
DEV_GUIDE_CONTACT = "（开发环境）请设置 GUIDE_CONTACT：咨询单位、电话与办公时间"


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def development_mode():
    """True when development mode was asked for (HEGUI_ENV=development or FLASK_DEBUG); ConfigError for an unknown
    HEGUI_ENV."""
    env = (_env("HEGUI_ENV", "production")).strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"HEGUI_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    return env == "development" or _env("FLASK_DEBUG", "0").lower() not in ("0", "false", "no")


def is_loopback(host):
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if (host or "").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_public_base_url(url):
    """ConfigError unless `url` is an origin on https, or on http at a loopback address."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"PUBLIC_BASE_URL must be an origin such as https://credit.example.cn, not {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"PUBLIC_BASE_URL must use https unless its host is a loopback address: {url!r}")


def _dev_secret_key(instance_path):
    """Development only: a random SECRET_KEY kept in instance/ (0600), made on first use — never a constant."""
    path = Path(instance_path) / "secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret-key-{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # whole or not at all; a process that got there first keeps its key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def load_config(instance_path):
    """Return a dict of settings built from the environment; ConfigError for a malformed one. What production lacks
    is listed in MISSING_SETTINGS (see `require_settings`)."""
    load_dotenv(ROOT / ".env", override=False)
    instance_path = Path(instance_path)
    dev = development_mode()
    cfg = {
        "DEV_MODE": dev,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": _env("DATABASE_URL", f"sqlite:///{instance_path / 'hegui.db'}"),
        "REDIS_URL": _env("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "WECHAT_APPID": _env("WECHAT_APPID", DEV_WECHAT_APPID if dev else None),
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
        "PUBLIC_BASE_URL": (_env("PUBLIC_BASE_URL", DEV_PUBLIC_BASE_URL if dev else "") or "").rstrip("/"),
        "WECOM_ROBOT_URL": _env("WECOM_ROBOT_URL"),  # the operator's: trusted as given
        # Hosts a department's robot URL entered in the staff console may point at (comma-separated; https only).
        "WECOM_ROBOT_HOSTS": tuple(h.strip().lower() for h in _env("WECOM_ROBOT_HOSTS", "qyapi.weixin.qq.com")
                                   .split(",") if h.strip()),
        "SMS_BACKEND": _env("SMS_BACKEND", "log"),  # docs/CONTRACT.md §1; devtools/dev.sh points it at the SMS double
        "SMS_WEBHOOK_URL": _env("SMS_WEBHOOK_URL"),
        # One optional category template per notice kind (jobs/notice_kinds.py): "<id>" or "<id> slot=key …".
        **{f"WECHAT_TEMPLATE_{kind}": _env(f"WECHAT_TEMPLATE_{kind}", f"dev-{kind.lower()}" if dev else None)
           for kind in NOTICE_TEMPLATES},
        "OUTBOUND_STALE_SECONDS": int(_env("OUTBOUND_STALE_SECONDS", "120")),  # pending this long: swept, or told
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
        "VERIFY_UNIT_LIMIT": _env("VERIFY_UNIT_LIMIT", "10 per hour"),  # 查验单位 statements per client
        # The contact printed in the 办事指南, on the verify page and the PDF (docs/CONTRACT.md §1).
        "GUIDE_CONTACT": _env("GUIDE_CONTACT", DEV_GUIDE_CONTACT if dev else None),
        # The report's PAdES signature and 国密 signature (issue 12): paths to PEM files, a TSA, the seal image, and
        # the SM2 private key (hex). Unset in development: generated under instance/ (models/policy/report/pki.py).
        "PDF_SIGNING_CERT": _env("PDF_SIGNING_CERT"),
        "PDF_SIGNING_KEY": _env("PDF_SIGNING_KEY"),
        "PDF_SIGNING_CHAIN": _env("PDF_SIGNING_CHAIN"),
        "PDF_TSA_URL": _env("PDF_TSA_URL"),  # set: PAdES B-T; unset: B-B
        "PDF_SEAL_IMAGE": _env("PDF_SEAL_IMAGE"),  # optional; never a seal the office did not issue
        "SM2_SIGNING_KEY": _env("SM2_SIGNING_KEY"),
        "SECRET_KEY": _env("SECRET_KEY") or (_dev_secret_key(instance_path) if dev else None),
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
    cfg["MISSING_SETTINGS"] = () if dev else tuple(k for k in REQUIRED if not cfg[k])
    if not dev and cfg["PUBLIC_BASE_URL"]:
        check_public_base_url(cfg["PUBLIC_BASE_URL"])
    return cfg


def require_settings(cfg):
    """ConfigError naming what production lacks (the web, the worker, the scheduler and `flask menu push` call it)."""
    if cfg.get("MISSING_SETTINGS"):
        raise ConfigError("production mode requires: " + ", ".join(cfg["MISSING_SETTINGS"]))
