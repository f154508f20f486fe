"""/wechat: WeChat's callback. Checks signatures and freshness, decrypts, parses, deduplicates, asks the bot,
replies (docs/WECHAT.md §1). The XML itself is bot/codec.py's.

`POST /wechat` — every message — is served by `Callback`, a WSGI layer in front of Flask that answers it without
Flask's request context, hooks, session and routing (a quarter of the webhook's time: bench/webhook_bench.py
--profile); every other request, `GET /wechat` (the server verification) included, goes on to Flask. The request
path touches only Redis and the database; slow work is queued by the bot as RQ jobs.
"""

import datetime as dt
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import NamedTuple
from urllib.parse import parse_qsl

from flask import Blueprint, abort, current_app, request
from peewee import PeeweeException
from redis.exceptions import RedisError
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from bot import codec, engine, texts
from jobs import interactions
from jobs.delivery import take_mentions
from models.base import release_connection, utcnow
from models.tables.accounts import user_for_openid
from runtime import reset_trace_id, set_trace_id, trace_id_for
from webhooks import wechat_turn

logger = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

PATH = "/wechat"
MAX_BODY = 64 * 1024
SUCCESS = "success"


class Refused(Exception):
    """A request answered with an HTTP error: 403 not WeChat's, 400 unreadable, 413 too large."""

    def __init__(self, status, reason=""):
        super().__init__(reason)
        self.status = status


class Answer(NamedTuple):
    """A response of POST /wechat: its text, media type and status, emitted as WSGI (no framework object)."""

    body: str
    mimetype: str = "text/plain"
    status: int = 200

    def __call__(self, environ, start_response):
        data = self.body.encode("utf-8")
        status = HTTPStatus(self.status)
        start_response(f"{status.value} {status.phrase}", [("Content-Type", f"{self.mimetype}; charset=utf-8"),
                                                             ("Content-Length", str(len(data)))])
        return [data]


@dataclass(slots=True)
class Call:
    """One POST: the app's settings and runtime, the signed query arguments, the client's address, and what is to
    be done once the response is sent."""

    cfg: dict
    rt: object
    args: dict
    remote_addr: str
    then: object = None  # a callable, run once the response is sent


def init_app(app):
    """The verification view on Flask; messages through `Callback`, inside the proxy fix (security.init_app)."""
    app.register_blueprint(bp)
    app.wsgi_app = Callback(app.wsgi_app, app)


class Callback:
    """WSGI: `POST /wechat` answered here, everything else passed to `inner` (Flask). The database connection a
    message opened (a new user's, a mention's) is closed at the end, as Flask's teardown does for its views; an
    unexpected error is logged and answered 500 (raised instead where Flask would propagate it: tests, debug)."""

    def __init__(self, inner, app):
        self.inner, self.app = inner, app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        call = Call(self.app.config, self.app.extensions["hegui"], _query(environ), environ.get("REMOTE_ADDR") or "")
        try:
            response = receive(call, _read_body(environ))
        except Refused as refused:
            response = _error(refused.status)
        except Exception:
            if self._propagates():
                raise
            logger.exception("unexpected error answering POST /wechat")
            response = _error(HTTPStatus.INTERNAL_SERVER_ERROR)
        finally:
            release_connection()
        body = response(environ, start_response)
        return _Then(body, call.then) if call.then else body

    def _propagates(self):
        setting = self.app.config["PROPAGATE_EXCEPTIONS"]
        return setting if setting is not None else (self.app.testing or self.app.debug)


class _Then:
    """A response body whose `close()` — which the WSGI server calls once the body is written — runs what the
    message left to do after its response (reading the turn's last script)."""

    __slots__ = ("body", "then")

    def __init__(self, body, then):
        self.body, self.then = body, then

    def __iter__(self):
        return iter(self.body)

    def close(self):
        self.then()


def _query(environ):
    """The query arguments as a dict, the first of a repeated one (as Flask's request.args.get)."""
    args = {}
    for key, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        args.setdefault(key, value)
    return args


def _error(status):
    status = HTTPStatus(status)
    return Answer(f"{status.value} {status.phrase}", status=status.value)


# -- the verification view and the message ---------------------------------------------------------------------


@bp.get("/wechat")
def verify():
    """Server verification: echo `echostr` when the signature is WeChat's."""
    if not _signature_ok(current_app.config, request.args):
        abort(403)
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


