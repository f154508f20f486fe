"""A double of the WeChat official-account API: a real HTTP server on loopback, state in its own memory.

It serves what the project calls, behaving like WeChat (docs/WECHAT.md): tokens that expire and are replaced after an
overlap, the customer-service window and quotas, temporary media, the menu, template messages and web OAuth.

Control endpoints (`/_double/...`), for tests and the chat simulator:
- `POST /_double/interaction {"openid", "kind": "message"|"event"}`: the user wrote (opens 48 h / 5 messages) or
  clicked, followed or scanned (1 min / 3 messages). The webhook never calls the double: whoever plays the user (a test,
  the simulator) tells the double, as WeChat's own servers would know.
- `POST /_double/user {"openid", "following": bool}`: a user who unfollowed gets 43004.
- `POST /_double/fail {"api", "errcode"|"status"|"delay", "times"}`: the next `times` calls of `api` (e.g.
  `message/custom/send`, `token`, `sns/oauth2/access_token`, `*`) answer `errcode`, or the HTTP error `status` (a
  gateway failure), or are slowed by `delay` seconds first.
- `POST /_double/expire_tokens`: every issued token expires now (calls answer 42001).
- `POST /_double/clock {"advance": seconds}`: move the double's clock forward (window tests).
- `POST /_double/media` (raw body, an image Content-Type, at most 2 MB): store a photo as if a user had sent it
  (the simulator's photo button); answers its media_id, which `cgi-bin/media/get` then serves.
- `GET /_double/media/<media_id>`: the stored bytes of a media item (the simulator shows pushed images).
- `GET /_double/sent?openid=`: what was delivered (custom and template messages), oldest first.
- `GET /_double/stats`: how many calls each API received; `POST /_double/reset`: forget everything.
"""

import argparse
import itertools
import json
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import make_server

TOKEN_TTL = 7200
TOKEN_OVERLAP = 300
MESSAGE_WINDOW = (48 * 3600, 5)
EVENT_WINDOW = (60, 3)
MAX_IMAGE_BYTES = 2 * 1024 * 1024
TEMPLATE_FIELD_MAX = 20
OAUTH_CODE_TTL = 300


class DoubleState:
    """Everything the double remembers, behind one lock."""

    def __init__(self, appid=None, secret=None):
        self.lock = threading.RLock()
        self.appid = appid
        self.secret = secret
        self.reset()

    def reset(self):
        """Forget tokens, users, media, menus, faults and the inbox."""
        with self.lock:
            self.offset = 0.0
            self.tokens = {}  # token -> expires_at
            self.users = {}  # openid -> {"following", "message_at", "message_count", "event_at", "event_count"}
            self.media = {}  # media_id -> (bytes, content_type, created_at)
            self.menu = None
            self.faults = []  # [{"api", "errcode", "delay", "times"}]
            self.sent = []
            self.stats = {}
            self.codes = {}  # code -> {"openid", "expires_at", "used"}
            self.ids = itertools.count(1)

    def now(self):
        """The double's clock (real time plus the advance tests asked for)."""
        return time.time() + self.offset

    def user(self, openid):
        """The per-user record, created on first use."""
        return self.users.setdefault(
            openid, {"following": True, "message_at": None, "message_count": 0, "event_at": None, "event_count": 0}
        )

    def count(self, api):
        """Count one call of `api`."""
        self.stats[api] = self.stats.get(api, 0) + 1

    def take_fault(self, api):
        """The fault injected for the next call of `api`, consumed; or None."""
        for fault in self.faults:
            if fault["api"] in (api, "*") and fault["times"] > 0:
                fault["times"] -= 1
                return dict(fault)
        return None

    def issue_token(self):
        """A new token; older ones now die after the overlap."""
        now = self.now()
        for tok, expires in self.tokens.items():
            self.tokens[tok] = min(expires, now + TOKEN_OVERLAP)
        token = "tok-" + secrets.token_hex(12)
        self.tokens[token] = now + TOKEN_TTL
        return token

    def token_error(self, token):
        """None when `token` is valid, else the WeChat error code."""
        if not token or token not in self.tokens:
            return 40001
        if self.tokens[token] <= self.now():
            return 42001
        return None

    def window_error(self, openid):
        """None when a customer-service message may go to `openid` now (and count it), else 45015 / 45047."""
        user = self.user(openid)
        if not user["following"]:
            return 43004
        now = self.now()
        windows = [
            ("message", *MESSAGE_WINDOW),
            ("event", *EVENT_WINDOW),
        ]
        open_windows = [(k, limit) for k, span, limit in windows if user[f"{k}_at"] and now - user[f"{k}_at"] < span]
        if not open_windows:
            return 45015
        for kind, limit in open_windows:
            if user[f"{kind}_count"] < limit:
                user[f"{kind}_count"] += 1
                return None
        return 45047


