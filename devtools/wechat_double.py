"""A double of the WeChat official-account API: a real HTTP server on loopback, state in its own memory.

It serves what the project calls, behaving like WeChat (docs/WECHAT.md): stable tokens (`POST cgi-bin/stable_token`,
JSON) renewed with an overlap, the old `GET cgi-bin/token` apart from them, the customer-service windows and quotas
(48 h / 5 after a message, 1 minute / 3 after a click, follow or scan), temporary media, the menu, category template
messages with typed fields (devtools/wechat_rules.py: first/remark are dropped, a value of the wrong type is 47003)
and web OAuth.

Control endpoints (`/_double/...`), for tests and the chat simulator:
- `POST /_double/interaction {"openid", "kind": "message"|"event", "event"?}`: the user wrote (opens 48 h / 5
  messages) or clicked, followed or scanned (1 min / 3 messages); other events (`VIEW`, `LOCATION`, unsubscribe …)
  open nothing. The webhook never calls the double: whoever plays the user (a test,
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

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from devtools.wechat_oauth import register_oauth
from devtools.wechat_rules import menu_error, template_problem

TOKEN_TTL = 7200
TOKEN_OVERLAP = 300
MESSAGE_WINDOW = (48 * 3600, 5)
EVENT_WINDOW = (60, 3)
MAX_IMAGE_BYTES = 2 * 1024 * 1024
WINDOW_EVENTS = {"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"}  # docs/WECHAT.md §2.3
FORCE_REFRESH_GAP = 30  # seconds between forced stable_token refreshes


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
            self.tokens = {}  # token -> expires_at (both kinds)
            self.stable = None  # the current stable token
            self.forced_at = None
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
        """A new `cgi-bin/token` token; older ones of that kind now die after the overlap (stable ones are apart)."""
        now = self.now()
        for tok, expires in self.tokens.items():
            if tok != self.stable:
                self.tokens[tok] = min(expires, now + TOKEN_OVERLAP)
        token = "tok-" + secrets.token_hex(12)
        self.tokens[token] = now + TOKEN_TTL
        return token

    def stable_token(self, force=False):
        """(token, expires_in) of `stable_token`: the same token while more than the overlap is left; a new one (the
        old still valid to its end) in the last 5 minutes; a forced refresh invalidates the old one at once."""
        now = self.now()
        current = self.stable if self.stable in self.tokens else None
        if force and current:
            self.tokens[current] = now
            current = None
        if current is None or self.tokens[current] - now <= TOKEN_OVERLAP:
            self.stable = "stok-" + secrets.token_hex(12)
            self.tokens[self.stable] = now + TOKEN_TTL
        return self.stable, int(self.tokens[self.stable] - now)

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
    register_oauth(app, state, _apply_fault)
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
        kind = "event" if body.get("kind") == "event" else "message"
        event = str(body.get("event") or "").lower()
        with state.lock:
            user = state.user(body["openid"])
            if event == "unsubscribe":
                user["following"] = False
                return jsonify(ok=True, window=None)
            user["following"] = True
            if kind == "event" and event and event not in WINDOW_EVENTS:
                return jsonify(ok=True, window=None)  # VIEW, LOCATION …: no window
            user[f"{kind}_at"] = state.now()
            user[f"{kind}_count"] = 0
        return jsonify(ok=True, window=kind)

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
    _register_tokens(app, state)
    _register_messages(app, state)
    _register_media_and_menu(app, state)


def _register_tokens(app, state):
    @app.post("/cgi-bin/stable_token")
    def stable_token():
        failed = _apply_fault(state, "stable_token")
        if failed is not None:
            return failed
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _err(47001, "data format error: POST a JSON body")
        if body.get("grant_type") != "client_credential":
            return _err(40002, "invalid grant_type")
        if state.appid and (body.get("appid") != state.appid or body.get("secret") != state.secret):
            return _err(40125, "invalid appsecret")
        with state.lock:
            force = bool(body.get("force_refresh"))
            if force and state.forced_at is not None and state.now() - state.forced_at < FORCE_REFRESH_GAP:
                return _err(45011, "api minute-quota reach limit: force_refresh at most every 30 s")
            if force:
                state.forced_at = state.now()
            token, expires_in = state.stable_token(force)
        return jsonify(access_token=token, expires_in=expires_in)

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


def _register_messages(app, state):
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
        if not body.get("template_id"):
            return _err(40037, "invalid template_id")
        delivered, problem = template_problem(body.get("data"))
        if problem:
            return _err(47003, problem)
        with state.lock:
            if not state.user(body.get("touser", ""))["following"]:
                return _err(43004, "require subscribe")
            msgid = next(state.ids)
            state.sent.append({"touser": body["touser"], "kind": "template", "at": state.now(),
                               "template_id": body["template_id"], "data": delivered, "url": body.get("url")})
        return jsonify(errcode=0, errmsg="ok", msgid=msgid)


def _register_media_and_menu(app, state):
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
        code = menu_error(body)
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
