"""Binding codes: six digits sent by SMS to the enterprise's registered mobile, and the limits that keep guessing
useless without letting anyone lock the real owner out.

A code belongs to one WeChat account and one enterprise; only an HMAC of it is kept, in Redis, for five minutes.
The SMS is an `SmsMessage` row: the job gets its id, never the text (jobs/sms.py).

The limits (all in Redis, shared by every node):
- per code: three wrong guesses void it; the owner asks for a new one (重发).
- per account: six wrong guesses in 30 minutes, across all enterprises, lock that account's verification for
  30 minutes (one account can no longer try codes across three enterprises in a minute); three codes per hour.
- per enterprise: five codes per hour and ten per day reach its registered mobile (no SMS bombing of the owner's
  phone, and at most 5 × 3 = 15 guesses an hour at any enterprise's codes, whatever the number of accounts).

Why the owner cannot be locked out: wrong guesses lock only the account that made them, never the enterprise, so
other people's guesses do not touch the owner's account or the code sent to it. The enterprise's own limit never
refuses either: once its codes for the hour or the day are used, the next person is offered 人工审核绑定 (licence and
authorisation photos, checked by staff) instead of a code, a path that always stays open to the real owner.
"""

import hashlib
import hmac
import re
import secrets

from bot import parse, texts
from bot.parse import ParseError
from jobs.sms import enqueue_sms, sms_job_queued
from models.tables.accounts import HandledMessage, SmsMessage

CODE_SECONDS = 5 * 60
WRONG_PER_CODE = 3
WRONG_PER_ACCOUNT = 6
ACCOUNT_WINDOW = 30 * 60
CODES_PER_ACCOUNT_HOUR = 3
CODES_PER_ENTERPRISE_HOUR = 5
CODES_PER_ENTERPRISE_DAY = 10
MOBILE = re.compile(r"^1[3-9]\d{9}$")


class CodeLocked(ParseError):
    """This account made too many wrong guesses: the flow ends."""


class EnterpriseBusy(ParseError):
    """The enterprise's codes for the hour or the day are used: offer staff review instead."""


def usable_mobile(raw):
    """The registered mobile as 11 digits, or None when it cannot receive an SMS (landline, empty, malformed)."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    digits = re.sub(r"^(\+?86)", "", digits)
    return digits if MOBILE.match(digits) else None


def mask_mobile(mobile):
    """138****1234."""
    return f"{mobile[:3]}****{mobile[-4:]}"


def _code_key(openid, enterprise_id):
    return f"bot:bind:code:{openid}:{enterprise_id}"


def _account_key(what, openid):
    return f"bot:bind:account-{what}:{openid}"


def _enterprise_key(what, enterprise_id):
    return f"bot:bind:enterprise-{what}:{enterprise_id}"


def _digest(ctx, enterprise_id, code):
    secret = ctx.rt.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{ctx.user.openid}:{enterprise_id}:{code}".encode(), hashlib.sha256).hexdigest()


def account_locked(redis, openid):
    """True while this account may not verify codes (too many wrong guesses)."""
    return bool(redis.exists(_account_key("lock", openid)))


def _count(redis, key, seconds):
    """Add one to a counter that lives `seconds` from its first count; return the new count."""
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, seconds, nx=True)
    return pipe.execute()[0]


def _used(redis, key):
    return int(redis.get(key) or 0)


def send_code(ctx, enterprise):
    """Send a fresh code to the registered mobile, once per message (a repeat of the message sends nothing more);
    return the masked mobile. ParseError at the account's limit; EnterpriseBusy at the enterprise's."""
    key = f"bind-code:{ctx.user.id}:{ctx.incoming.msg_key}"
    masked = HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "send_code",
                                     lambda: _new_code(ctx, enterprise, key))
    row = SmsMessage.pending(key)
    if row is not None and not sms_job_queued(ctx.rt, row.id):  # after the commit: the job always finds its row
        enqueue_sms(ctx.rt, row.id)
    return masked


def _new_code(ctx, enterprise, dedup_key):
    redis, openid = ctx.rt.redis, ctx.user.openid
    if account_locked(redis, openid):
        raise CodeLocked(texts.BIND_LOCKED)
    if _used(redis, _account_key("sent", openid)) >= CODES_PER_ACCOUNT_HOUR:
        raise ParseError(texts.BIND_TOO_MANY_CODES)
    if (_used(redis, _enterprise_key("sent-hour", enterprise.id)) >= CODES_PER_ENTERPRISE_HOUR
            or _used(redis, _enterprise_key("sent-day", enterprise.id)) >= CODES_PER_ENTERPRISE_DAY):
        raise EnterpriseBusy(texts.BIND_ENTERPRISE_BUSY)
    _count(redis, _account_key("sent", openid), 3600)
    _count(redis, _enterprise_key("sent-hour", enterprise.id), 3600)
    _count(redis, _enterprise_key("sent-day", enterprise.id), 24 * 3600)
    code = f"{secrets.randbelow(10**6):06d}"
    pipe = redis.pipeline()
    pipe.delete(_code_key(openid, enterprise.id))
    pipe.hset(_code_key(openid, enterprise.id), mapping={"digest": _digest(ctx, enterprise.id, code), "wrong": 0})
    pipe.expire(_code_key(openid, enterprise.id), CODE_SECONDS)
    pipe.execute()
    mobile = usable_mobile(enterprise.mobile)
    SmsMessage.queue(dedup_key, mobile, texts.SMS_CODE.format(code=code))
    return mask_mobile(mobile)


def check_code(ctx, enterprise_id, text):
    """True for the right code; ParseError (format, expired, wrong with attempts left, void) otherwise.

    The account's sixth wrong guess within 30 minutes locks its verification and raises CodeLocked.
    """
    code = parse.find_code(text)
    if code is None:
        raise ParseError(texts.BIND_CODE_FORMAT)
    redis, openid = ctx.rt.redis, ctx.user.openid
    if account_locked(redis, openid):
        raise CodeLocked(texts.BIND_LOCKED)
    key = _code_key(openid, enterprise_id)
    stored = redis.hget(key, "digest")
    if stored is None:
        raise ParseError(texts.BIND_CODE_EXPIRED)
    if hmac.compare_digest(stored.decode(), _digest(ctx, enterprise_id, code)):
        redis.delete(key)
        return True
    wrong = redis.hincrby(key, "wrong", 1)
    if _count(redis, _account_key("wrong", openid), ACCOUNT_WINDOW) >= WRONG_PER_ACCOUNT:
        redis.set(_account_key("lock", openid), "1", ex=ACCOUNT_WINDOW)
        redis.delete(_account_key("wrong", openid), key)
        raise CodeLocked(texts.BIND_LOCKED)
    if wrong >= WRONG_PER_CODE:
        redis.delete(key)
        raise ParseError(texts.BIND_CODE_VOID.format(count=wrong))
    return _wrong(WRONG_PER_CODE - wrong)


def _wrong(left):
    raise ParseError(texts.BIND_CODE_WRONG.format(left=left))
