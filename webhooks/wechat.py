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
from werkzeug.exceptions import HTTPException

from bot import codec, engine, texts
from jobs import interactions
from jobs.delivery import take_mentions
from models.base import utcnow
from models.tables.accounts import user_for_openid
from runtime import reset_trace_id, set_trace_id, trace_id_for
from webhooks import wechat_turn

logger = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

MAX_BODY = 64 * 1024
POLL_INTERVAL = 0.1
SUCCESS = "success"


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
    try:
        message, incoming, key = _decode(body, encrypted)
    except HTTPException:
        seen = _seen_response(rt, fingerprint)  # a replay of an answered request gets its answer, whatever its body
        if seen is not None:
            return seen
        raise
    token = set_trace_id(trace_id_for(f"{incoming.openid}:{incoming.msg_key}"))
    turn = wechat_turn.Turn(rt.turn_redis, fingerprint, incoming, _seen_window())
    try:
        return _answer(turn, message, incoming, key, rt)
    except BaseException:
        _forget_request(rt, fingerprint)  # an error answer is not remembered: WeChat's retry tries again
        raise
    finally:
        reset_trace_id(token)


def _decode(body, encrypted):
    """(the message's fields, its Incoming, the AES key that decrypted it or None); 403 or 400 when it is not
    WeChat's or not well formed."""
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
    return message, incoming, key


def _answer(turn, message, incoming, key, rt):
    """The response to an authenticated, fresh, decoded request: the first one's (a replay), the message's reply
    computed once (a repeat of the MsgId gets the stored one), or the bot's, in two Redis round trips."""
    wait = current_app.config["WECHAT_REPLY_WAIT"]
    try:
        outcome = turn.begin()
    except RedisError:
        # Redis or the database is away (restarting, failing over): the owner is asked to resend instead of seeing
        # WeChat's "该公众号暂时无法提供服务" after three silent retries; effects are unique in the database.
        logger.exception("storage unavailable while handling %s", incoming.msg_key)
        turn.outcome = "busy"
        return _remember(rt, turn, _render(message, incoming, key, texts.SERVICE_BUSY))
    if outcome == "seen":
        return _first_response(rt, turn.fingerprint, turn.stored)
    if outcome == "reply":
        return _remember(rt, turn, _render(message, incoming, key, turn.stored))
    if outcome == "inflight":
        return _remember(rt, turn, _render(message, incoming, key, _await_reply(rt, turn, wait)))
    try:
        user = turn.cached_user or user_for_openid(incoming.openid)
        may_have_mentions = turn.flagged or turn.cached_user is None
        deferred_at = note_interaction(user, incoming, defer=True)
        text = engine.handle(incoming, rt, user, conversation=turn.conversation, mentions=False)
        unsettled = may_have_mentions and text is None  # no reply: nothing was told, the flag stays
        if may_have_mentions and text is not None:
            said, unsettled = take_mentions(user)
            text = engine.prefixed(said, text)
        response = _render(message, incoming, key, text)
        if not turn.finish(text, response, user, deferred_at, flag=unsettled):
            logger.warning("the user lock of %s expired while its message was answered", incoming.msg_key)
        return response
    except (RedisError, PeeweeException):
        logger.exception("storage unavailable while handling %s", incoming.msg_key)
        _quietly(turn.abort)
        return _remember(rt, turn, _render(message, incoming, key, texts.SERVICE_BUSY))
    except BaseException:
        _quietly(turn.abort)  # let WeChat's retry try again
        raise


def _render(message, incoming, key, text):
    """The passive reply carrying `text` (`success` for none) — in safe and compatible mode encrypted with the key
    that decrypted the request (docs/WECHAT.md §1.6)."""
    if not text:
        return Response(SUCCESS, mimetype="text/plain")
    cfg, args = current_app.config, request.args
    xml = codec.render_text_reply(incoming.openid, codec.field(message, "ToUserName") or "", text)
    if key:
        xml = codec.encrypt(xml, key, cfg["WECHAT_TOKEN"], cfg["WECHAT_APPID"], args.get("nonce", ""))
    return Response(xml, mimetype="application/xml")


