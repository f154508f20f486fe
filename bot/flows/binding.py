"""Binding a WeChat user to an enterprise (an SMS code to the registered mobile, or staff review), switching,
unbinding. The codes and their limits are in bot/flows/codes.py.

A binding made after the registered mobile changed waits for staff review (whoever holds the new number may not be
the enterprise). The owners already bound are told when someone new binds their enterprise.
"""

import dataclasses
import datetime as dt

from bot import parse, texts
from bot.flows.base import EnterpriseFormFlow, FormFlow, Slot, enterprise_slot, show_photos
from bot.flows.codes import (
    CodeLocked,
    EnterpriseBusy,
    account_locked,
    check_code,
    send_code,
    usable_mobile,
)
from bot.parse import ParseError
from jobs.delivery import enqueue_rows
from jobs.media import enqueue_binding_media
from models.base import to_local, utcnow
from models.policy.report.present import cn_date
from models.policy.uscc import InvalidUSCC, validate
from models.tables.accounts import MOBILE_CHANGED, Binding, BindingReview, HandledMessage
from models.tables.outbound import OutboundMessage
from models.tables.registry import Enterprise

__all__ = ["BindFlow", "BindReviewFlow", "SwitchFlow", "UnbindFlow", "usable_mobile"]


def _parse_uscc(ctx, text):
    """A valid USCC (alone or inside a sentence) of an enterprise in the register: its id."""
    try:
        uscc = validate(parse.find_uscc(text) or text)
    except InvalidUSCC as error:
        raise ParseError(texts.BIND_BAD_USCC.format(reason=error.message)) from None
    enterprise = Enterprise.by_uscc(uscc)
    if enterprise is None:
        raise ParseError(texts.BIND_UNKNOWN_USCC)
    if account_locked(ctx.rt.redis, ctx.user.openid):
        raise ParseError(texts.BIND_LOCKED)
    return enterprise.id


def _ask_code(ctx):
    return texts.BIND_ASK_CODE.format(mobile=ctx.data["mobile"])


class BindFlow(FormFlow):
    name = "bind"
    title = "绑定企业"
    keywords = ("绑定企业",)
    aliases = ("绑定", "绑定公司", "关联企业", "添加企业", "bind", "bind company", "bind enterprise")
    menu_key = "BIND"
    help_line = "用企业登记的手机号验证后绑定"
    confirm = False
    slots = [
        Slot("uscc", "统一社会信用代码", lambda ctx: texts.BIND_ASK_USCC, _parse_uscc),
        Slot("code", "验证码", _ask_code),
    ]

    def filled(self, ctx, slot, value):
        if slot.name != "uscc":
            return None
        enterprise = Enterprise.find(value)
        if any(e.id == enterprise.id for e in ctx.bound):
            ctx.set_active(enterprise)
            ctx.state = None
            return texts.BIND_ALREADY.format(name=enterprise.name)
        if not usable_mobile(enterprise.mobile):
            ctx.state = None
            return texts.BIND_NO_MOBILE + "\n" + BindReviewFlow().begin(ctx, {"enterprise": enterprise.id})
        try:
            ctx.data["mobile"] = send_code(ctx, enterprise)
        except EnterpriseBusy as error:
            ctx.state = None
            return error.message + "\n" + BindReviewFlow().begin(ctx, {"enterprise": enterprise.id})
        except CodeLocked as error:
            ctx.state = None
            return error.message
        except ParseError as error:
            ctx.slots.pop("uscc")
            return error.message
        return None

    def on_text(self, ctx, text):
        if ctx.state["step"] != "code":
            return super().on_text(ctx, text)
        enterprise = Enterprise.find(ctx.slots["uscc"])
        if parse.command_word(text) in parse.RESEND_WORDS:
            return self.resend(ctx, enterprise)
        try:
            check_code(ctx, enterprise.id, text)
        except CodeLocked as error:
            ctx.state = None
            return error.message
        except ParseError as error:
            return self.not_understood(ctx, text, error.message)
        ctx.state = None
        if mobile_recently_changed(ctx, enterprise):
            return review_after_mobile_change(ctx, enterprise)
        return bind(ctx, enterprise)

    def resend(self, ctx, enterprise):
        """A new code (the limits apply); the enterprise's limit reached → staff review instead."""
        try:
            ctx.data["mobile"] = send_code(ctx, enterprise)
        except EnterpriseBusy as error:
            ctx.state = None
            return error.message + "\n" + BindReviewFlow().begin(ctx, {"enterprise": enterprise.id})
        except CodeLocked as error:
            ctx.state = None
            return error.message
        except ParseError as error:
            return error.message
        return texts.BIND_CODE_RESENT.format(mobile=ctx.data["mobile"])


