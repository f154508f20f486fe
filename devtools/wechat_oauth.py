"""The WeChat double's web OAuth (docs/WECHAT.md §2.7): the authorize page and the one-use code exchange."""

import secrets
from html import escape
from urllib.parse import urlencode

from flask import Response, jsonify, redirect, request

OAUTH_CODE_TTL = 300


def _err(code, msg):
    return jsonify(errcode=code, errmsg=msg)


_ASK_OPENID = """<!doctype html><meta charset="utf-8"><title>WeChat double: OAuth</title>
<form method="get"><p>以哪个 openid 的身份授权（WeChat double）？</p>{hidden}
<input name="openid" required> <button>授权</button></form>"""


def register_oauth(app, state, apply_fault):
    """`connect/oauth2/authorize` (asks which openid to play) and `sns/oauth2/access_token` (one-use codes)."""
    @app.get("/connect/oauth2/authorize")
    def authorize():
        args = request.args
        openid = args.get("openid") or request.cookies.get("wechat_double_openid")
        if not args.get("redirect_uri") or args.get("response_type") != "code":
            return Response("redirect_uri and response_type=code required", status=400)
        if not openid:
            hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in args.items())
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
        failed = apply_fault(state, "sns/oauth2/access_token")
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