def receive(call, body):
    """One message or event: authenticated, fresh and new, then parsed, deduplicated and answered."""
    cfg, args = call.cfg, call.args
    encrypted = args.get("encrypt_type", "").lower() == "aes"
    if not encrypted:
        if cfg.get("WECHAT_AES_KEY") and not cfg.get("WECHAT_ACCEPT_PLAINTEXT"):
            # In safe and compatible mode WeChat always sends encrypt_type=aes; `signature` covers no body, so a
            # plaintext POST could speak as any openid with one leaked callback URL.
            _forbid(call, "plaintext while WECHAT_AES_KEY is set")
        if not _signature_ok(cfg, args):
            _forbid(call, "plaintext signature")  # before parsing: forged bodies never reach the XML parser
    _check_fresh(call)
    # In safe and compatible mode msg_signature covers the body: a replay is the same message, answered by its
    # MsgId's reply; only a plaintext request (whose signature covers no body) is kept by its fingerprint.
    fingerprint = None if encrypted else _request_fingerprint(args)
    try:
        message, incoming, key = _decode(call, body, encrypted)
    except Refused:
        seen = _seen_response(call, fingerprint) if fingerprint else None  # a replay of an answered plaintext
        if seen is not None:  # request gets its answer, whatever its body
            return seen
        raise
    token = set_trace_id(trace_id_for(f"{incoming.openid}:{incoming.msg_key}"))
    turn = wechat_turn.Turn(call.rt.turn_redis, fingerprint, incoming, _seen_window(cfg))
    try:
        return _answer(call, turn, message, incoming, key)
    except BaseException:
        if fingerprint:
            _forget_request(call.rt, fingerprint)  # an error answer is not remembered: WeChat's retry tries again
        raise
    finally:
        reset_trace_id(token)


