"""GET/POST /wechat: WeChat's callback. Checks signatures and freshness, decrypts, parses, deduplicates, asks the bot,
replies (docs/WECHAT.md §1). The XML itself is bot/codec.py's.

The request path touches only Redis and the database; slow work is queued by the bot as RQ jobs.
"""

import datetime as dt
import hashlib
import json
import logging
import time

from flask import Blueprint, Response, abort, current_app, request
from peewee import PeeweeException
from redis.exceptions import RedisError

from bot import codec, engine, texts
from models.base import utcnow
from models.tables.accounts import user_for_openid
from runtime import reset_trace_id, set_trace_id, trace_id_for

logger = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

MAX_BODY = 64 * 1024
INFLIGHT_TTL = 30  # seconds a first delivery may take before a retry may handle the message itself
REPLY_TTL = 600
POLL_INTERVAL = 0.1
SUCCESS = "success"
SEEN_PREFIX = "wechat:seen:"  # a signed request (timestamp, nonce, signature) already answered inside the window


# -- the views -------------------------------------------------------------------------------------------------


@bp.get("/wechat")
def verify():
    """Server verification: echo `echostr` when the signature is WeChat's."""
    if not _signature_ok(request.args):
        abort(403)
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def receive():
    """One message or event: authenticated, fresh and new, then parsed, deduplicated and answered."""
    body = _read_body()
    encrypted = request.args.get("encrypt_type", "").lower() == "aes"
    if not encrypted:
        if current_app.config.get("WECHAT_AES_KEY") and not current_app.config.get("WECHAT_ACCEPT_PLAINTEXT"):
            # In safe and compatible mode WeChat always sends encrypt_type=aes; `signature` covers no body, so a
            # plaintext POST could speak as any openid with one leaked callback URL.
            _forbid("plaintext while WECHAT_AES_KEY is set")
        if not _signature_ok(request.args):
            _forbid("plaintext signature")  # before parsing: forged bodies never reach the XML parser
    _check_fresh(request.args)
    rt = current_app.extensions["hegui"]
    fingerprint = _request_fingerprint(request.args)
    seen = _claim_request(rt, fingerprint)
    if seen is not None:
        return seen
    try:
        response = _answer(body, encrypted, rt)
    except BaseException:
        _forget_request(rt, fingerprint)  # an error answer is not remembered: WeChat's retry tries again
        raise
    _remember_response(rt, fingerprint, response)
    return response