def _err(code, msg=None):
    return jsonify(errcode=code, errmsg=msg or f"double error {code}")


def create_double_app(state=None):
    """The Flask app of the double; `state` is kept on `app.double`."""
    app = Flask("wechat_double")
    app.double = state = state or DoubleState()
    _register_controls(app, state)
    _register_api(app, state)
    _register_oauth(app, state)
    return app


def _apply_fault(state, api):
    """Sleep or answer an injected error for this call of `api`; None to go on normally."""
    with state.lock:
        state.count(api)
        fault = state.take_fault(api)
    if not fault:
        return None
    if fault.get("delay"):
        time.sleep(float(fault["delay"]))
    if fault.get("status"):
        return Response("<html>bad gateway</html>", status=int(fault["status"]), mimetype="text/html")
    if fault.get("errcode") is not None:
        return _err(int(fault["errcode"]), "injected")
    return None


def _guarded(state, api):
    """Fault injection, then the access-token check; returns an error response or None."""
    failed = _apply_fault(state, api)
    if failed is not None:
        return failed
    with state.lock:
        code = state.token_error(request.args.get("access_token"))
    return _err(code, "invalid credential, access_token is invalid or not latest") if code else None


def _register_controls(app, state):
    @app.post("/_double/interaction")
    def interaction():
        body = request.get_json(force=True)
        kind = body.get("kind", "message")
        with state.lock:
            user = state.user(body["openid"])
            user["following"] = True
            user[f"{'event' if kind == 'event' else 'message'}_at"] = state.now()
            user[f"{'event' if kind == 'event' else 'message'}_count"] = 0
        return jsonify(ok=True)

    @app.post("/_double/user")
    def set_user():
        body = request.get_json(force=True)
        with state.lock:
            state.user(body["openid"])["following"] = bool(body.get("following", True))
        return jsonify(ok=True)

    @app.post("/_double/fail")
    def fail():
        body = request.get_json(force=True)
        fault = {"api": body["api"], "errcode": body.get("errcode"), "status": body.get("status"),
                 "delay": body.get("delay"), "times": int(body.get("times", 1))}
        with state.lock:
            state.faults.append(fault)
        return jsonify(ok=True)

    @app.post("/_double/expire_tokens")
    def expire_tokens():
        with state.lock:
            for tok in state.tokens:
                state.tokens[tok] = state.now() - 1
        return jsonify(ok=True)

    @app.post("/_double/clock")
    def clock():
        with state.lock:
            state.offset += float(request.get_json(force=True).get("advance", 0))
        return jsonify(ok=True, now=state.now())

    @app.post("/_double/media")
    def put_media():
        data, kind = request.get_data(), (request.content_type or "image/jpeg").split(";")[0]
        if not data or len(data) > MAX_IMAGE_BYTES or not kind.startswith("image/"):
            return _err(40005, "an image of at most 2 MB is required"), 400
        with state.lock:
            media_id = f"media-{next(state.ids)}-{secrets.token_hex(4)}"
            state.media[media_id] = (data, kind, state.now())
        return jsonify(media_id=media_id)

    @app.get("/_double/media/<media_id>")
    def get_media(media_id):
        with state.lock:
            item = state.media.get(media_id)
        if item is None:
            return _err(40007, "invalid media_id"), 404
        return Response(item[0], content_type=item[1])

    @app.get("/_double/sent")
    def sent():
        openid = request.args.get("openid")
        with state.lock:
            items = [m for m in state.sent if openid in (None, m["touser"])]
        return jsonify(items)

    @app.get("/_double/stats")
    def stats():
        with state.lock:
            return jsonify(dict(state.stats))

    @app.post("/_double/reset")
    def reset():
        state.reset()
        return jsonify(ok=True)