def _decode(call, body, encrypted):
    """(the message's fields, its Incoming, the AES key that decrypted it or None); 403 or 400 when it is not
    WeChat's or not well formed."""
    cfg, args = call.cfg, call.args
    try:
        message, key = codec.parse_xml(body), None
        if encrypted:
            keys = [k for k in (cfg.get("WECHAT_AES_KEY"), cfg.get("WECHAT_AES_KEY_PREVIOUS")) if k]
            xml, key = codec.decrypt(message, keys, cfg["WECHAT_TOKEN"], cfg["WECHAT_APPID"],
                                     args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
            message = codec.parse_xml(xml.encode("utf-8"))
        incoming = codec.parse_incoming(message, now=int(args["timestamp"]))  # _check_fresh vetted it
    except codec.Forged:
        _forbid(call, "msg_signature")
    except codec.BadMessage as exc:
        raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from exc
    return message, incoming, key


def _answer(call, turn, message, incoming, key):
    """The response to an authenticated, fresh, decoded request: the first one's (a replay), the message's reply
    computed once (a repeat of the MsgId gets the stored one), or the bot's, in two Redis round trips."""
    rt, wait = call.rt, call.cfg["WECHAT_REPLY_WAIT"]
    try:
        outcome = turn.begin()
    except RedisError:
        # Redis or the database is away (restarting, failing over): the owner is asked to resend instead of seeing
        # WeChat's "该公众号暂时无法提供服务" after three silent retries; effects are unique in the database.
        logger.exception("storage unavailable while handling %s", incoming.msg_key)
        turn.outcome = "busy"
        return _remember(rt, turn, _render(call, message, incoming, key, texts.SERVICE_BUSY))
    if outcome == "seen":
        return _first_response(call, turn.fingerprint, turn.stored)
    if outcome == "reply":
        return _remember(rt, turn, _render(call, message, incoming, key, turn.stored))
    if outcome == "inflight":
        return _remember(rt, turn, _render(call, message, incoming, key, _await_reply(rt, turn, wait)))
    try:
        user = turn.cached_user or user_for_openid(incoming.openid)
        may_have_mentions = turn.flagged or turn.cached_user is None
        deferred_at = note_interaction(user, incoming, defer=True)
        text = engine.handle(incoming, rt, user, conversation=turn.conversation, mentions=False)
        unsettled = may_have_mentions and text is None  # no reply: nothing was told, the flag stays
        if may_have_mentions and text is not None:
            said, unsettled = take_mentions(user)
            text = engine.prefixed(said, text)
        response = _render(call, message, incoming, key, text)
        turn.finish(text, response, user, deferred_at, flag=unsettled)
        call.then = lambda: _settle(turn)
        return response
    except (RedisError, PeeweeException):
        logger.exception("storage unavailable while handling %s", incoming.msg_key)
        _quietly(turn.abort)
        return _remember(rt, turn, _render(call, message, incoming, key, texts.SERVICE_BUSY))
    except BaseException:
        _quietly(turn.abort)  # let WeChat's retry try again
        raise


def _settle(turn):
    """Once the response is sent: read the answer of the turn's last script (Turn.finish). Should it have failed
    even when run again, the reply has reached the user but the turn is not stored: logged, and the claims released
    (if Redis lets us) so the user's next message need not wait for the lock to expire."""
    msg_key = turn.incoming.msg_key
    token = set_trace_id(trace_id_for(f"{turn.incoming.openid}:{msg_key}"))
    try:
        if not turn.settled():
            logger.warning("the user lock of %s expired while its message was answered", msg_key)
    except RedisError:
        logger.exception("the reply to %s was sent, but its turn could not be stored", msg_key)
        _quietly(turn.abort)
    finally:
        reset_trace_id(token)


def _render(call, message, incoming, key, text):
    """The passive reply carrying `text` (`success` for none) — in safe and compatible mode encrypted with the key
    that decrypted the request (docs/WECHAT.md §1.6)."""
    if not text:
        return Answer(SUCCESS)
    cfg, args = call.cfg, call.args
    xml = codec.render_text_reply(incoming.openid, codec.field(message, "ToUserName") or "", text)
    if key:
        xml = codec.encrypt(xml, key, cfg["WECHAT_TOKEN"], cfg["WECHAT_APPID"], args.get("nonce", ""))
    return Answer(xml, "application/xml")


def _quietly(release):
    try:
        release()
    except RedisError:
        logger.warning("could not release a message's claims (Redis)", exc_info=True)


# -- authentication and decoding -------------------------------------------------------------------------------


def _forbid(call, what):
    logger.warning("rejected /wechat request from %s: bad %s", call.remote_addr, what)
    raise Refused(HTTPStatus.FORBIDDEN, what)


def _check_fresh(call):
    """403 unless `timestamp` is within WECHAT_MAX_SKEW seconds of our clock: a recorded request replayed later is
    refused however well it is signed."""
    stamp = call.args.get("timestamp", "")
    skew = call.cfg["WECHAT_MAX_SKEW"]
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or abs(time.time() - int(stamp)) > skew:
        _forbid(call, f"timestamp {stamp[:20]!r} (outside {skew} s)")


def _request_fingerprint(args):
    """What makes a signed request unique: its timestamp, nonce and signature (msg_signature in safe mode)."""
    parts = (args.get("timestamp", ""), args.get("nonce", ""), args.get("signature", ""), args.get("msg_signature", ""))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _seen_window(cfg):
    return 2 * cfg["WECHAT_MAX_SKEW"]


def _seen_response(call, fingerprint):
    """For a signed request seen inside the window (WeChat's retry, or a replay), the first request's response;
    None for one not seen (or when Redis is away)."""
    try:
        stored = call.rt.redis.get(wechat_turn.seen_key(fingerprint))
    except RedisError:
        logger.warning("request dedup unavailable (Redis)", exc_info=True)
        return None
    return None if stored is None else _first_response(call, fingerprint, stored.decode())


def _first_response(call, fingerprint, stored):
    """The first request's response, waiting WECHAT_REPLY_WAIT s for it while the first is still being answered
    (`success` after that)."""
    if not stored:
        for _ in wechat_turn.pauses(call.cfg["WECHAT_REPLY_WAIT"]):
            stored = (call.rt.redis.get(wechat_turn.seen_key(fingerprint)) or b"").decode()
            if stored:
                break
    if not stored:
        return Answer(SUCCESS)
    body, mimetype = wechat_turn.recalled(stored)
    return Answer(body, mimetype)


def _forget_request(rt, fingerprint):
    try:
        rt.redis.delete(wechat_turn.seen_key(fingerprint))
    except RedisError:
        logger.warning("could not forget a failed request (Redis)", exc_info=True)


def _remember(rt, turn, response):
    """Keep the response for a repeat of the same signed request, for as long as its timestamp is acceptable (a
    plaintext one: see `receive`)."""
    if not turn.fingerprint:
        return response
    try:
        rt.redis.set(wechat_turn.seen_key(turn.fingerprint), wechat_turn.remembered(response), ex=turn.window)
    except RedisError:
        logger.warning("could not remember the response of a signed request (Redis)", exc_info=True)
    return response


def _signature_ok(cfg, args):
    """`signature` = sha1 of the sorted token, timestamp and nonce."""
    expected = codec.signature(cfg["WECHAT_TOKEN"], args.get("timestamp", ""), args.get("nonce", ""))
    return bool(args.get("signature")) and hmac.compare_digest(args["signature"].encode(), expected.encode())


def _read_body(environ):
    """The raw body, 413 beyond MAX_BODY (whether or not Content-Length says so), 400 for a Content-Length that is
    not a number."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared and not (declared.isascii() and declared.isdigit()):
        raise Refused(HTTPStatus.BAD_REQUEST, "Content-Length")
    if declared and int(declared) > MAX_BODY:
        raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    stream = get_input_stream(environ)  # werkzeug's: no body unless a length is declared or the server ends it
    body = stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return body


# -- the user row ---------------------------------------------------------------------------------------------


def _await_reply(rt, turn, wait):
    """Poll for the reply a first delivery of the same message is computing; None when it takes too long."""
    reply_key = wechat_turn.reply_key(turn.incoming.openid, turn.incoming.msg_key)
    for _ in wechat_turn.pauses(wait):
        cached = rt.redis.get(reply_key)
        if cached is not None:
            return wechat_turn.read_reply(cached)
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
