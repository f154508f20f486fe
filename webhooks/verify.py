"""The verify pages a 合规一码通 QR code opens: the report as signed, its status, the signed data, the PDF, the keys.

Everything shown comes from the frozen snapshot (the signed certificate), never from live records; only the status
(revoked, superseded, corrected, expired) is live, so a revocation shows at once: the live fields come from this
process's copy, else Redis's, else the database, and every change forgets the copies once committed
(jobs/live_reports.py).
"""

import base64
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

from jobs import live_reports, views
from jobs.gateways.wechat import WECHAT_OPEN, WeChatAPI, WeChatAPIError
from models.base import to_local, utcnow
from models.policy.report import pki, present, signing, sm2, summary
from models.policy.report.present import cn_date, cn_datetime
from models.tables.accounts import remember_verifier_unit, verifier_unit_of
from models.tables.reports import CORRECTED, EXPIRED, REVOKED, SUPERSEDED, VALID, Report, report_status
from runtime import LRU
from webhooks import security

log = logging.getLogger(__name__)

bp = Blueprint("verify", __name__)
lookup_bp = Blueprint("verify_lookup", __name__)

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
PEM_RE = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)
JSON_FORMAT = "hegui.verify/1"
OAUTH_STATE = "hv1"
UNIT_MIN, UNIT_MAX = 2, 60
PAGE_CACHE_SIZE = 512  # rendered report pages kept per process (a cache: any node renders its own)
STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)
STATUS_CLASS = {VALID: "ok", EXPIRED: "expired", REVOKED: "revoked", CORRECTED: "corrected", SUPERSEDED: "superseded"}


def init_app(app):
    """Register the verify blueprints, their miss limits (per client IP) and security headers."""
    # Rendered pages by everything they show that can change (_page_key): the signed snapshot never does, so a page
    # is rendered once per report, status, PDF readiness and stated unit.
    app.extensions["verify_pages"] = LRU(PAGE_CACHE_SIZE)
    app.extensions["verify_live"] = live_reports.Local(app.config["REDIS_URL"])
    for blueprint in (bp, lookup_bp):
        app.register_blueprint(blueprint)
    security.limit_misses(app, bp, app.config["VERIFY_MISS_LIMIT"], "verify-token-miss", exempt_when=_known_token)
    security.limit_misses(app, lookup_bp, app.config["VERIFY_LOOKUP_LIMIT"], "verify-lookup-miss")
    security.limit_route(app, "verify.state_unit", app.config["VERIFY_UNIT_LIMIT"], "verify-unit")
    app.jinja_env.filters.update(present.FILTERS)  # the same filters as the PDF's (models/policy/report/present.py)


@bp.after_request
@lookup_bp.after_request
def _headers(response):
    return security.secure_headers(response, form_targets=_form_targets())


def _form_targets():
    """Origins a form on these pages may end up at: a lookup or a stated unit lands on /v/<token>, which inside
    WeChat redirects once to the OAuth page; CSP form-action also governs those redirects, so the OAuth origin is
    allowed beside our own (else the form does nothing inside WeChat)."""
    if not current_app.config["VERIFY_OAUTH"]:
        return ()
    return (security.origin_of(current_app.config["WECHAT_OAUTH_BASE"] or WECHAT_OPEN),)


# -- pure helpers (no Flask) -------------------------------------------------------------------------------------


def normalise_code(value):
    """A typed report number or 查验码: full-width to half-width, no spaces, upper case."""
    text = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"\s+", "", text).upper()


def find_report(token):
    """The report for a well-formed token, or None."""
    if not TOKEN_RE.fullmatch(token or ""):
        return None
    return Report.by_token(token)


def find_by_number(number, check_code):
    """The report whose number and 查验码 both match, or None (same answer whichever was wrong)."""
    number, check_code = normalise_code(number), normalise_code(check_code).replace("-", "")
    report = Report.by_number(number) if number else None
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
    """The current SM2 and Ed25519 public keys and the retired Ed25519 ones (SIGNING_KEYS_RETIRED), with key ids."""
    private = signing.load_private_key(config["SIGNING_KEY"], config["INSTANCE_PATH"], config["DEV_MODE"])
    current = private.public_key()
    sm2_key = sm2.load_private_key(config["SM2_SIGNING_KEY"], config["INSTANCE_PATH"], config["DEV_MODE"])
    keys = [{"key_id": sm2_key.key_id, "algorithm": sm2.ALGORITHM, "public_key_hex": sm2_key.public_hex,
             "user_id": sm2.USER_ID, "status": "current"}, _key_entry(current, "current")]
    seen = {keys[1]["key_id"]}
    for pem in retired_pems(config["SIGNING_KEYS_RETIRED"]):
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


def clean_unit(raw):
    """The stated unit, trimmed; None when it is not a plausible unit name."""
    text = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if not UNIT_MIN <= len(text) <= UNIT_MAX or any(unicodedata.category(c).startswith("C") for c in text):
        return None
    return text


def remember_unit(openid, unit):
    """Keep the verifier's unit on their WechatUser."""
    remember_verifier_unit(openid, unit)


def style_hashes(html):
    """CSP hash sources of the page's inline <style> blocks: a cached page cannot carry a per-response nonce."""
    return tuple(f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
                 for block in STYLE_RE.findall(html))


# -- views -------------------------------------------------------------------------------------------------------


def _runtime():
    return current_app.extensions["hegui"]


def _live(token):
    """The live fields of the report `token` names (jobs/live_reports.py), read once per request."""
    if "hegui.live_report" not in request.environ:  # per request (g outlives one when a caller holds the context)
        known = TOKEN_RE.fullmatch(token or "")
        local = current_app.extensions["verify_live"]
        request.environ["hegui.live_report"] = live_reports.read(_runtime().redis, token, local) if known else None
    return request.environ["hegui.live_report"]


