"""GET/POST /wechat: WeChat's callback. Checks signatures, decrypts, parses, deduplicates, asks the bot, replies.

The request path touches only Redis and the database; slow work is queued by the bot as RQ jobs.
"""

import datetime as dt
import hashlib
import json
import logging
import re
import struct
import time
from xml.parsers.expat import ExpatError

import xmltodict
from flask import Blueprint, Response, abort, current_app, request
from peewee import PeeweeException
from redis.exceptions import RedisError
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

from bot import engine, texts
from bot.messages import Incoming
from models.base import utcnow
from models.tables.accounts import WechatUser, user_for_openid
from runtime import reset_trace_id, set_trace_id, trace_id_for

logger = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

MAX_BODY = 64 * 1024
INFLIGHT_TTL = 30  # seconds a first delivery may take before a retry may handle the message itself
REPLY_TTL = 600
POLL_INTERVAL = 0.1
# Events that open the customer-service window (WeChat's list); VIEW and unsubscribe do not.
WINDOW_EVENTS = {"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"}
XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SUCCESS = "success"
SEEN_PREFIX = "wechat:seen:"  # a signed request (timestamp, nonce, signature) already answered inside the window


class BadMessage(ValueError):
    """The XML is well-formed but is not a message we can read."""


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
    """The response to an authenticated, fresh request: decrypt, parse, ask the bot (once per message), reply."""
    envelope = _parse_xml(body)
    message = _parse_xml(_decrypt(envelope).encode("utf-8")) if encrypted else envelope
    try:
        incoming = parse_incoming(message)
    except BadMessage as exc:
        abort(400, str(exc))
    token = set_trace_id(trace_id_for(f"{incoming.openid}:{incoming.msg_key}"))
    try:
        text = respond(incoming, rt, current_app.config.get("WECHAT_REPLY_WAIT", 3.0))
    except (RedisError, PeeweeException):
        # Redis or the database is away (restarting, failing over): the owner is asked to resend instead of seeing
        # WeChat's "该公众号暂时无法提供服务" after three silent retries; effects are unique in the database.
        logger.exception("storage unavailable while handling %s", incoming.msg_key)
        text = texts.SERVICE_BUSY
    finally:
        reset_trace_id(token)
    if not text:
        return Response(SUCCESS, mimetype="text/plain")
    xml = render_text_reply(incoming.openid, _text(message, "ToUserName") or "", text)
    if encrypted:
        xml = _crypto(current_app.config["WECHAT_AES_KEY"]).encrypt_message(xml, request.args.get("nonce", ""))
    return Response(xml, mimetype="application/xml")


# -- authentication and decoding -------------------------------------------------------------------------------


def _forbid(what):
    logger.warning("rejected /wechat request from %s: bad %s", request.remote_addr, what)
    abort(403)


def _check_fresh(args):
    """403 unless `timestamp` is within WECHAT_MAX_SKEW seconds of our clock: a recorded request replayed later is
    refused however well it is signed."""
    stamp = args.get("timestamp", "")
    skew = current_app.config.get("WECHAT_MAX_SKEW", 300)
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or abs(time.time() - int(stamp)) > skew:
        _forbid(f"timestamp {stamp[:20]!r} (outside {skew} s)")


def _request_fingerprint(args):
    """What makes a signed request unique: its timestamp, nonce and signature (msg_signature in safe mode)."""
    parts = (args.get("timestamp", ""), args.get("nonce", ""), args.get("signature", ""), args.get("msg_signature", ""))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _claim_request(rt, fingerprint):
    """None for a request not seen inside the window; for one seen (WeChat's retry, or a replay), the first
    request's response, waiting WECHAT_REPLY_WAIT s for it while the first is still being answered."""
    window = 2 * current_app.config.get("WECHAT_MAX_SKEW", 300)
    key = SEEN_PREFIX + fingerprint
    try:
        if rt.redis.set(key, "", nx=True, ex=window):
            return None
    except RedisError:
        # Redis away: the message is still answered (the bot then says 系统繁忙); its effects are unique in the
        # database, and the timestamp check above still bounds a replay.
        logger.warning("request dedup unavailable (Redis)", exc_info=True)
        return None
    deadline = time.monotonic() + current_app.config.get("WECHAT_REPLY_WAIT", 3.0)
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
    window = 2 * current_app.config.get("WECHAT_MAX_SKEW", 300)
    stored = json.dumps({"body": response.get_data(as_text=True), "mimetype": response.mimetype})
    try:
        rt.redis.set(SEEN_PREFIX + fingerprint, stored, ex=window)
    except RedisError:
        logger.warning("could not remember the response of a signed request (Redis)", exc_info=True)


def _signature_ok(args):
    """`signature` = sha1 of the sorted token, timestamp and nonce."""
    signer = WeChatSigner()
    signer.add_data(current_app.config["WECHAT_TOKEN"], args.get("timestamp", ""), args.get("nonce", ""))
    return bool(args.get("signature")) and signer.signature == args.get("signature")


