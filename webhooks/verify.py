"""The verify pages a 合规一码通 QR code opens: the report as signed, its status, the signed data, the PDF, the keys.

Everything shown comes from the frozen snapshot (the signed certificate), never from live records; only the status
(revoked, superseded, corrected, expired) is live, so a revocation shows at once (nothing is cached).
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

import requests
from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from redis.exceptions import RedisError

from jobs.gateways.wechat import WeChatAPI, WeChatAPIError
from models.base import LOCAL_TZ, db, to_local, utcnow
from models.policy.report import signing
from models.tables.accounts import WechatUser
from models.tables.reports import (
    CORRECTED,
    EXPIRED,
    REVOKED,
    SUPERSEDED,
    VALID,
    Report,
    ViewLog,
    report_status,
)
from webhooks import security

log = logging.getLogger(__name__)

bp = Blueprint("verify", __name__)
lookup_bp = Blueprint("verify_lookup", __name__)

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
PEM_RE = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)
JSON_FORMAT = "hegui.verify/1"
OAUTH_STATE = "hv1"
VIEW_DEDUP_SECONDS = 60
UNIT_DEDUP_SECONDS = 86400  # one stated 查验单位 per viewer and report a day; a second statement corrects the first
UNIT_MIN, UNIT_MAX = 2, 60
STATUS_CLASS = {VALID: "ok", EXPIRED: "expired", REVOKED: "revoked", CORRECTED: "corrected", SUPERSEDED: "superseded"}
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![0-9A-Za-z])")


def init_app(app):
    """Register the verify blueprints, their miss limits (per client IP) and security headers."""
    for blueprint in (bp, lookup_bp):
        app.register_blueprint(blueprint)
    security.limit_misses(app, bp, app.config["VERIFY_MISS_LIMIT"], "verify-token-miss")
    security.limit_misses(app, lookup_bp, app.config["VERIFY_LOOKUP_LIMIT"], "verify-lookup-miss")
    security.limit_route(app, "verify.state_unit", app.config["VERIFY_UNIT_LIMIT"], "verify-unit")
    app.jinja_env.filters["cn_date"] = cn_date
    app.jinja_env.filters["cn_datetime"] = cn_datetime
    app.jinja_env.filters["redact"] = redact


@bp.after_request
@lookup_bp.after_request
def _headers(response):
    return security.secure_headers(response)


# -- pure helpers (no Flask) -------------------------------------------------------------------------------------


def cn_date(value):
    """`2026-11-27` (or an ISO datetime) as 2026年11月27日; '' for None."""
    if not value:
        return ""
    year, month, day = str(value)[:10].split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def cn_datetime(value):
    """An ISO datetime with offset as 2026年11月27日 09:30 (China time)."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return f"{cn_date(moment.date().isoformat())} {moment:%H:%M}"


def redact(text):
    """Mask anything shaped like a mobile or a resident ID number in free text (a department may have typed one)."""
    if not text:
        return text
    text = ID_NUMBER_RE.sub(lambda m: m.group(0)[:3] + "*" * 11 + m.group(0)[-4:], str(text))
    return MOBILE_RE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


def normalise_code(value):
    """A typed report number or 查验码: full-width to half-width, no spaces, upper case."""
    text = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"\s+", "", text).upper()


def find_report(token):
    """The report for a well-formed token, or None."""
    if not TOKEN_RE.fullmatch(token or ""):
        return None
    return Report.get_or_none(Report.token == token)


def find_by_number(number, check_code):
    """The report whose number and 查验码 both match, or None (same answer whichever was wrong)."""
    number, check_code = normalise_code(number), normalise_code(check_code).replace("-", "")
    report = Report.get_or_none(Report.number == number) if number else None
    stored = normalise_code(report.check_code) if report else "-"
    matched = hmac.compare_digest(stored.encode(), check_code.encode())
    return report if report is not None and matched else None


def status_view(report, snapshot, now=None):
    """The status banner: CSS class, the big words, and one sentence saying what it means."""
    status = report_status(report, now)
    if status == VALID:
        label = f"有效（至 {cn_datetime(snapshot['valid_until'])}）"
        detail = "本报告在有效期内，内容与签发时一致。"
    elif status == EXPIRED:
        label = EXPIRED
        detail = f"本报告有效期至 {cn_datetime(snapshot['valid_until'])}，已过期。如需使用，请向企业索取新报告。"
    elif status == REVOKED:
        label = REVOKED
        detail = f"本报告已于 {_local_minute(report.revoked_at)} 由企业撤销，不再作为证明使用。"
    elif status == CORRECTED:
        label = CORRECTED
        detail = "签发后，本报告所列记录已被更正：" + (report.correction_note or "相关部门更正了报告所列记录。")
        detail += " 本报告内容已不能反映当前信用状况，请向企业索取新报告。"
    else:
        label = SUPERSEDED
        detail = "企业已就同一用途开具了新的报告，本报告不再作为证明使用。请向企业索取最新报告。"
    return {"status": status, "css": STATUS_CLASS[status], "label": label, "detail": detail}


