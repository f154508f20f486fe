"""Entry point of the conversation: one inbound message → the passive reply text (or None).

The webhook looks up the user (and records the interaction); the bot is handed that user and never writes its
follow or window columns. Order of precedence for a text:
1. a whole-message command (docs/CONTRACT.md §5, bot/catalogue.py) at any step — typed with a homophone or a near
   miss too, except inside a free-text answer, where only the exact keywords count;
2. 返回 inside a flow;
3. a report request inside another flow, except at a free-text step (the message then starts 申请报告 with what it
   names: a period or a purpose, or a request for a report; a domain alone may answer the flow's own question);
4. the live flow's current step (which answers a common question it does not understand, then asks again);
5. with no live flow: a lapsed flow (offer 「继续」; a lapsed 申请报告 takes the new details), a 统一社会信用代码
   (binds it), a common question, a report request, a greeting; else a short answer that says what works.
"""

import functools
import re

from bot import catalogue, faq, parse, state, texts, writing
from bot.catalogue import CANCEL, HELP, RESEND_QR
from bot.flows import FLOWS
from bot.flows.base import Ctx, NotBound
from bot.flows.my_reports import resend_qr
from bot.menu import KEY_TO_KEYWORD
from bot.reading import read_request
from jobs.delivery import pending_mentions
from models.base import local_today

APPLY = "apply"
QUESTION = re.compile(r"怎么|怎样|如何|什么|吗|么|呢|多少|多久|哪|谁|能不能|可不可以|是不是|\?$|\bhow\b|\bwhat\b")


def handle(incoming, rt, user, today=None, conversation=None, mentions=True):
    """Return the passive reply text for one inbound message from `user` (the webhook's WechatUser), or None.

    The webhook hands over the `conversation` it read with the user lock held (bot/state.py) and applies its writes
    afterwards, and says whether the user may have `mentions` waiting (jobs/interactions.py); called without one,
    the bot takes the lock, reads and writes the conversation itself, and looks for mentions."""
    if conversation is not None:
        return _handle(incoming, rt, user, today, conversation, mentions)
    with state.user_lock(rt.redis, user.openid):
        conversation = state.open(rt.redis, user.openid)
        reply = _handle(incoming, rt, user, today, conversation, mentions)
        state.commit(rt.redis, conversation)
    return reply


def _handle(incoming, rt, user, today, conversation, mentions):
    ctx = Ctx(rt=rt, user=user, incoming=incoming, today=today or local_today(), conversation=conversation)
    ctx.questions = lambda text: answer_question(ctx, text)
    if incoming.kind == "event" and incoming.event == "unsubscribe":
        conversation.clear()
        return None
    ctx.state = conversation.load()
    was_live = ctx.state is not None
    try:
        reply = dispatch(ctx)
    except NotBound as error:
        ctx.state, reply = None, error.message
    if ctx.state is not None:
        conversation.save(ctx.state)
    elif was_live:
        conversation.clear()
    return with_mentions(user, reply) if mentions else reply


def with_mentions(user, reply):
    """Prefix the reply with what could not be delivered earlier (each said once)."""
    if reply is None:
        return None
    return prefixed(pending_mentions(user), reply)


def prefixed(mentions, reply):
    """`reply` after the notices in `mentions` (none: the reply alone)."""
    if not mentions:
        return reply
    return "\n".join([texts.PENDING_HEAD, *mentions, "", reply])


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
        ctx.conversation.clear()
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
    """Commands first, then the live flow, then what a message means on its own."""
    free_text = ctx.state is not None and FLOWS[ctx.state["flow"]].at_free_text(ctx)
    command = catalogue.resolve(text, fuzzy=not free_text)
    word = parse.command_word(text)
    if (command and command.action == CANCEL) or (ctx.state and parse.is_cancel(text)):
        return cancel(ctx)
    if command and command.action == HELP:
        return help_text(ctx)
    if command and command.action == RESEND_QR:
        return resend_qr(ctx)
    if command:
        return start(ctx, command.action)
    if ctx.state is not None:
        return in_flow(ctx, text, word)
    return outside_flow(ctx, text, word)


def in_flow(ctx, text, word):
    """The live flow's step, unless the message goes back or asks for a report from inside another flow."""
    ctx.flow = FLOWS[ctx.state["flow"]]
    if word in parse.BACK_WORDS:
        return ctx.flow.back(ctx)
    if ctx.flow.name != APPLY and not ctx.flow.at_free_text(ctx):
        reading = read_request(text, ctx.domains, ctx.today)
        if reading.strong() or (reading.asks and faq.match(text) is None):
            lead = texts.SWITCHED_TO_APPLY.format(title=ctx.flow.title)
            return start_apply(ctx, reading, lead)
    return ctx.flow.on_text(ctx, text)


