"""Entry point of the conversation: one inbound message → the passive reply text (or None).

Order of precedence for a text: a whole-message keyword (docs/CONTRACT.md §5) at any step; 返回 inside a flow; the live
flow's current step; a lapsed flow (offer 「继续」); a sentence that asks for a report; the default answer.
"""

from bot import parse, state, texts
from bot.flows import FLOWS, KEYWORD_FLOWS
from bot.flows.base import Ctx, NotBound
from bot.flows.reports import start_from_sentence
from bot.menu import KEY_TO_KEYWORD
from jobs.delivery import pending_mentions
from models.base import local_today
from models.tables.accounts import WechatUser, user_for_openid

HELP_WORD = "帮助"
CANCEL_WORD = "取消"


def handle(incoming, rt, today=None):
    """Return the passive reply text for one inbound message, or None for no reply."""
    user = user_for_openid(incoming.openid)  # the webhook creates it; here too so the bot stands on its own
    ctx = Ctx(rt=rt, user=user, incoming=incoming, today=today or local_today())
    if incoming.kind == "event" and incoming.event == "unsubscribe":
        return unsubscribe(ctx)
    with state.user_lock(rt.redis, user.openid):
        ctx.state = state.load(rt.redis, user.openid)
        was_live = ctx.state is not None
        try:
            reply = dispatch(ctx)
        except NotBound as error:
            ctx.state, reply = None, error.message
        if ctx.state is not None:
            state.save(rt.redis, user.openid, ctx.state)
        elif was_live:
            state.clear(rt.redis, user.openid)
    return with_mentions(user, reply)


def with_mentions(user, reply):
    """Prefix the reply with what could not be delivered earlier (each said once)."""
    if reply is None:
        return None
    mentions = pending_mentions(user)
    if not mentions:
        return reply
    return "\n".join([texts.PENDING_HEAD, *mentions, "", reply])


def unsubscribe(ctx):
    """Forget the conversation and mark the user unsubscribed; WeChat shows nothing."""
    state.clear(ctx.rt.redis, ctx.user.openid)
    WechatUser.update(subscribed=False).where(WechatUser.id == ctx.user.id).execute()
    return None


def dispatch(ctx):
    """The reply for any kind of message."""
    incoming = ctx.incoming
    if incoming.kind == "event":
        return on_event(ctx)
    if incoming.kind == "voice":
        text = (incoming.text or "").strip()
        return on_text(ctx, text) if text else texts.VOICE_EMPTY
    if incoming.kind == "text":
        return on_text(ctx, incoming.text or "")
    if incoming.kind == "image":
        return on_image(ctx)
    return texts.UNSUPPORTED


def on_event(ctx):
    """Follow, menu clicks, scans; other events get no reply."""
    event, key = ctx.incoming.event, ctx.incoming.event_key or ""
    if event == "subscribe":
        ctx.state = None
        state.clear(ctx.rt.redis, ctx.user.openid)
        WechatUser.update(subscribed=True).where(WechatUser.id == ctx.user.id).execute()
        return texts.WELCOME
    if event == "click" and key in KEY_TO_KEYWORD:
        return on_text(ctx, KEY_TO_KEYWORD[key])
    if event == "scan":
        return texts.WELCOME if ctx.state is None else None
    return None


def on_image(ctx):
    """An image goes to the flow step collecting photos; elsewhere it gets a helpful answer."""
    if ctx.state is None:
        return texts.IMAGE_OUTSIDE
    ctx.flow = FLOWS[ctx.state["flow"]]
    return ctx.flow.on_image(ctx, ctx.incoming.media_id)


def on_text(ctx, text):
    """Keywords first, then the live flow, then a lapsed one, then free text."""
    word = parse.command_word(text)
    if word == CANCEL_WORD or (ctx.state and word in parse.CANCEL_WORDS):
        return cancel(ctx)
    if word == HELP_WORD:
        return help_text(ctx)
    if word in KEYWORD_FLOWS:
        return start(ctx, KEYWORD_FLOWS[word])
    if ctx.state is not None:
        ctx.flow = FLOWS[ctx.state["flow"]]
        if word in parse.BACK_WORDS:
            return ctx.flow.back(ctx)
        return ctx.flow.on_text(ctx, text)
    lapsed = state.load_lapsed(ctx.rt.redis, ctx.user.openid)
    if lapsed is not None:
        if word in parse.RESUME_WORDS:
            return resume(ctx, lapsed)
        if not lapsed.get("lapse_told"):
            state.mark_lapse_told(ctx.rt.redis, ctx.user.openid, lapsed)
            ctx.state = None
            return texts.LAPSED.format(title=FLOWS[lapsed["flow"]].title)
    if word in parse.RESUME_WORDS:
        return texts.NOTHING_TO_RESUME
    if parse.looks_like_uscc(text):  # a code sent on its own: the owner wants to bind it
        start(ctx, "bind")
        return ctx.flow.on_text(ctx, text)
    if parse.looks_like_report_request(text):
        ctx.flow = FLOWS["apply"]
        return start_from_sentence(ctx, text)
    return texts.DEFAULT


def start(ctx, name):
    """Start flow `name`, dropping whatever was in progress (a lapsed one too)."""
    ctx.state = None
    state.clear(ctx.rt.redis, ctx.user.openid)
    ctx.flow = FLOWS[name]
    return ctx.flow.begin(ctx)


def resume(ctx, lapsed):
    """Bring a lapsed conversation back at the step where it stopped."""
    lapsed.pop("lapse_told", None)
    ctx.state = lapsed
    ctx.flow = FLOWS[lapsed["flow"]]
    return texts.RESUMED.format(title=ctx.flow.title) + "\n" + ctx.flow.prompt(ctx)


def cancel(ctx):
    """Drop the conversation in progress (live or lapsed)."""
    current = ctx.state or state.load_lapsed(ctx.rt.redis, ctx.user.openid)
    ctx.state = None
    state.clear(ctx.rt.redis, ctx.user.openid)
    if current is None:
        return texts.NOTHING_TO_CANCEL
    return texts.CANCELLED.format(title=FLOWS[current["flow"]].title)


def help_text(ctx):
    """The short help; a flow in progress stays where it was."""
    reply = texts.HELP.format(guide=f"{ctx.rt.config['PUBLIC_BASE_URL']}/guide")
    if ctx.state is not None:
        reply += "\n" + texts.HELP_IN_FLOW.format(title=FLOWS[ctx.state["flow"]].title)
    return reply