def _local_minute(moment):
    local = to_local(moment)
    return f"{cn_date(local.date().isoformat())} {local:%H:%M}" if local else ""


def published_keys(config):
    """The current public key and the retired ones (SIGNING_KEYS_RETIRED), each with its key id."""
    private = signing.load_private_key(config.get("SIGNING_KEY"), config["INSTANCE_PATH"], config["DEV_MODE"])
    current = private.public_key()
    keys = [_key_entry(current, "current")]
    seen = {keys[0]["key_id"]}
    for pem in retired_pems(config.get("SIGNING_KEYS_RETIRED")):
        entry = _key_entry(signing.load_public_key(pem), "retired")
        if entry["key_id"] not in seen:
            seen.add(entry["key_id"])
            keys.append(entry)
    return keys


def _key_entry(public_key, status):
    return {"key_id": signing.key_id(public_key), "algorithm": signing.ALGORITHM,
            "public_key_pem": signing.public_pem(public_key), "status": status}


def retired_pems(setting):
    """PEM public keys from SIGNING_KEYS_RETIRED: PEM text, file paths (comma-separated), or a directory of *.pem."""
    if not setting:
        return []
    texts = []
    if "BEGIN" not in setting and Path(setting.strip()).is_dir():
        texts = [p.read_text() for p in sorted(Path(setting.strip()).glob("*.pem"))]
    else:
        for part in setting.split(","):
            part = part.strip()
            if part:
                texts.append(part if "BEGIN" in part else Path(part).read_text())
    return PEM_RE.findall("\n".join(texts).replace("\\n", "\n"))


def record_view(redis, report, ip, user_agent, openid, unit):
    """Log one view; a refresh within VIEW_DEDUP_SECONDS by the same client adds nothing. Returns the ViewLog id."""
    key = _view_key(report.id, ip, user_agent, openid)
    try:
        if not redis.set(key, 0, nx=True, ex=VIEW_DEDUP_SECONDS):
            return int(redis.get(key) or 0) or None
    except RedisError:
        log.warning("view dedup unavailable (Redis); logging the view anyway", exc_info=True)
        key = None
    with db.atomic():
        row = ViewLog.create(report=report, unit=unit, openid=openid, ip=ip[:64], user_agent=user_agent[:1000])
    if key:
        redis.set(key, row.id, xx=True, ex=VIEW_DEDUP_SECONDS)
    return row.id


def _view_key(report_id, ip, user_agent, openid):
    client = hashlib.sha256(f"{ip}\n{user_agent}\n{openid or ''}".encode()).hexdigest()[:24]
    return f"hegui:view:{report_id}:{client}"


def _viewer_key(report_id, ip, openid):
    """Who states a unit: their openid when OAuth told us, else their address (a User-Agent is the sender's choice)."""
    viewer = hashlib.sha256(f"{openid or ''}\n{'' if openid else ip}".encode()).hexdigest()[:24]
    return f"hegui:view-unit:{report_id}:{viewer}"


def record_unit(redis, report, ip, user_agent, openid, unit):
    """Put the stated unit on the viewer's view of `report`: once per viewer a day (a later statement corrects it),
    never a new 查验单位 entry per POST. Returns the ViewLog id."""
    key = _viewer_key(report.id, ip, openid)
    try:
        earlier = redis.get(key)
    except RedisError:
        log.warning("unit dedup unavailable (Redis)", exc_info=True)
        earlier, key = None, None
    view_id = int(earlier) if earlier else record_view(redis, report, ip, user_agent, openid, unit)
    if view_id:
        ViewLog.set_unit(view_id, unit)
        if key:
            redis.set(key, view_id, ex=UNIT_DEDUP_SECONDS)
    return view_id


def clean_unit(raw):
    """The stated unit, trimmed; None when it is not a plausible unit name."""
    text = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if not UNIT_MIN <= len(text) <= UNIT_MAX or any(unicodedata.category(c).startswith("C") for c in text):
        return None
    return text


def remember_unit(openid, unit):
    """Keep the verifier's unit on their WechatUser (made on first sight, not as a follower)."""
    with db.atomic():
        user, _ = WechatUser.get_or_create(openid=openid, defaults={"subscribed": False})
        user.verifier_unit = unit
        user.save(only=[WechatUser.verifier_unit])


# -- views -------------------------------------------------------------------------------------------------------


def _runtime():
    return current_app.extensions["hegui"]


def _not_found():
    security.mark_miss()
    return make_response(render_template("verify/not_found.html"), 404)


def _client():
    return request.remote_addr or "", request.headers.get("User-Agent", "")


def _in_wechat():
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def _oauth_step(token):
    """Inside WeChat with no openid yet: redirect once to the authorize URL, or take the returned code."""
    if not current_app.config.get("VERIFY_OAUTH") or not _in_wechat() or session.get("openid"):
        return None
    code = request.args.get("code")
    if request.args.get("state") == OAUTH_STATE:
        session["oauth_tried"] = True
        if code:
            _exchange(code)
        return None
    if session.get("oauth_tried"):
        return None
    session["oauth_tried"] = True
    api = WeChatAPI(current_app.config, _runtime().redis)
    target = current_app.config["PUBLIC_BASE_URL"] + url_for("verify.page", token=token)
    return redirect(api.oauth_authorize_url(target, OAUTH_STATE), 302)


