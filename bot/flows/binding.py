"""Binding a WeChat user to an enterprise (SMS code to the registered mobile, or staff review), switching, unbinding.

Codes are kept only as an HMAC in Redis for five minutes. Wrong codes are counted per enterprise (not per user, so
that trying from many accounts does not help): five within 30 minutes lock the enterprise's verification for 30
minutes. At most three codes are sent per enterprise per hour.
"""

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import secrets

from peewee import IntegrityError

from bot import parse, texts
from bot.flows.base import (
    EnterpriseFormFlow,
    FormFlow,
    Slot,
    enterprise_slot,
    show_photos,
)
from bot.parse import ParseError
from jobs.media import enqueue_binding_media
from jobs.sms import enqueue_sms
from models.base import db, utcnow
from models.policy.uscc import InvalidUSCC, validate
from models.tables.accounts import MOBILE_CHANGED, Binding, BindingReview, HandledMessage
from models.tables.registry import Enterprise

CODE_SECONDS = 5 * 60
MAX_WRONG = 5
LOCK_SECONDS = 30 * 60
MAX_CODES_PER_HOUR = 3
MOBILE = re.compile(r"^1[3-9]\d{9}$")


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


def _wrong_key(enterprise_id):
    return f"bot:bind:wrong:{enterprise_id}"


def _lock_key(enterprise_id):
    return f"bot:bind:lock:{enterprise_id}"


def _sent_key(enterprise_id):
    return f"bot:bind:sent:{enterprise_id}"


def _digest(ctx, enterprise_id, code):
    secret = ctx.rt.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{ctx.user.openid}:{enterprise_id}:{code}".encode(), hashlib.sha256).hexdigest()


class CodeLocked(ParseError):
    """Too many wrong codes: the flow ends."""


def is_locked(redis, enterprise_id):
    """True while the enterprise's verification is locked after too many wrong codes."""
    return bool(redis.exists(_lock_key(enterprise_id)))


def send_code(ctx, enterprise):
    """Send a fresh code to the registered mobile, once per message (a repeat of the message sends nothing more);
    return the masked mobile; raise ParseError when the hourly limit is reached."""
    return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "send_code",
                                   lambda: _send_new_code(ctx, enterprise))


def _send_new_code(ctx, enterprise):
    redis = ctx.rt.redis
    sent = redis.incr(_sent_key(enterprise.id))
    if sent == 1:
        redis.expire(_sent_key(enterprise.id), 3600)
    if sent > MAX_CODES_PER_HOUR:
        raise ParseError(texts.BIND_TOO_MANY_CODES)
    code = f"{secrets.randbelow(10**6):06d}"
    redis.set(_code_key(ctx.user.openid, enterprise.id), _digest(ctx, enterprise.id, code), ex=CODE_SECONDS)
    mobile = usable_mobile(enterprise.mobile)
    enqueue_sms(ctx.rt, mobile, texts.SMS_CODE.format(code=code))
    return mask_mobile(mobile)


def check_code(ctx, enterprise_id, text):
    """True for the right code; ParseError (format, expired, wrong with attempts left) otherwise.

    The fifth wrong code locks the enterprise and raises CodeLocked.
    """
    code = parse.normalize(text).replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        raise ParseError(texts.BIND_CODE_FORMAT)
    redis = ctx.rt.redis
    if is_locked(redis, enterprise_id):
        raise CodeLocked(texts.BIND_LOCKED)
    stored = redis.get(_code_key(ctx.user.openid, enterprise_id))
    if stored is None:
        raise ParseError(texts.BIND_CODE_EXPIRED)
    if hmac.compare_digest(stored.decode(), _digest(ctx, enterprise_id, code)):
        redis.delete(_code_key(ctx.user.openid, enterprise_id), _wrong_key(enterprise_id))
        return True
    wrong = redis.incr(_wrong_key(enterprise_id))
    if wrong == 1:
        redis.expire(_wrong_key(enterprise_id), LOCK_SECONDS)
    if wrong >= MAX_WRONG:
        redis.set(_lock_key(enterprise_id), "1", ex=LOCK_SECONDS)
        redis.delete(_wrong_key(enterprise_id), _code_key(ctx.user.openid, enterprise_id))
        raise CodeLocked(texts.BIND_LOCKED)
    raise ParseError(texts.BIND_CODE_WRONG.format(left=MAX_WRONG - wrong))