def _read_body():
    """The raw body, 413 beyond MAX_BODY (whether or not Content-Length says so)."""
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        abort(413)
    return body


def _parse_xml(raw):
    """The children of `<xml>` as a dict; 400 for malformed XML or any entity declaration (xmltodict refuses them)."""
    try:
        doc = xmltodict.parse(raw, disable_entities=True)
    except (ExpatError, ValueError) as exc:
        abort(400, f"unreadable XML: {exc}")
    inner = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(inner, dict):
        abort(400, "the root element must be <xml> with children")
    return inner


def _crypto(key):
    cfg = current_app.config
    return WeChatCrypto(cfg["WECHAT_TOKEN"], key, cfg["WECHAT_APPID"])


def _decrypt(envelope):
    """The decrypted XML of a safe-mode request: msg_signature checked, the current key tried, then the previous."""
    keys = [k for k in (current_app.config.get("WECHAT_AES_KEY"), current_app.config.get("WECHAT_AES_KEY_PREVIOUS"))
            if k]
    if not keys or not isinstance(envelope.get("Encrypt"), str):
        abort(400, "encrypted message without a key or an <Encrypt> element")
    args = request.args
    for key in keys:
        try:
            return _crypto(key).decrypt_message(envelope, args.get("msg_signature", ""), args.get("timestamp", ""),
                                                args.get("nonce", ""))
        except InvalidSignatureException:
            _forbid("msg_signature")
        except (InvalidAppIdException, ValueError, struct.error, IndexError):
            continue
    abort(400, "cannot decrypt with the current or previous EncodingAESKey")


# -- parsing ---------------------------------------------------------------------------------------------------


def _text(message, key):
    value = message.get(key)
    return value.strip() if isinstance(value, str) else None


def parse_incoming(message):
    """Turn the XML fields into an Incoming; BadMessage when sender, time or type are missing."""
    openid, msg_type = _text(message, "FromUserName"), (_text(message, "MsgType") or "").lower()
    created = _text(message, "CreateTime") or ""
    if not openid or len(openid) > 64 or not msg_type or not created.isdigit():
        raise BadMessage("FromUserName, CreateTime and MsgType are required")
    msg_id = _text(message, "MsgId")
    base = {"openid": openid, "create_time": int(created), "raw_type": msg_type,
            "msg_key": msg_id if msg_id and msg_type != "event" else f"{openid}:{created}"}
    if msg_type == "text":
        content = message.get("Content")
        return Incoming(kind="text", text=content if isinstance(content, str) else "", **base)
    if msg_type == "voice":
        return Incoming(kind="voice", text=_text(message, "Recognition") or None,
                        media_id=_text(message, "MediaId"), **base)
    if msg_type == "image":
        return Incoming(kind="image", media_id=_text(message, "MediaId"), **base)
    if msg_type == "event":
        return _parse_event(message, base)
    return Incoming(kind="other", **base)


def _parse_event(message, base):
    """Events: lower-cased name, EventKey, and a scancode event's ScanResult as `text`."""
    event = (_text(message, "Event") or "").lower()
    scan = message.get("ScanCodeInfo")
    scanned = _text(scan, "ScanResult") if isinstance(scan, dict) else None
    return Incoming(kind="event", event=event, event_key=_text(message, "EventKey") or None, text=scanned, **base)


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
    """Create the user if new; note follow state and, for window-opening input, `last_message_at`; return the user
    (the bot is handed it and writes none of these columns).

    Single-statement conditional updates, no read-then-write transaction: concurrent messages of one user neither
    lose an update nor trip SQLite's snapshot conflict.
    """
    now = utcnow()
    at = dt.datetime.fromtimestamp(incoming.create_time, dt.UTC).replace(tzinfo=None) if incoming.create_time else now
    at = min(at, now)
    user = user_for_openid(incoming.openid)
    if incoming.kind != "event" or incoming.event in WINDOW_EVENTS:
        (WechatUser.update(last_message_at=at)
         .where((WechatUser.id == user.id)
                & (WechatUser.last_message_at.is_null() | (WechatUser.last_message_at < at)))
         .execute())
    if incoming.event in ("subscribe", "unsubscribe"):
        WechatUser.update(subscribed=incoming.event == "subscribe").where(WechatUser.id == user.id).execute()
    return user


# -- rendering -------------------------------------------------------------------------------------------------


def cdata(value):
    """`value` as CDATA: characters XML forbids removed, every `]]>` split across two sections."""
    clean = XML_INVALID.sub("", str(value))
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(to_user, from_user, text, now=None):
    """A passive text reply, rendered here (wechatpy's renderer does not escape CDATA)."""
    created = int(now if now is not None else time.time())
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    )