def _quietly(release):
    try:
        release()
    except RedisError:
        logger.warning("could not release a message's claims (Redis)", exc_info=True)


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


def _seen_window():
    return 2 * current_app.config["WECHAT_MAX_SKEW"]


def _seen_response(rt, fingerprint):
    """For a signed request seen inside the window (WeChat's retry, or a replay), the first request's response;
    None for one not seen (or when Redis is away)."""
    try:
        stored = rt.redis.get(wechat_turn.seen_key(fingerprint))
    except RedisError:
        logger.warning("request dedup unavailable (Redis)", exc_info=True)
        return None
    return None if stored is None else _first_response(rt, fingerprint, stored.decode())


def _first_response(rt, fingerprint, stored):
    """The first request's response, waiting WECHAT_REPLY_WAIT s for it while the first is still being answered
    (`success` after that)."""
    deadline = time.monotonic() + current_app.config["WECHAT_REPLY_WAIT"]
    while not stored:
        if time.monotonic() >= deadline:
            return Response(SUCCESS, mimetype="text/plain")
        time.sleep(POLL_INTERVAL)
        stored = (rt.redis.get(wechat_turn.seen_key(fingerprint)) or b"").decode()
    first = json.loads(stored)
    return Response(first["body"], mimetype=first["mimetype"])


def _forget_request(rt, fingerprint):
    try:
        rt.redis.delete(wechat_turn.seen_key(fingerprint))
    except RedisError:
        logger.warning("could not forget a failed request (Redis)", exc_info=True)


def _remember(rt, turn, response):
    """Keep the response for a repeat of the same signed request, for as long as its timestamp is acceptable."""
    try:
        rt.redis.set(wechat_turn.seen_key(turn.fingerprint), wechat_turn.remembered(response), ex=turn.window)
    except RedisError:
        logger.warning("could not remember the response of a signed request (Redis)", exc_info=True)
    return response


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


# -- the user row ---------------------------------------------------------------------------------------------


def _await_reply(rt, turn, wait):
    """Poll for the reply a first delivery of the same message is computing; None when it takes too long."""
    reply_key = wechat_turn.reply_key(turn.incoming.openid, turn.incoming.msg_key)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
        cached = rt.redis.get(reply_key)
        if cached is not None:
            return json.loads(cached)["text"]
    return None


def record_interaction(incoming):
    """Create the user if new and note the interaction at once (note_interaction); return the user. The bot is
    handed it and writes none of these columns. (The webhook itself reads the user from its cache and defers.)"""
    user = user_for_openid(incoming.openid)
    note_interaction(user, incoming)
    return user


def note_interaction(user, incoming, defer=False, now=None):
    """Note follow state and the windows WeChat opens: a message (48 h) or a window event — menu click, follow,
    scan — (1 minute); VIEW, LOCATION and the rest open none (docs/WECHAT.md §2.3). With `defer`, a message's time is
    written only when the stored one is WINDOW_SLACK behind, and returned otherwise for Redis (jobs/interactions.py)."""
    now = now or utcnow()
    at = dt.datetime.fromtimestamp(incoming.create_time, dt.UTC).replace(tzinfo=None) if incoming.create_time else now
    at, deferred = min(at, now), None
    if incoming.kind != "event":
        stored = user.last_message_at
        if defer and stored is not None and at - stored < interactions.WINDOW_SLACK:
            deferred = at if at > stored else None
        else:
            user.wrote_at(at)
    elif incoming.event in codec.WINDOW_EVENTS:
        user.acted_at(at)
    if incoming.event in ("subscribe", "unsubscribe"):
        user.set_following(incoming.event == "subscribe")
        user.subscribed = incoming.event == "subscribe"
    return deferred