def bind(ctx, enterprise, method="sms"):
    """Create (or revive) the binding and make the enterprise active."""
    with db.atomic():
        try:
            with db.atomic():
                binding = Binding.create(user=ctx.user, enterprise=enterprise, method=method)
        except IntegrityError:
            binding = Binding.get((Binding.user == ctx.user) & (Binding.enterprise == enterprise))
            if binding.revoked_at is not None:
                binding.revoked_at = None
                binding.method = method
                binding.save(only=["revoked_at", "method"])
        ctx.set_active(enterprise)
    return binding


def _parse_uscc(ctx, text):
    """A valid USCC of an enterprise in the register, not locked: its id."""
    try:
        uscc = validate(text)
    except InvalidUSCC as error:
        raise ParseError(texts.BIND_BAD_USCC.format(reason=error.message)) from None
    enterprise = Enterprise.get_or_none(Enterprise.uscc == uscc)
    if enterprise is None:
        raise ParseError(texts.BIND_UNKNOWN_USCC)
    if is_locked(ctx.rt.redis, enterprise.id):
        raise ParseError(texts.BIND_LOCKED)
    return enterprise.id


def _ask_code(ctx):
    return texts.BIND_ASK_CODE.format(mobile=ctx.data["mobile"])


class BindFlow(FormFlow):
    name = "bind"
    title = "绑定企业"
    confirm = False
    slots = [
        Slot("uscc", "统一社会信用代码", lambda ctx: texts.BIND_ASK_USCC, _parse_uscc),
        Slot("code", "验证码", _ask_code),
    ]

    def filled(self, ctx, slot, value):
        if slot.name != "uscc":
            return None
        enterprise = Enterprise.get_by_id(value)
        if any(e.id == enterprise.id for e in ctx.bound):
            ctx.set_active(enterprise)
            ctx.state = None
            return texts.BIND_ALREADY.format(name=enterprise.name)
        if not usable_mobile(enterprise.mobile):
            ctx.state = None
            return texts.BIND_NO_MOBILE + "\n" + BindReviewFlow().begin(ctx, {"enterprise": enterprise.id})
        try:
            ctx.data["mobile"] = send_code(ctx, enterprise)
        except ParseError as error:
            ctx.slots.pop("uscc")
            return error.message
        return None

    def on_text(self, ctx, text):
        if ctx.state["step"] != "code":
            return super().on_text(ctx, text)
        enterprise = Enterprise.get_by_id(ctx.slots["uscc"])
        if parse.command_word(text) in parse.RESEND_WORDS:
            try:
                ctx.data["mobile"] = send_code(ctx, enterprise)
            except ParseError as error:
                return error.message
            return texts.BIND_CODE_RESENT.format(mobile=ctx.data["mobile"])
        try:
            check_code(ctx, enterprise.id, text)
        except CodeLocked as error:
            ctx.state = None
            return error.message
        except ParseError as error:
            return error.message
        ctx.state = None
        if mobile_recently_changed(ctx, enterprise):
            return review_after_mobile_change(ctx, enterprise)
        bind(ctx, enterprise)
        return texts.BIND_DONE.format(name=enterprise.name)


def mobile_recently_changed(ctx, enterprise):
    """True when the registered mobile was replaced within MOBILE_CHANGE_REVIEW_DAYS: whoever controls the new number
    may not be the enterprise, so the binding waits for a person."""
    if enterprise.mobile_changed_at is None:
        return False
    days = ctx.rt.config.get("MOBILE_CHANGE_REVIEW_DAYS", 90)
    return utcnow() - enterprise.mobile_changed_at < dt.timedelta(days=days)