def _exchange(code):
    """Trade the one-use code for the openid; on any failure show the page without it."""
    try:
        openid = WeChatAPI(current_app.config, _runtime().redis).oauth_exchange(code)
    except (WeChatAPIError, requests.RequestException) as exc:
        log.warning("OAuth code exchange failed: %s", exc)
        return
    session["openid"] = openid
    if not session.get("verifier_unit"):
        user = WechatUser.get_or_none(WechatUser.openid == openid)
        if user and user.verifier_unit:
            session["verifier_unit"] = user.verifier_unit


def _render_report(report, unit_error=None, status=200):
    snapshot = json.loads(report.snapshot)
    return make_response(
        render_template(
            "verify/report.html",
            report=report,
            r=snapshot,
            status=status_view(report, snapshot),
            unit=session.get("verifier_unit"),
            unit_error=unit_error,
            pdf_ready=bool(report.pdf_ready_at),
        ),
        status,
    )


@bp.get("/v/<token>")
def page(token):
    """The report page (200 whatever its status), or a plain 404."""
    report = find_report(token)
    if report is None:
        return _not_found()
    step = _oauth_step(token)
    if step is not None:
        return step
    ip, agent = _client()
    record_view(_runtime().redis, report, ip, agent, session.get("openid"), session.get("verifier_unit"))
    return _render_report(report)


@bp.post("/v/<token>/unit")
def state_unit(token):
    """The verifier states their unit once: kept in the session, on their WechatUser, and on their view (limited
    per client, one entry per viewer and report)."""
    report = find_report(token)
    if report is None:
        return _not_found()
    unit = clean_unit(request.form.get("unit"))
    if unit is None:
        return _render_report(report, unit_error=f"请填写单位全称（{UNIT_MIN}–{UNIT_MAX} 个字）。", status=400)
    session["verifier_unit"] = unit
    openid = session.get("openid")
    if openid:
        remember_unit(openid, unit)
    ip, agent = _client()
    record_unit(_runtime().redis, report, ip, agent, openid, unit)
    return redirect(url_for("verify.page", token=token), 303)


@bp.get("/v/<token>/json")
def signed_json(token):
    """The signed canonical data for an offline check (format hegui.verify/1, see the README)."""
    report = find_report(token)
    if report is None:
        return _not_found()
    document = {
        "format": JSON_FORMAT,
        "report": json.loads(report.snapshot),
        "canonical": report.snapshot,
        "digest": report.digest,
        "signature": report.signature,
        "algorithm": report.algorithm,
        "key_id": report.key_id,
        "keys_url": current_app.config["PUBLIC_BASE_URL"] + url_for("verify.keys"),
        "status": report_status(report),
        "status_checked_at": to_local(utcnow()).isoformat(timespec="seconds"),
    }
    body = json.dumps(document, ensure_ascii=False, indent=1)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = _disposition(report.number, "json")
    return response


@bp.get("/v/<token>/pdf")
def pdf(token):
    """The PDF once it is ready; until then a friendly page that refreshes itself."""
    report = find_report(token)
    if report is None:
        return _not_found()
    if not report.pdf_ready_at or not report.pdf:
        return make_response(render_template("verify/pdf_pending.html", token=token), 202)
    response = Response(bytes(report.pdf), mimetype="application/pdf")
    response.headers["Content-Disposition"] = _disposition(report.number, "pdf")
    return response


def _disposition(number, ext):
    """inline, with an ASCII fallback and the Chinese name per RFC 5987."""
    return f"inline; filename=\"report-{number}.{ext}\"; filename*=UTF-8''{quote(f'专用信用报告-{number}.{ext}')}"


@bp.get("/keys")
def keys():
    """The public signing keys (current and retired) with their ids."""
    body = json.dumps({"keys": published_keys(current_app.config)}, ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json")


@lookup_bp.route("/verify", methods=["GET", "POST"])
def lookup():
    """Look a report up by number + 查验码; a failure never says which of the two was wrong."""
    number, code = request.values.get("number", ""), request.values.get("code", "")
    if request.method == "GET" and not (number or code):
        return render_template("verify/lookup.html", number="", error=None)
    if not normalise_code(number) or not normalise_code(code):
        error = "请填写报告编号和查验码。"
        return make_response(render_template("verify/lookup.html", number=number, error=error), 400)
    report = find_by_number(number, code)
    if report is None:
        security.mark_miss()
        error = "未查到与所填报告编号和查验码相符的报告。请核对纸质报告上的编号和查验码后重试。"
        return make_response(render_template("verify/lookup.html", number=number, error=error), 404)
    return redirect(url_for("verify.page", token=report.token), 303)