def _answer(body, encrypted, rt):
    """The response to an authenticated, fresh request: decrypt, parse, ask the bot (once per message), reply — in
    safe and compatible mode encrypted with the key that decrypted the request (docs/WECHAT.md §1.6)."""
    cfg, args = current_app.config, request.args
    try:
        message, key = codec.parse_xml(body), None
        if encrypted:
            keys = [k for k in (cfg.get("WECHAT_AES_KEY"), cfg.get("WECHAT_AES_KEY_PREVIOUS")) if k]
            xml, key = codec.decrypt(message, keys, cfg["WECHAT_TOKEN"], cfg["WECHAT_APPID"],
                                     args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
            message = codec.parse_xml(xml.encode("utf-8"))
        incoming = codec.parse_incoming(message, now=int(args["timestamp"]))  # _check_fresh vetted it
    except codec.Forged:
        _forbid("msg_signature")
    except codec.BadMessage as exc:
        abort(400, str(exc))
    token = set_trace_id(trace_id_for(f"{incoming.openid}:{incoming.msg_key}"))
    try:
        text = respond(incoming, rt, cfg["WECHAT_REPLY_WAIT"])
    except (RedisError, PeeweeException):
        # Redis or the database is away (restarting, failing over): the owner is asked to resend instead of seeing
        # WeChat's "该公众号暂时无法提供服务" after three silent retries; effects are unique in the database.
        logger.exception("storage unavailable while handling %s", incoming.msg_key)
        text = texts.SERVICE_BUSY
    finally:
        reset_trace_id(token)
    if not text:
        return Response(SUCCESS, mimetype="text/plain")
    xml = codec.render_text_reply(incoming.openid, codec.field(message, "ToUserName") or "", text)
    if key:
        xml = codec.encrypt(xml, key, cfg["WECHAT_TOKEN"], cfg["WECHAT_APPID"], args.get("nonce", ""))
    return Response(xml, mimetype="application/xml")


# -- authentication and decoding -------------------------------------------------------------------------------


def _forbid(what):
    logger.warning("rejected /wechat request from %s: bad %s", request.remote_addr, what)
    abort(403)


def _check_fresh(args):
    """403 unless `timestamp` is within WECHAT_MAX_SKEW seconds of our clock: a recorded request replayed later is
    refused however well it is signed."""
    stamp = args.get("timestamp", "")
    skew = current_app.config["WECHAT_MAX_SKEW"]
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or abs(time.time() - int(stamp)) > skew:
        _forbid(f"timestamp {stamp[:20]!r} (outside {skew} s)")


def _request_fingerprint(args):
    """What makes a signed request unique: its timestamp, nonce and signature (msg_signature in safe mode)."""
    parts = (args.get("timestamp", ""), args.get("nonce", ""), args.get("signature", ""), args.get("msg_signature", ""))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _claim_request(rt, fingerprint):
    """None for a request not seen inside the window; for one seen (WeChat's retry, or a replay), the first
    request's response, waiting WECHAT_REPLY_WAIT s for it while the first is still being answered."""
    window = 2 * current_app.config["WECHAT_MAX_SKEW"]
    key = SEEN_PREFIX + fingerprint
    try:
        if rt.redis.set(key, "", nx=True, ex=window):
            return None
    except RedisError:
        # Redis away: the message is still answered (the bot then says 系统繁忙); its effects are unique in the
        # database, and the timestamp check above still bounds a replay.
        logger.warning("request dedup unavailable (Redis)", exc_info=True)
        return None
    deadline = time.monotonic() + current_app.config["WECHAT_REPLY_WAIT"]
    while True:
        stored = rt.redis.get(key)
        if stored:
            first = json.loads(stored)
            return Response(first["body"], mimetype=first["mimetype"])
        if time.monotonic() >= deadline:
            return Response(SUCCESS, mimetype="text/plain")
        time.sleep(POLL_INTERVAL)


def _forget_request(rt, fingerprint):
    try:
        rt.redis.delete(SEEN_PREFIX + fingerprint)
    except RedisError:
        logger.warning("could not forget a failed request (Redis)", exc_info=True)


def _remember_response(rt, fingerprint, response):
    """Keep the response for a repeat of the same signed request, for as long as its timestamp is acceptable."""
    window = 2 * current_app.config["WECHAT_MAX_SKEW"]
    stored = json.dumps({"body": response.get_data(as_text=True), "mimetype": response.mimetype})
    try:
        rt.redis.set(SEEN_PREFIX + fingerprint, stored, ex=window)
    except RedisError:
        logger.warning("could not remember the response of a signed request (Redis)", exc_info=True)


def _signature_ok(args):
    """`signature` = sha1 of the sorted token, timestamp and nonce."""
    expected = codec.signature(current_app.config["WECHAT_TOKEN"], args.get("timestamp", ""), args.get("nonce", ""))
    return bool(args.get("signature")) and args.get("signature") == expected


def _read_body():
    """The raw body, 413 beyond MAX_BODY (whether or not Content-Length says so)."""
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        abort(413)
    return body


# -- dedup, the user row, the bot ------------------------------------------------------------------------------


def respond(incoming, rt, wait):
    """The reply text for `incoming`, computed once: repeats get the stored reply (or none after `wait` s)."""
    reply_key = f"wechat:reply:{incoming.openid}:{incoming.msg_key}"
    inflight_key = f"wechat:inflight:{incoming.openid}:{incoming.msg_key}"
    cached = rt.redis.get(reply_key)
    if cached is not None:
        return json.loads(cached)["text"]
    if not rt.redis.set(inflight_key, "1", nx=True, ex=INFLIGHT_TTL):
        return _await_reply(rt, reply_key, wait)
    try:
        user = record_interaction(incoming)
        text = engine.handle(incoming, rt, user)
    except BaseException:
        rt.redis.delete(inflight_key)  # let WeChat's retry try again
        raise
    rt.redis.set(reply_key, json.dumps({"text": text}, ensure_ascii=False), ex=REPLY_TTL)
    return text


def _await_reply(rt, reply_key, wait):
    """Poll for the reply a first delivery of the same message is computing; None when it takes too long."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
        cached = rt.redis.get(reply_key)
        if cached is not None:
            return json.loads(cached)["text"]
    return None


def record_interaction(incoming):
    """Create the user if new; note follow state and the windows WeChat opens: a message (48 h) or a window event —
    menu click, follow, scan — (1 minute); VIEW, LOCATION and the rest open none (docs/WECHAT.md §2.3). Return
    the user: the bot is handed it and writes none of these columns."""
    now = utcnow()
    at = dt.datetime.fromtimestamp(incoming.create_time, dt.UTC).replace(tzinfo=None) if incoming.create_time else now
    user = user_for_openid(incoming.openid)
    if incoming.kind != "event":
        user.wrote_at(min(at, now))
    elif incoming.event in codec.WINDOW_EVENTS:
        user.acted_at(min(at, now))
    if incoming.event in ("subscribe", "unsubscribe"):
        user.set_following(incoming.event == "subscribe")
    return user
