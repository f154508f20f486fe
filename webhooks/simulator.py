"""`/dev/chat`: a WeChat conversation simulator, served in development mode only (docs/CONTRACT.md §1).

The page plays one WeChat user. What it types goes to the real `POST /wechat` over HTTP as WeChat would send it:
signed, and encrypted when WECHAT_AES_KEY is set (built here, server-side); the passive reply is decrypted here. A
photo it picks is stored in the WeChat double as the user's upload and sent as an image message with its MediaId, so
the service fetches it through the real media path (`jobs.media`, `cgi-bin/media/get`). What
the service pushes later is read back from the doubles' listing endpoints (WeChat messages, SMS codes, the staff
WeCom group). The message-building functions are plain and shared with the end-to-end tests and the load driver.
"""

import re
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from bot.codec import message_xml, reply_text, signed_request
from bot.menu import menu_definition
from models.tables.outbound import OutboundMessage
from models.tables.registry import Enterprise
from models.tables.reports import Report

bp = Blueprint("simulator", __name__, url_prefix="/dev")

ACCOUNT_NAME = "信用黑河"
SHOWCASE_SIZE = 6
HTTP_TIMEOUT = 10
CLOCK_KEY = "simulator:clock:{openid}"
MAX_PHOTO_BYTES = 2 * 1024 * 1024  # WeChat's limit for an image message
PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
PHOTO_REFUSED = "请选择 2 MB 以内的 JPG、PNG 图片"
DOUBLES_DOWN = "模拟服务未启动或无法连接，请确认 Procfile.dev 中的 doubles 进程在运行"


def init_app(app):
    """Register the simulator when (and only when) the app runs in development mode."""
    if app.config["DEV_MODE"]:
        app.register_blueprint(bp)


# -- WeChat's side of the protocol: bot/codec.py builds and reads the XML (shared with tests and benches) --------


def post_to_wechat(session, url, xml, config, openid):
    """POST one message to our `/wechat` at `url` as WeChat would; return (HTTP status, reply text or None)."""
    token, aes_key, appid = config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APPID"]
    args, body = signed_request(xml, token, aes_key, appid, openid)
    response = session.post(f"{url}?{urlencode(args)}", data=body, timeout=HTTP_TIMEOUT,
                            headers={"Content-Type": "text/xml"})
    if response.status_code != 200:
        return response.status_code, None
    return 200, reply_text(response.content, token, aes_key, appid)


def double_base(config):
    """The WeChat double's origin, from WECHAT_API_BASE (`…/cgi-bin/`)."""
    return config["WECHAT_API_BASE"].rstrip("/").removesuffix("/cgi-bin")


def wecom_listing(config):
    """(URL of the WeCom double's listing, robot key) for WECOM_ROBOT_URL, or (None, None) when unset."""
    url = config["WECOM_ROBOT_URL"]
    if not url:
        return None, None
    parts = urlsplit(url)
    key = parse_qs(parts.query).get("key", [""])[0]
    return f"{parts.scheme}://{parts.netloc}/_double/messages", key


def sms_listing(config):
    """URL of the SMS double's listing, from SMS_WEBHOOK_URL (`…/send`), or None when SMS is only logged."""
    url = config["SMS_WEBHOOK_URL"]
    if config["SMS_BACKEND"] != "http" or not url:
        return None
    return url.rstrip("/").removesuffix("/send") + "/_double/sms"


# -- the page and its endpoints --------------------------------------------------------------------------------


@bp.get("/chat")
def chat():
    """The phone-like chat page."""
    showcase = _showcase()
    return render_template("simulator/chat.html", account=ACCOUNT_NAME, menu=menu_definition(_public_base()),
                           enterprises=showcase, openid=request.args.get("openid", "o-demo-owner"))


def _public_base():
    return current_app.config["PUBLIC_BASE_URL"]


def _showcase():
    """A few demo enterprises with a mobile (the SMS panel shows their codes) and one without."""
    return Enterprise.showcase(SHOWCASE_SIZE - 1, 1)


def _next_create_time(openid):
    """A CreateTime later than this user's previous one: events are deduplicated by (openid, CreateTime)."""
    redis = current_app.extensions["hegui"].redis
    key = CLOCK_KEY.format(openid=openid)
    now = int(time.time())
    last = int(redis.get(key) or 0)
    stamp = max(now, last + 1)
    redis.set(key, stamp, ex=3600)
    return stamp