def _register_api(app, state):
    @app.get("/cgi-bin/token")
    def token():
        failed = _apply_fault(state, "token")
        if failed is not None:
            return failed
        args = request.args
        if args.get("grant_type") != "client_credential":
            return _err(40002, "invalid grant_type")
        if state.appid and (args.get("appid") != state.appid or args.get("secret") != state.secret):
            return _err(40125, "invalid appsecret")
        with state.lock:
            return jsonify(access_token=state.issue_token(), expires_in=TOKEN_TTL)

    @app.post("/cgi-bin/message/custom/send")
    def custom_send():
        failed = _guarded(state, "message/custom/send")
        if failed is not None:
            return failed
        body = json.loads(request.get_data() or b"{}")
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "image") or not body.get("touser"):
            return _err(40008, "invalid message type")
        if msgtype == "image" and body["image"].get("media_id") not in state.media:
            return _err(40007, "invalid media_id")
        with state.lock:
            code = state.window_error(body["touser"])
            if code:
                return _err(code, {45015: "response out of time limit", 45047: "out of response count limit",
                                   43004: "require subscribe"}[code])
            state.sent.append({"touser": body["touser"], "kind": msgtype, "at": state.now(),
                               "text": body.get("text", {}).get("content"),
                               "media_id": body.get("image", {}).get("media_id")})
        return _err(0, "ok")

    @app.post("/cgi-bin/message/template/send")
    def template_send():
        failed = _guarded(state, "message/template/send")
        if failed is not None:
            return failed
        body = json.loads(request.get_data() or b"{}")
        for field in (body.get("data") or {}).values():
            value = str(field.get("value", ""))
            if len(value) > TEMPLATE_FIELD_MAX or "\n" in value:
                return _err(47003, "argument invalid! data.value too long or has line break")
        if not body.get("template_id"):
            return _err(40037, "invalid template_id")
        with state.lock:
            if not state.user(body.get("touser", ""))["following"]:
                return _err(43004, "require subscribe")
            msgid = next(state.ids)
            state.sent.append({"touser": body["touser"], "kind": "template", "at": state.now(),
                               "template_id": body["template_id"], "data": body.get("data"), "url": body.get("url")})
        return jsonify(errcode=0, errmsg="ok", msgid=msgid)

    @app.post("/cgi-bin/media/upload")
    def media_upload():
        failed = _guarded(state, "media/upload")
        if failed is not None:
            return failed
        upload = request.files.get("media")
        if upload is None:
            return _err(41005, "media data missing")
        data = upload.read()
        if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
            return _err(40005, "invalid file type")
        if len(data) > MAX_IMAGE_BYTES:
            return _err(40006, "invalid media size")
        kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        with state.lock:
            media_id = f"media-{next(state.ids)}-{secrets.token_hex(4)}"
            state.media[media_id] = (data, kind, state.now())
        return jsonify(type=request.args.get("type", "image"), media_id=media_id, created_at=int(state.now()))

    @app.get("/cgi-bin/media/get")
    def media_get():
        failed = _guarded(state, "media/get")
        if failed is not None:
            return failed
        with state.lock:
            item = state.media.get(request.args.get("media_id", ""))
            expired = item is not None and state.now() - item[2] > 3 * 86400
        if item is None or expired:
            return _err(40007, "invalid media_id")
        return Response(item[0], content_type=item[1],
                        headers={"Content-Disposition": 'attachment; filename="media"'})

    @app.post("/cgi-bin/menu/create")
    def menu_create():
        failed = _guarded(state, "menu/create")
        if failed is not None:
            return failed
        body = json.loads(request.get_data() or b"{}")
        code = _menu_error(body)
        if code:
            return _err(code, "invalid menu")
        with state.lock:
            state.menu = body
        return _err(0, "ok")

    @app.get("/cgi-bin/menu/get")
    def menu_get():
        failed = _guarded(state, "menu/get")
        if failed is not None:
            return failed
        with state.lock:
            if state.menu is None:
                return _err(46003, "menu no exist")
            return jsonify(menu=state.menu)