def review_after_mobile_change(ctx, enterprise):
    """Queue the binding for staff review (the code was right, the mobile is new); one open request per user."""
    pending = BindingReview.get_or_none(
        (BindingReview.user == ctx.user) & (BindingReview.enterprise == enterprise)
        & (BindingReview.status == "submitted")
    )
    if pending is None:
        BindingReview.create(user=ctx.user, enterprise=enterprise, media=[], trigger=MOBILE_CHANGED)
    return texts.BIND_REVIEW_AFTER_MOBILE_CHANGE.format(name=enterprise.name)


class BindReviewFlow(FormFlow):
    """For an enterprise without a usable registered mobile: licence and authorisation photos for staff review."""

    name = "bind_review"
    title = "人工审核绑定"
    slots = [
        Slot("licence", "营业执照", lambda ctx: texts.REVIEW_ASK_LICENCE, show=show_photos, images=True),
        Slot("authorisation", "授权书", lambda ctx: texts.REVIEW_ASK_AUTH, show=show_photos, images=True),
    ]

    def summary_header(self, ctx):
        return [f"企业：{Enterprise.get_by_id(ctx.slots['enterprise']).name}"]

    def complete(self, ctx):
        enterprise = Enterprise.get_by_id(ctx.slots["enterprise"])
        slots, ctx.state = ctx.slots, None
        pending = BindingReview.get_or_none(
            (BindingReview.user == ctx.user) & (BindingReview.enterprise == enterprise)
            & (BindingReview.status == "submitted")
        )
        if pending:
            return texts.REVIEW_PENDING
        media = [{"media_id": m, "kind": "licence"} for m in slots["licence"]]
        media += [{"media_id": m, "kind": "authorisation"} for m in slots["authorisation"]]
        review = BindingReview.create(user=ctx.user, enterprise=enterprise, media=media)
        enqueue_binding_media(ctx.rt, review.id)
        return texts.REVIEW_DONE


class SwitchFlow(FormFlow):
    """Pick the active enterprise among those bound."""

    name = "switch"
    title = "切换企业"
    confirm = False
    slots = [dataclasses.replace(enterprise_slot(activate=False), needed=lambda ctx: True)]

    def precheck(self, ctx):
        if not ctx.bound:
            return texts.NEED_BINDING.format(title=self.title)
        if len(ctx.bound) == 1:
            ctx.set_active(ctx.bound[0])
            return texts.SWITCH_ONE.format(name=ctx.bound[0].name)
        return None

    def complete(self, ctx):
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        ctx.state = None

        def switch():
            ctx.set_active(enterprise)
            return texts.SWITCH_DONE.format(name=enterprise.name)

        return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "switch", switch)


class UnbindFlow(EnterpriseFormFlow):
    """Revoke one of the user's bindings, after confirmation."""

    name = "unbind"
    title = "解绑企业"
    slots = [dataclasses.replace(enterprise_slot(activate=False), needed=lambda ctx: True)]

    def active_slots(self, ctx):
        return self.slots if len(ctx.bound) > 1 else []

    def complete(self, ctx):
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        ctx.state = None

        def unbind():
            Binding.update(revoked_at=utcnow()).where(
                (Binding.user == ctx.user) & (Binding.enterprise == enterprise) & Binding.revoked_at.is_null()
            ).execute()
            rest = [e for e in ctx.bound if e.id != enterprise.id]
            if ctx.user.active_enterprise_id == enterprise.id:
                ctx.user.active_enterprise = rest[0] if rest else None
                ctx.user.save(only=["active_enterprise"])
            reply = texts.UNBIND_DONE.format(name=enterprise.name)
            return reply + (texts.UNBIND_ACTIVE_NOW.format(name=rest[0].name) if rest else "")

        return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "unbind", unbind)