def outside_flow(ctx, text, word):
    """A message with no live flow."""
    lapsed = ctx.conversation.load_lapsed()
    reading = read_request(text, ctx.domains, ctx.today)
    question = faq.match(text)
    if lapsed is not None:
        if word in parse.RESUME_WORDS:
            return resume(ctx, lapsed)
        if lapsed["flow"] == APPLY and reading.names_any():
            ctx.state, ctx.flow = _revived(lapsed), FLOWS[APPLY]
            return ctx.flow.take(ctx, reading, texts.RESUMED.format(title=ctx.flow.title))
        if not lapsed.get("lapse_told") and not reading.strong() and question is None:
            ctx.conversation.mark_lapse_told(lapsed)
            return texts.LAPSED.format(title=FLOWS[lapsed["flow"]].title)
    if word in parse.RESUME_WORDS:
        return texts.NOTHING_TO_RESUME
    code = text if parse.looks_like_uscc(text) else parse.find_uscc(text)
    if code:  # a code sent on its own or in a sentence: the owner wants to bind it
        start(ctx, "bind")
        return ctx.flow.on_text(ctx, code)
    if question is not None and (not reading.strong() or _question_only(text, reading)):
        return answer(ctx, question)
    if reading.names_any() or reading.asks:
        return start_apply(ctx, reading)
    return texts.DEFAULT if ctx.bound else texts.DEFAULT_UNBOUND


def _question_only(text, reading):
    """A question that names a purpose in passing (「银行怎么查验我们的报告」): no period, and asked as a question."""
    return "period" not in reading.slots and bool(QUESTION.search(writing.readable(text).lower()))


def start(ctx, name):
    """Start flow `name`, dropping whatever was in progress (a lapsed one too)."""
    ctx.state = None
    ctx.conversation.clear()
    ctx.flow = FLOWS[name]
    return ctx.flow.begin(ctx)


def start_apply(ctx, reading, lead=""):
    """申请报告 with what the message named filled in."""
    ctx.state = None
    ctx.conversation.clear()
    ctx.flow = FLOWS[APPLY]
    return ctx.flow.start_with(ctx, reading, lead)


def _revived(lapsed):
    lapsed.pop("lapse_told", None)
    return lapsed


def resume(ctx, lapsed):
    """Bring a lapsed conversation back at the step where it stopped."""
    ctx.state = _revived(lapsed)
    ctx.flow = FLOWS[lapsed["flow"]]
    return texts.RESUMED.format(title=ctx.flow.title) + "\n" + ctx.flow.prompt(ctx)


def cancel(ctx):
    """Drop the conversation in progress (live or lapsed)."""
    current = ctx.state or ctx.conversation.load_lapsed()
    ctx.state = None
    ctx.conversation.clear()
    if current is None:
        return texts.NOTHING_TO_CANCEL
    return texts.CANCELLED.format(title=FLOWS[current["flow"]].title)


def help_text(ctx):
    """The help derived from the commands' declarations and the FAQ; a flow in progress stays where it was."""
    reply = _help(ctx.rt.config["PUBLIC_BASE_URL"])
    if ctx.state is not None:
        reply += "\n" + texts.HELP_IN_FLOW.format(title=FLOWS[ctx.state["flow"]].title)
    return reply


@functools.lru_cache(maxsize=4)
def _help(base_url):
    """The help text itself: the declarations are fixed for the process, so it is composed once per base URL."""
    lines = [texts.HELP_LINE.format(keyword=keyword, line=line) for keyword, line in catalogue.help_lines()]
    return texts.HELP.format(commands="\n".join(lines), questions="｜".join(faq.titles()), guide=f"{base_url}/guide")


def answer_question(ctx, text):
    """The FAQ's answer when `text` is a common question, else None."""
    question = faq.match(text)
    return answer(ctx, question) if question else None


def answer(ctx, question):
    """The answer to a common question; an unbound user is pointed to 绑定企业."""
    if question.action == RESEND_QR:
        return resend_qr(ctx)
    if question.action == "greeting":
        return texts.GREETING if ctx.bound else texts.GREETING_UNBOUND
    reply = faq.render(question, ctx.rt.config, ctx.domains)
    if not ctx.bound and question.id not in ("how_bind", "thanks"):
        reply += "\n" + texts.UNBOUND_NEXT
    return reply