@bp.post("/chat/send")
def send():
    """Play one user action (text, menu click, follow) against the real /wechat; return the passive reply."""
    body = request.get_json(silent=True) or {}
    openid = str(body.get("openid") or "").strip()
    if not openid or len(openid) > 64:
        abort(400, "openid required")
    created = _next_create_time(openid)
    if body.get("click"):
        kind, xml = "event", message_xml(openid, "event", created, Event="CLICK", EventKey=str(body["click"]))
    elif body.get("event") in ("subscribe", "unsubscribe"):
        kind, xml = "event", message_xml(openid, "event", created, Event=body["event"])
    else:
        text = str(body.get("text") or "")
        if not text.strip():
            abort(400, "text required")
        kind, xml = "message", message_xml(openid, "text", created, msg_id=secrets.randbits(62), Content=text)
    config = current_app.config
    try:
        with requests.Session() as session:
            if body.get("event") != "unsubscribe":
                session.post(double_base(config) + "/_double/interaction", json={"openid": openid, "kind": kind},
                             timeout=HTTP_TIMEOUT)
            status, reply = post_to_wechat(session, request.host_url + "wechat", xml, config, openid)
    except requests.RequestException as exc:
        return jsonify(status=502, reply=None, error=f"{DOUBLES_DOWN}（{type(exc).__name__}）")
    return jsonify(status=status, reply=reply)


@bp.post("/chat/photo")
def photo():
    """Play a photo the user sends: stored in the WeChat double as their upload, then an image message with its
    MediaId to the real /wechat; return the passive reply and the media_id (the page shows the photo)."""
    openid = (request.form.get("openid") or "").strip()
    upload = request.files.get("photo")
    if not openid or len(openid) > 64 or upload is None:
        abort(400, "openid and photo required")
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if not data or len(data) > MAX_PHOTO_BYTES or upload.mimetype not in PHOTO_TYPES:
        return jsonify(status=400, reply=None, error=PHOTO_REFUSED), 400
    config = current_app.config
    try:
        with requests.Session() as session:
            stored = session.post(double_base(config) + "/_double/media", data=data, timeout=HTTP_TIMEOUT,
                                  headers={"Content-Type": upload.mimetype})
            if stored.status_code != 200:
                return jsonify(status=400, reply=None, error=PHOTO_REFUSED), 400
            media_id = stored.json()["media_id"]
            xml = message_xml(openid, "image", _next_create_time(openid), msg_id=secrets.randbits(62),
                              PicUrl=f"{double_base(config)}/_double/media/{media_id}", MediaId=media_id)
            session.post(double_base(config) + "/_double/interaction", json={"openid": openid, "kind": "message"},
                         timeout=HTTP_TIMEOUT)
            status, reply = post_to_wechat(session, request.host_url + "wechat", xml, config, openid)
    except requests.RequestException as exc:
        return jsonify(status=502, reply=None, error=f"{DOUBLES_DOWN}（{type(exc).__name__}）")
    return jsonify(status=status, reply=reply, media_id=media_id)


@bp.get("/chat/feed")
def feed():
    """What the doubles received: messages pushed to this user, SMS sent, the staff group's notices."""
    openid = request.args.get("openid", "")
    try:
        return jsonify(_listings(openid, current_app.config))
    except requests.RequestException as exc:
        return jsonify(pushed=[], sms=[], staff=[], error=f"{DOUBLES_DOWN}（{type(exc).__name__}）")


def _listings(openid, config):
    """The three doubles' listings for the page."""
    pushed = requests.get(double_base(config) + "/_double/sent", params={"openid": openid},
                          timeout=HTTP_TIMEOUT).json()
    links = _qr_links(openid)
    for item in pushed:
        if item.get("media_id"):
            item["link"] = links.get(item["media_id"])
    sms_url = sms_listing(config)
    sms = requests.get(sms_url, timeout=HTTP_TIMEOUT).json() if sms_url else []
    wecom_url, key = wecom_listing(config)
    staff = (requests.get(wecom_url, params={"key": key}, timeout=HTTP_TIMEOUT).json()["messages"]
             if wecom_url else [])
    return {"pushed": pushed, "sms": sms[-20:], "staff": staff[-20:]}


QR_KEY = re.compile(r"^report-qr-(?:again-)?(\d+)")  # jobs.pipeline's report-qr-<id>, the bot's report-qr-again-<id>-…


def _qr_links(openid):
    """media_id → verify URL for the report QR codes sent to `openid` (the delivery rows know both)."""
    links = {}
    for row in OutboundMessage.images_to(openid, "report-qr-"):
        media_id = (row.payload or {}).get("media_id")
        key = QR_KEY.match(row.dedup_key)
        report = Report.find(int(key.group(1))) if key else None
        if media_id and report:
            links[media_id] = f"{_public_base()}/v/{report.token}"
    return links


@bp.get("/chat/media/<media_id>")
def media(media_id):
    """An image the service sent, from the WeChat double's media store."""
    try:
        got = requests.get(f"{double_base(current_app.config)}/_double/media/{media_id}", timeout=HTTP_TIMEOUT)
    except requests.RequestException:
        abort(502)
    if got.status_code != 200:
        abort(404)
    return Response(got.content, content_type=got.headers.get("Content-Type", "image/png"),
                    headers={"Cache-Control": "no-store"})
