"""Configuration read from the environment (and a `.env` file in the repo root): docs/CONTRACT.md §1.

`SETTINGS` is the one table of every setting: its name, type, default, whether production requires it, what it means,
and the table of docs/CONTRACT.md §1 that lists it. `load_config` reads and checks them all once, when the app is
created (the web, the worker, the scheduler, every `flask` command): a value that does not parse is a ConfigError
naming the setting, at start, never a surprise in a job. Call sites read `config["NAME"]`, every setting being present
(None when unset), and never default it again. The README's configuration table is generated from `SETTINGS`
(`python -m devtools.settings_table --write`), and tests/test_config_table.py holds the README and docs/CONTRACT.md §1
to it.

Development mode only when asked for: `HEGUI_ENV=development` or `FLASK_DEBUG` — never because a setting is missing.
In production the web, the worker, the scheduler and `flask menu push` refuse to start without the required settings
(`require_settings`); the other commands need only the database and Redis.
"""

import ipaddress
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv
from limits import parse_many

ROOT = Path(__file__).resolve().parent
DEV_WECHAT_TOKEN = "hegui-dev-token"
DEV_WECHAT_APPID = "wxdev0000000000000"
DEV_DOUBLE_BASE = "http://127.0.0.1:5101"
DEV_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
ENVIRONMENTS = ("development", "production")
NOTICE_TEMPLATES = ("CASE_OUTCOME", "REPORT_CORRECTED", "VIEW_DIGEST", "BINDING_OUTCOME", "MOBILE_CHANGED")
DEFAULT_ISSUER = "黑河市社会信用体系建设领导小组办公室（信用黑河）"
DEV_GUIDE_CONTACT = "（开发环境）请设置 GUIDE_CONTACT：咨询单位、电话与办公时间"
ORIGINAL, EXTENSION = "§1", "§1 [ext]"  # docs/CONTRACT.md §1: the original contract's table, the project's additions
DERIVED = ("DEV_MODE", "INSTANCE_PATH", "MISSING_SETTINGS")  # keys load_config adds beside the settings


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


# -- types: how a setting's text from the environment becomes its value -------------------------------------------


@dataclass(frozen=True)
class Type:
    """`parse` turns the environment's text into the value (ValueError saying what it should be, when it cannot);
    `python` are the types a value given in code (`create_app(config)`, tests) may already have; `check` vets one."""

    name: str  # as the README's table says it
    parse: Callable[[str], object]
    python: tuple = (str,)
    check: Callable[[object], object] = lambda value: value


def _amount(cast, what):
    def check(value):
        if isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ValueError(f"a {what} ≥ 0")
        return cast(value)

    def parse(text):
        try:
            value = cast(text.strip())
        except ValueError:
            raise ValueError(f"a {what} ≥ 0") from None
        return check(value)

    return parse, check


def _bool(text):
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError("on or off (1/0, true/false, yes/no)")


def _url(schemes, what):
    def parse(text):
        text = text.strip()
        parts = urlsplit(text)
        if parts.scheme.split("+")[0] not in schemes or not (parts.netloc or parts.path):
            raise ValueError(f"{what} ({' or '.join(f'{s}://…' for s in schemes)})")
        return text

    return parse