def _menu_error(body):
    """WeChat's menu limits: 1–3 buttons, up to 5 sub-buttons, key ≤ 128 bytes, names present."""
    buttons = body.get("button") or []
    if not 1 <= len(buttons) <= 3:
        return 40016
    for button in buttons:
        subs = button.get("sub_button")
        if subs is not None and not 1 <= len(subs) <= 5:
            return 40023
        for item in subs or [button]:
            if not item.get("name"):
                return 40018
            if item.get("type") == "click" and not 0 < len(item.get("key", "").encode()) <= 128:
                return 40019
            if item.get("type") == "view" and not item.get("url"):
                return 40055
            if item.get("type") not in ("click", "view", "scancode_push", "scancode_waitmsg"):
                return 40017
    return None


_ASK_OPENID = """<!doctype html><meta charset="utf-8"><title>WeChat double: OAuth</title>
<form method="get"><p>以哪个 openid 的身份授权（WeChat double）？</p>{hidden}
<input name="openid" required> <button>授权</button></form>"""


def _register_oauth(app, state):
    @app.get("/connect/oauth2/authorize")
    def authorize():
        args = request.args
        openid = args.get("openid") or request.cookies.get("wechat_double_openid")
        if not args.get("redirect_uri") or args.get("response_type") != "code":
            return Response("redirect_uri and response_type=code required", status=400)
        if not openid:
            hidden = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in args.items())
            return Response(_ASK_OPENID.format(hidden=hidden), content_type="text/html; charset=utf-8")
        with state.lock:
            code = secrets.token_urlsafe(16)
            state.codes[code] = {"openid": openid, "expires_at": state.now() + OAUTH_CODE_TTL, "used": False}
        sep = "&" if "?" in args["redirect_uri"] else "?"
        target = args["redirect_uri"] + sep + urlencode({"code": code, "state": args.get("state", "")})
        response = redirect(target, code=302)
        response.set_cookie("wechat_double_openid", openid)
        return response

    @app.get("/sns/oauth2/access_token")
    def oauth_token():
        failed = _apply_fault(state, "sns/oauth2/access_token")
        if failed is not None:
            return failed
        with state.lock:
            entry = state.codes.get(request.args.get("code", ""))
            if entry is None or entry["expires_at"] < state.now():
                return _err(40029, "invalid code")
            if entry["used"]:
                return _err(40163, "code been used")
            entry["used"] = True
        return jsonify(access_token="web-" + secrets.token_hex(8), expires_in=7200, refresh_token="r",
                       openid=entry["openid"], scope="snsapi_base")


class ServerThread:
    """A werkzeug server for `app` in a daemon thread; `.base_url` once started."""

    def __init__(self, app, host="127.0.0.1", port=0):
        self.app = app
        self.server = make_server(host, port, app, threaded=True)
        self.base_url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        """Serve in the background; return self."""
        self.thread.start()
        return self

    def stop(self):
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def start_wechat_double(port=0, appid=None, secret=None):
    """Start the WeChat double on 127.0.0.1:`port` (0: any free port) in a thread."""
    return ServerThread(create_double_app(DoubleState(appid, secret)), port=port).start()


def main():
    """Run the WeChat double in the foreground."""
    parser = argparse.ArgumentParser(description="WeChat API double")
    parser.add_argument("--port", type=int, default=5101)
    args = parser.parse_args()
    server = start_wechat_double(args.port)
    print(f"WeChat double on {server.base_url}", flush=True)
    server.thread.join()


if __name__ == "__main__":
    main()