def _known_token():
    """True for a request to a real report's page, JSON or PDF: a genuine view, exempt from the guess limiter."""
    token = (request.view_args or {}).get("token")
    return token is not None and _live(token) is not None


def _not_found():
    security.mark_miss()
    return make_response(render_template("verify/not_found.html"), 404)


def _client():
    return request.remote_addr or "", request.headers.get("User-Agent", "")


def _in_wechat():
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def _oauth_step(token):
    """Inside WeChat with no openid yet: redirect once to the authorize URL, or take the returned code."""
    if not current_app.config["VERIFY_OAUTH"] or not _in_wechat() or session.get("openid"):
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
        unit = verifier_unit_of(openid)
        if unit:
            session["verifier_unit"] = unit


def _render_report(report, unit_error=None, status=200):
    """The page for `report` (a full row), rendered now; its inline styles are allowed by hash."""
    request.environ["hegui.csp_hash"] = True  # csp_nonce() gives '' so the page's bytes do not vary per response
    snapshot = json.loads(report.snapshot)
    html = render_template(
        "verify/report.html",
        report=report,
        r=snapshot,
        v=summary.view(snapshot, summary.notice_for(current_app.config)),
        signatures=report.signature_list(),
        status=status_view(report, snapshot),
        unit=session.get("verifier_unit"),
        unit_error=unit_error,
        pdf_ready=bool(report.pdf_ready_at),
    )
    return html, style_hashes(html), status


def _page_key(live):
    """Everything a report page shows that can change after issue (the snapshot itself cannot)."""
    return (live.id, live.digest, report_status(live), live.revoked_at, live.corrected_at, live.correction_note,
            live.superseded_by_id, bool(live.pdf_ready_at), session.get("verifier_unit"))


def _respond(page):
    html, hashes, status = page
    request.environ["hegui.style_hashes"] = hashes
    return make_response(html, status)


@bp.get("/v/<token>")
def page(token):
    """The report page (200 whatever its status), or a plain 404; the view is logged without waiting for it."""
    live = _live(token)
    if live is None:
        return _not_found()
    step = _oauth_step(token)
    if step is not None:
        return step
    ip, agent = _client()
    views.buffer_view(_runtime().redis, live.id, ip, agent, session.get("openid"), session.get("verifier_unit"))
    cache, key = current_app.extensions["verify_pages"], _page_key(live)
    rendered = cache.get(key)
    if rendered is None:
        rendered = _render_report(find_report(token))
        cache.put(key, rendered)
    return _respond(rendered)


@bp.post("/v/<token>/unit")
def state_unit(token):
    """The verifier states their unit once: kept in the session, on their WechatUser, and on their view (limited
    per client, one entry per viewer and report)."""
    report = find_report(token)
    if report is None:
        return _not_found()
    unit = clean_unit(request.form.get("unit"))
    if unit is None:
        error = f"请填写单位全称（{UNIT_MIN}–{UNIT_MAX} 个字）。"
        return _respond(_render_report(report, unit_error=error, status=400))
    session["verifier_unit"] = unit
    openid = session.get("openid")
    if openid:
        remember_unit(openid, unit)
    ip, agent = _client()
    views.record_view(_runtime().redis, report.id, ip, agent, openid, unit, kind="unit")
    return redirect(url_for("verify.page", token=token), 303)


@bp.get("/v/<token>/json")
def signed_json(token):
    """The signed canonical data for an offline check (format hegui.verify/1, see the README); only its status
    fields are made per request, the rest once per report."""
    live = _live(token)
    if live is None:
        return _not_found()
    cache, key = current_app.extensions["verify_pages"], ("json", live.id, live.digest)
    static = cache.get(key)
    if static is None:
        static = _static_json(Report.without_pdf_by_token(token))
        cache.put(key, static)
    status = {"status": report_status(live), "status_checked_at": to_local(utcnow()).isoformat(timespec="seconds")}
    body = static[:-2] + ",\n" + json.dumps(status, ensure_ascii=False, indent=1)[2:]  # static ends "\n}"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = _disposition(live.number, "json")
    return response


def _static_json(report):
    """The document's parts that never change after issue, serialised (ends with the closing brace)."""
    document = {
        "format": JSON_FORMAT,
        "report": json.loads(report.snapshot),
        "canonical": report.snapshot,
        "digest": report.digest,
        "signature": report.signature,
        "algorithm": report.algorithm,
        "key_id": report.key_id,
        "signatures": report.signature_list(),
        "keys_url": current_app.config["PUBLIC_BASE_URL"] + url_for("verify.keys"),
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


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
    """The public signing keys (current and retired) with their ids, and the CA that PDF signatures chain to."""
    pdf_ca = pki.published_ca(current_app.config)
    pdf_ca["ca_url"] = current_app.config["PUBLIC_BASE_URL"] + url_for("verify.ca_certificate")
    body = json.dumps({"keys": published_keys(current_app.config), "pdf_signing": pdf_ca}, ensure_ascii=False,
                      indent=1)
    return Response(body, mimetype="application/json")


@bp.get("/keys/ca.pem")
def ca_certificate():
    """The CA certificate(s) that the PDF's PAdES signature chains to, as a file to download."""
    response = Response(pki.published_ca(current_app.config)["ca_certificates_pem"],
                        mimetype="application/x-pem-file")
    response.headers["Content-Disposition"] = "attachment; filename=\"hegui-pdf-ca.pem\""
    return response


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