def _web_url(text):
    parts = urlsplit(text.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("an http(s) URL with a host")
    return text.strip()


def _origin(text):
    parts = urlsplit(text.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError("an origin such as https://credit.example.cn")
    return text.strip().rstrip("/")


def _path(text):
    if "\n" in text or text.lstrip().startswith("-----BEGIN"):
        raise ValueError("the path of a file (not the file's text)")
    return os.path.expanduser(text.strip())


def _hosts(text):
    hosts = tuple(h.strip().lower() for h in text.split(",") if h.strip())
    if not hosts or any(not h.replace("-", "").replace(".", "").isalnum() for h in hosts):
        raise ValueError("host names, comma-separated")
    return hosts


_number, _number_check = _amount(float, "number")


def _numbers(text):
    return tuple(_number(x) for x in text.split(","))


def _rate(text):
    parse_many(text)  # ValueError: couldn't parse rate limit string
    return text.strip()


def choice(*values):
    def parse(text):
        if text.strip().lower() not in values:
            raise ValueError(f"one of {', '.join(values)}")
        return text.strip().lower()

    return Type("one of " + ", ".join(f"`{v}`" for v in values), parse)


_whole, _whole_check = _amount(int, "whole number")
TEXT = Type("text", lambda text: text)
INT = Type("whole number", _whole, (int,), _whole_check)
FLOAT = Type("number", _number, (int, float), _number_check)
BOOL = Type("on/off", _bool, (bool,))
URL = Type("URL", _web_url)
ORIGIN = Type("origin", _origin)
PATH = Type("path", _path)
HOSTS = Type("host names", _hosts, (tuple, list), lambda value: tuple(value))
NUMBERS = Type("numbers", _numbers, (tuple, list), lambda value: tuple(_number_check(x) for x in value))
RATE = Type("rate limit", _rate)
DATABASE = Type("database URL", _url(("sqlite", "postgresql", "postgres"), "a peewee db_url"))
REDIS = Type("Redis URL", _url(("redis", "rediss", "unix"), "a Redis URL"))


# -- the table -------------------------------------------------------------------------------------------------------

SAME = object()  # a development default the same as production's


@dataclass(frozen=True)
class Setting:
    """One environment variable. `default` and `dev` are written as in the environment (parsed like a given value),
    or a function of the instance folder; `shown` words a default the docs cannot print as a value."""

    name: str
    type: Type
    default: object
    meaning: str
    contract: str = EXTENSION
    required: bool = False  # in production (require_settings names it when unset)
    dev: object = SAME
    shown: str = ""

    def read(self, given, dev, instance_path):
        """The typed value from `given` (the environment's text, or a value in code), else the default."""
        if given is None or given == "":
            given = self.default if not dev or self.dev is SAME else self.dev
            given = given(instance_path) if callable(given) else given
            if given is None:
                return None
        try:
            if isinstance(given, str):
                return self.type.parse(given)
            if not isinstance(given, self.type.python):
                raise ValueError(f"a {self.type.name}")
            return self.type.check(given)
        except ValueError as exc:
            raise ConfigError(f"{self.name} must be {exc}, not {given!r}") from None


def _database(instance_path):
    return f"sqlite:///{Path(instance_path) / 'hegui.db'}"


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


S = Setting
SETTINGS = (
    # The service and its processes
    S("DATABASE_URL", DATABASE, _database, "`sqlite:///path.db` or `postgresql://user@host:port/db`", ORIGINAL,
      shown="an SQLite file under `instance/`"),
    S("REDIS_URL", REDIS, "redis://127.0.0.1:6379/0", "RQ, conversation state, the access-token cache, dedup",
      ORIGINAL),
    S("HEGUI_ENV", choice(*ENVIRONMENTS), "production", "`development` or `production` (development mode only when "
      "asked for: this, or `FLASK_DEBUG`)", ORIGINAL),
    S("LOG_FORMAT", choice("text", "json"), "json", "`text`, or `json` (one object per line with the trace id)",
      dev="text"),
    S("RQ_QUEUE", TEXT, "hegui", "the main RQ queue's name; PDFs go to `<name>-slow`"),
    S("REPORT_STUCK_SECONDS", INT, "300", "requests queued or building longer than this (seconds) are re-enqueued by "
      "the scheduler's sweep"),
    S("MAX_CONTENT_LENGTH", INT, "20971520", "the largest request body (bytes) Flask accepts (uploads); `/wechat` has "
      "its own 64 KB cap"),
    S("PROXY_COUNT", INT, "0", "trusted reverse proxies in front (for `X-Forwarded-For`)"),
    # The official account
    S("WECHAT_APPID", TEXT, None, "the official account's appid (a verified 服务号)", ORIGINAL, required=True,
      dev=DEV_WECHAT_APPID),
    S("WECHAT_SECRET", TEXT, None, "the official account's AppSecret", ORIGINAL, required=True, dev="dev-secret"),
    S("WECHAT_TOKEN", TEXT, None, "the Token of the account's server configuration", ORIGINAL, required=True,
      dev=DEV_WECHAT_TOKEN),
    S("WECHAT_AES_KEY", TEXT, None, "the EncodingAESKey (43 characters): set, safe mode; unset, plaintext mode",
      ORIGINAL),
    S("WECHAT_AES_KEY_PREVIOUS", TEXT, None, "the EncodingAESKey before the last rotation, still tried", ORIGINAL),
    S("WECHAT_ACCEPT_PLAINTEXT", BOOL, "off", "accept plaintext POSTs while `WECHAT_AES_KEY` is set: only for the "
      "hours of a mode switch", ORIGINAL, shown="`off`: such POSTs get 403"),
    S("WECHAT_MAX_SKEW", INT, "300", "seconds a signed request's `timestamp` may differ from our clock (else 403)",
      ORIGINAL),
    S("WECHAT_API_BASE", URL, "https://api.weixin.qq.com/cgi-bin/", "base of every official-account API call, the "
      "token endpoint included", ORIGINAL, dev=f"{DEV_DOUBLE_BASE}/cgi-bin/"),
    S("WECHAT_OAUTH_BASE", URL, None, "host of web OAuth (`/sns/oauth2/access_token`, `/connect/oauth2/authorize`)",
      ORIGINAL, dev=DEV_DOUBLE_BASE, shown="WeChat's (`api.weixin.qq.com` / `open.weixin.qq.com`); the local double "
      "in development mode"),
    S("WECHAT_REPLY_WAIT", FLOAT, "3", "seconds a retried message waits for the first attempt's reply"),
    S("WECHAT_HTTP_TIMEOUT", FLOAT, "10", "read timeout (seconds) of outbound WeChat calls"),
    S("WECHAT_BUSY_BACKOFF", NUMBERS, "0.2,0.5,1.0", "back-off steps (seconds) after WeChat answers -1 (busy)"),
    *(S(f"WECHAT_TEMPLATE_{kind}", TEXT, None, "the category template of a notice kind for when WeChat's window is "
        "closed: `<id>`, or `<id> slot=key …` to renumber keys (`jobs/notice_kinds.py`); without one that kind waits "
        "for the owner's next message", dev=f"dev-{kind.lower()}",
        shown="a dummy id per kind in development mode; unset otherwise") for kind in NOTICE_TEMPLATES),
    S("OUTBOUND_STALE_SECONDS", INT, "120", "a message pending this long (seconds) whose job is gone is re-sent by "
      "the sweep, or told at the owner's next message"),
    S("MOBILE_CHANGE_REVIEW_DAYS", INT, "90", "a registered mobile replaced by another: bindings made within this "
      "many days go to staff review"),
    # Sessions, links, the guide, the SMS
    S("SECRET_KEY", TEXT, None, "sessions and CSRF tokens", ORIGINAL, required=True, dev=_dev_secret_key,
      shown="random per instance (`instance/secret-key`) in development mode; required otherwise"),
    S("PUBLIC_BASE_URL", ORIGIN, None, "the public origin QR codes and links point to; https unless its host is a "
      "loopback address", ORIGINAL, required=True, dev=DEV_PUBLIC_BASE_URL),
    S("GUIDE_CONTACT", TEXT, None, "the contact (office, telephone, hours) in the 办事指南, on the verify page and "
      "the PDF, and given by the bot", ORIGINAL, required=True, dev=DEV_GUIDE_CONTACT,
      shown="a placeholder in development mode; required otherwise"),
    S("SMS_BACKEND", choice("log", "http"), "log", "how binding codes reach the registered mobile: `log`, or `http` "
      "(POST JSON to `SMS_WEBHOOK_URL`)", ORIGINAL),
    S("SMS_WEBHOOK_URL", URL, None, "where `SMS_BACKEND=http` posts `{\"mobile\", \"text\"}`", ORIGINAL),
    # The report and its signatures
    S("REPORT_VALID_DAYS", INT, "30", "how many days a report is valid", ORIGINAL),
    S("REPORT_ISSUER", TEXT, DEFAULT_ISSUER, "the issuing body printed on the report", ORIGINAL),
    S("REPORT_REGION", TEXT, "HH", "the region prefix of report numbers"),
    S("RULE_SET", TEXT, "heihe-2024", "the rule set new reports use: `heihe-2024` (the 黑河 plan) or `ndrc-2025` "
      "(发改财金〔2025〕565号); see 规则"),
    S("FEED_STALE_DAYS", INT, "45", "a feed older than this (days) is stale: its domain is not certified clean"),
    S("SIGNING_KEY", TEXT, None, "the Ed25519 private key that signs reports: PEM text or a path", ORIGINAL,
      required=True, shown="generated under `instance/` in development mode only; required otherwise"),
    S("SIGNING_KEYS_RETIRED", TEXT, None, "retired public keys (PEM text, comma-separated paths, or a folder of "
      "`*.pem`), still listed at `/keys`"),
    S("SM2_SIGNING_KEY", TEXT, None, "the SM2 private key (64 hex digits, or a path to a file of them) for the 国密 "
      "signature", ORIGINAL, required=True, shown="generated under `instance/` in development mode only; required "
      "otherwise"),
    S("PDF_SIGNING_CERT", PATH, None, "the PDF signer's certificate (PEM), from a licensed 电子认证服务机构", ORIGINAL,
      required=True, shown="a local CA and signer under `instance/` in development mode only; required otherwise"),
    S("PDF_SIGNING_KEY", PATH, None, "the PDF signer's private key (PEM)", ORIGINAL, required=True,
      shown="a local CA and signer under `instance/` in development mode only; required otherwise"),
    S("PDF_SIGNING_CHAIN", PATH, None, "the CA certificates the PDF signer chains to (PEM bundle)", ORIGINAL,
      required=True, shown="a local CA and signer under `instance/` in development mode only; required otherwise"),
    S("PDF_TSA_URL", URL, None, "an RFC 3161 timestamp server: set, PDF signatures are PAdES B-T; unset, B-B",
      ORIGINAL),
    S("PDF_SEAL_IMAGE", PATH, None, "PNG of the issuer's seal as its registered 电子印章 system issues it", ORIGINAL,
      shown="unset: a placeholder marked 「样章（仅供测试）」 in development, text only in production"),
    # The verify page
    S("VIEW_LOG_DAYS", INT, "180", "how many days verify-page views are kept"),
    S("VERIFY_OAUTH", BOOL, "on", "silent WeChat OAuth on the verify page (learns the scanner's openid)"),
    S("VERIFY_MISS_LIMIT", RATE, "30 per minute", "requests for unknown tokens, per client"),
    S("VERIFY_LOOKUP_LIMIT", RATE, "10 per 10 minutes", "failed 编号 + 查验码 lookups, per client"),
    S("VERIFY_UNIT_LIMIT", RATE, "10 per hour", "stated 查验单位 per client (one entry per viewer and report a day)"),
    # Cases, staff and the WeCom robots
    S("CASE_DEADLINE_OBJECTION_DAYS", INT, "5", "an objection's deadline, in working days"),
    S("CASE_DEADLINE_REPAIR_DAYS", INT, "5", "a repair request's deadline, in working days"),
    S("CASE_REMIND_WORKDAYS", INT, "1", "how many working days before a deadline staff are reminded"),
    S("STAFF_IDLE_MINUTES", INT, "30", "a staff session's idle expiry (minutes)"),
    S("STAFF_LOGIN_MAX_FAILURES", INT, "5", "failed staff logins before the account is locked out"),
    S("STAFF_LOGIN_LOCK_MINUTES", INT, "15", "how long (minutes) the lock-out lasts"),
    S("WECOM_ROBOT_URL", URL, None, "the default WeCom group-robot webhook, trusted as the operator gives it",
      ORIGINAL, shown="unset: notices are logged"),
    S("WECOM_ROBOT_HOSTS", HOSTS, "qyapi.weixin.qq.com", "hosts a department's robot URL entered in the console may "
      "name (https, `/cgi-bin/webhook/send?key=…`)"),
    S("WECOM_RATE_LIMIT", INT, "20", "messages one robot may send per `WECOM_RATE_WINDOW`"),
    S("WECOM_RATE_WINDOW", FLOAT, "60", "the robot's window (seconds)"),
    S("WECOM_BATCH_SECONDS", FLOAT, "5", "how long (seconds) notices wait to be merged into one robot message"),
    S("WECOM_BATCH_MAX", INT, "10", "at most this many notices in one robot message"),
    # Imports (models/policy/ingestion/formats.py ReadLimits): the XLSX limits at every door; rows and time of uploads
    S("IMPORT_XLSX_MAX_INFLATED_MB", INT, "256", "what an XLSX may inflate to (MB), at every door"),
    S("IMPORT_XLSX_MAX_SHARED_MB", INT, "32", "what an XLSX's shared strings may take (MB), at every door"),
    S("IMPORT_XLSX_MAX_SHARED_STRINGS", INT, "500000", "how many shared strings an XLSX may hold, at every door"),
    S("IMPORT_UPLOAD_MAX_ROWS", INT, "100000", "rows of a staff upload (blank rows count)"),
    S("IMPORT_MAX_SECONDS", INT, "600", "seconds a staff upload may take on the worker"),
)
del S
BY_NAME = {s.name: s for s in SETTINGS}
REQUIRED = tuple(s.name for s in SETTINGS if s.required)


# -- reading ---------------------------------------------------------------------------------------------------------


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def development_mode():
    """True when development mode was asked for (HEGUI_ENV=development or FLASK_DEBUG); ConfigError for an unknown
    HEGUI_ENV."""
    env = BY_NAME["HEGUI_ENV"].read(_env("HEGUI_ENV"), False, None)
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
    try:
        parts = urlsplit(_origin(url or ""))
    except ValueError:
        raise ConfigError(f"PUBLIC_BASE_URL must be an origin such as https://credit.example.cn, not {url!r}") from None
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"PUBLIC_BASE_URL must use https unless its host is a loopback address: {url!r}")


def load_config(instance_path, given=None):
    """Every setting of SETTINGS, typed, from `given` (values in code: the app factory's mapping, tests; None there
    means unset), else the environment, else its default; ConfigError naming a malformed one. Keys of `given` that
    are no setting (Flask's own, TESTING, a derived key) are kept as given. What production lacks is listed in
    MISSING_SETTINGS (see `require_settings`)."""
    load_dotenv(ROOT / ".env", override=False)
    given = dict(given or {})
    instance_path = Path(instance_path)
    dev = development_mode()
    cfg = {"DEV_MODE": dev, "INSTANCE_PATH": str(instance_path)}
    for setting in SETTINGS:
        if setting.name in given and given[setting.name] is None:  # unset on purpose (a test of the absent case)
            cfg[setting.name] = given.pop(setting.name)
            continue
        value = given.pop(setting.name) if setting.name in given else _env(setting.name)
        cfg[setting.name] = setting.read(value, dev, instance_path)
    cfg["MISSING_SETTINGS"] = () if dev else tuple(k for k in REQUIRED if not cfg[k])
    if not dev and cfg["PUBLIC_BASE_URL"]:
        check_public_base_url(cfg["PUBLIC_BASE_URL"])
    cfg.update(given)
    return cfg


def require_settings(cfg):
    """ConfigError naming what production lacks (the web, the worker, the scheduler and `flask menu push` call it)."""
    if cfg["MISSING_SETTINGS"]:
        raise ConfigError("production mode requires: " + ", ".join(cfg["MISSING_SETTINGS"]))