def bind(ctx, enterprise):
    """Bind (once per message), make the enterprise active, and tell the owners already bound; return the reply."""
    notices = []

    def effect():
        binding, new = Binding.bind(ctx.user, enterprise)
        ctx.forget_bound()
        ctx.set_active(enterprise)
        if new:
            notices.extend(tell_owners_new_binding(ctx, enterprise, binding))
        return texts.BIND_DONE.format(name=enterprise.name)

    reply = HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "bind", effect)
    enqueue_rows(notices)  # after the commit: the delivery job always finds its rows
    return reply


def tell_owners_new_binding(ctx, enterprise, binding):
    """Queue a notice to everyone else bound to `enterprise` that a new user bound it; return the row ids."""
    config = ctx.rt.config
    now = utcnow()
    text = texts.BIND_NEW_OWNER_NOTICE.format(
        name=enterprise.name, when=f"{cn_date(to_local(now))} {to_local(now):%H:%M}", issuer=config["REPORT_ISSUER"],
        contact=config["GUIDE_CONTACT"] or texts.CONTACT_NONE)
    fields = {"thing1": "企业新增绑定用户", "thing2": enterprise.name[:20], "time3": f"{to_local(now):%Y-%m-%d %H:%M}"}
    return [
        OutboundMessage.create_once(owner, "notice", {"text": text, "fields": fields, "url": None},
                                    f"bind-notice:{binding.id}:{ctx.incoming.msg_key[-40:]}:{owner}").id
        for owner in Binding.owners_of(enterprise, besides=ctx.user.id)
    ]


def mobile_recently_changed(ctx, enterprise):
    """True when the registered mobile was replaced within MOBILE_CHANGE_REVIEW_DAYS: whoever controls the new number
    may not be the enterprise, so the binding waits for a person."""
    if enterprise.mobile_changed_at is None:
        return False
    days = ctx.rt.config["MOBILE_CHANGE_REVIEW_DAYS"]
    return utcnow() - enterprise.mobile_changed_at < dt.timedelta(days=days)


def review_after_mobile_change(ctx, enterprise):
    """Queue the binding for staff review (the code was right, the mobile is new); one open request per user."""
    BindingReview.submit(ctx.user, enterprise, trigger=MOBILE_CHANGED)
    return texts.BIND_REVIEW_AFTER_MOBILE_CHANGE.format(name=enterprise.name)


class BindReviewFlow(FormFlow):
    """For an enterprise without a usable registered mobile (or whose codes are used up): licence and
    authorisation photos for staff review."""

    name = "bind_review"
    title = "人工审核绑定"
    slots = [
        Slot("licence", "营业执照", lambda ctx: texts.REVIEW_ASK_LICENCE, show=show_photos, images=True),
        Slot("authorisation", "授权书", lambda ctx: texts.REVIEW_ASK_AUTH, show=show_photos, images=True),
    ]

    def summary_header(self, ctx):
        return [texts.ENTERPRISE_LINE.format(name=Enterprise.find(ctx.slots["enterprise"]).name)]

    def complete(self, ctx):
        enterprise = Enterprise.find(ctx.slots["enterprise"])
        slots, ctx.state = ctx.slots, None
        if BindingReview.open_for(ctx.user, enterprise):
            return texts.REVIEW_PENDING
        media = [{"media_id": m, "kind": "licence"} for m in slots["licence"]]
        media += [{"media_id": m, "kind": "authorisation"} for m in slots["authorisation"]]
        review, _ = BindingReview.submit(ctx.user, enterprise, media)
        enqueue_binding_media(ctx.rt, review.id)
        return texts.REVIEW_DONE


class SwitchFlow(FormFlow):
    """Pick the active enterprise among those bound."""

    name = "switch"
    title = "切换企业"
    keywords = ("切换企业",)
    aliases = ("切换", "切换公司", "换企业", "换公司", "switch", "switch company")
    help_line = "绑定多家企业时选择当前企业"
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
    keywords = ("解绑", "解绑企业")
    aliases = ("解除绑定", "取消绑定", "unbind")
    help_line = "解除与企业的绑定"
    slots = [dataclasses.replace(enterprise_slot(activate=False), needed=lambda ctx: True)]

    def active_slots(self, ctx):
        return self.slots if len(ctx.bound) > 1 else []

    def complete(self, ctx):
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        ctx.state = None

        def unbind():
            Binding.unbind(ctx.user, enterprise)
            rest = [e for e in ctx.bound if e.id != enterprise.id]
            if ctx.user.active_enterprise_id == enterprise.id:
                ctx.set_active(rest[0] if rest else None)
            reply = texts.UNBIND_DONE.format(name=enterprise.name)
            return reply + (texts.UNBIND_ACTIVE_NOW.format(name=rest[0].name) if rest else "")

        return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "unbind", unbind)
