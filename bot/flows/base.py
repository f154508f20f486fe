"""The form machinery: a flow is ordered slots (prompt + parser), then a numbered confirmation summary.

State lives in `ctx.state` (a JSON-able dict the engine keeps in Redis):
`{"flow": name, "step": slot name | "confirm" | a flow's own step, "slots": {name: value}, "data": {...},
"editing": slot name | None}`. A flow that finishes sets `ctx.state = None`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bot import parse, texts
from bot.domains import DomainInfo
from bot.parse import ParseError
from models.refusals import Refusal
from models.tables.accounts import Binding
from models.tables.registry import Domain

CONFIRM = "confirm"


@dataclass
class Ctx:
    """One inbound message being handled: the runtime, the user, the message and the conversation state."""

    rt: Any
    user: Any
    incoming: Any
    today: Any
    state: dict | None = None
    flow: Any = None  # the Flow handling this message
    questions: Callable | None = None  # text → the FAQ's answer or None (the engine sets it)
    conversation: Any = None  # bot/state.py's Conversation: the state as read, the writes asked for

    @property
    def slots(self):
        return self.state["slots"]

    @property
    def data(self):
        return self.state["data"]

    @cached_property
    def domains(self):
        """The active domains as parse.DomainInfo, in seed order."""
        return [DomainInfo(d.code, d.name, tuple(d.alias_list())) for d in Domain.ordered()]

    @cached_property
    def bound(self):
        """Enterprises this user is currently bound to, the active one first. The user's active enterprise is read
        again with them: the webhook's user may come from its cache (jobs/interactions.py), and staff approval of a
        binding writes the column too."""
        found, self.user.active_enterprise_id = Binding.enterprises_and_active(self.user)
        found.sort(key=lambda e: e.id != self.user.active_enterprise_id)
        return found

    def forget_bound(self):
        """Read the bindings again on next use (after binding or unbinding)."""
        self.__dict__.pop("bound", None)

    def bound_enterprise(self, enterprise_id):
        """The enterprise if this user is bound to it now; raise NotBound otherwise (never reveal another's data)."""
        for enterprise in self.bound:
            if enterprise.id == enterprise_id:
                return enterprise
        raise NotBound(texts.NOT_BOUND_ANY)

    def set_active(self, enterprise):
        """Make `enterprise` (or None) the user's active one."""
        self.user.set_active_enterprise(enterprise)

    def faq_reply(self, text):
        """The FAQ's answer to `text` when it is a common question, else None."""
        return self.questions(text) if self.questions else None


class NotBound(Refusal):
    """The user asked about an enterprise they are not bound to."""


def _always(ctx):
    return True


def _as_text(ctx, value):
    return str(value)


@dataclass
class Slot:
    """One question of a form. `parse(ctx, text)` returns a JSON-able value or raises ParseError."""

    name: str
    label: str
    ask: Callable
    parse: Callable | None = None
    show: Callable = _as_text
    needed: Callable = _always
    images: bool = False  # collects image media_ids until 「完成」
    optional: bool = False  # an image slot that may stay empty
    editable: bool = True
    free_text: bool = False  # the answer is the owner's own words (a reason): keywords inside it are just words


class Flow:
    """A conversation the engine can run: started by a keyword, fed text and images, resumed after a lapse.

    A flow declares how it is started: `keywords` (whole messages, docs/CONTRACT.md §5; the first is its name in the
    help and the menu), `aliases` (other whole messages: short forms, English), `menu_key` (the custom menu's CLICK
    key, when the menu offers it) and `help_line` (what 「帮助」 says about it). bot/catalogue.py derives the keyword
    table, the menu's keys, the help text and the guide's list from these declarations.
    """

    name = ""
    title = ""
    keywords = ()
    aliases = ()
    menu_key = None
    help_line = ""

    def at_free_text(self, ctx):
        """True when the current step asks for the owner's own words."""
        return False

    def begin(self, ctx, prefill=None):
        raise NotImplementedError

    def on_text(self, ctx, text):
        raise NotImplementedError

    def on_image(self, ctx, media_id):
        """An image where none is expected."""
        return texts.IMAGE_NOT_EXPECTED + "\n" + self.prompt(ctx)

    def back(self, ctx):
        return texts.CANNOT_GO_BACK + "\n" + self.prompt(ctx)

    def prompt(self, ctx):
        raise NotImplementedError


class FormFlow(Flow):
    """Slots asked one at a time, each answer validated; 返回 goes one slot back; a numbered summary to confirm."""

    slots: list = []
    confirm = True

    def precheck(self, ctx):
        """A reply that stops the flow before it starts (e.g. nothing bound), or None."""
        return None

    def setup(self, ctx, prefill):
        """Fill what is known before the first question."""
        ctx.slots.update(prefill or {})

    def complete(self, ctx):
        """Act on the filled slots; return the reply. Set ctx.state = None when done."""
        raise NotImplementedError

    def filled(self, ctx, slot, value):
        """Hook after a slot is filled; a returned text is the reply instead of the next question."""
        return None

    def begin(self, ctx, prefill=None):
        stop = self.precheck(ctx)
        if stop:
            return stop
        ctx.state = {"flow": self.name, "step": None, "slots": {}, "data": {}, "editing": None}
        self.setup(ctx, prefill)
        return self.advance(ctx)

    def slot(self, name):
        return next(s for s in self.slots if s.name == name)

    def active_slots(self, ctx):
        return [s for s in self.slots if s.needed(ctx)]

    def editable_slots(self, ctx):
        return [s for s in self.active_slots(ctx) if s.editable]

    def advance(self, ctx, lead=""):
        """Ask the next empty slot, show the summary, or complete."""
        ctx.state["editing"] = None
        for slot in self.active_slots(ctx):
            if slot.name not in ctx.slots:
                ctx.state["step"] = slot.name
                return _join(lead, slot.ask(ctx))
        if self.confirm:
            ctx.state["step"] = CONFIRM
            return _join(lead, self.summary(ctx))
        return _join(lead, self.complete(ctx))

    def prompt(self, ctx):
        step = ctx.state["step"]
        if step == CONFIRM:
            return self.summary(ctx)
        return self.slot(step).ask(ctx)

    def at_free_text(self, ctx):
        step = ctx.state["step"]
        return step != CONFIRM and any(s.name == step and s.free_text for s in self.slots)

    def summary(self, ctx):
        """The numbered summary: every editable slot by number, then how to confirm or change."""
        lines = [texts.SUMMARY_HEAD.format(title=self.title), *self.summary_header(ctx)]
        for number, slot in enumerate(self.editable_slots(ctx), start=1):
            lines.append(f"{number}. {slot.label}：{slot.show(ctx, ctx.slots[slot.name])}")
        lines.append(texts.SUMMARY_FOOT)
        return "\n".join(lines)

    def summary_header(self, ctx):
        """Unnumbered lines above the items (e.g. the enterprise when only one is bound)."""
        return []

    def on_text(self, ctx, text):
        step = ctx.state["step"]
        if step == CONFIRM:
            return self.on_confirm_text(ctx, text)
        slot = self.slot(step)
        if slot.images:
            return self.on_image_slot_text(ctx, slot, text)
        try:
            value = slot.parse(ctx, text)
        except ParseError as error:
            return self.not_understood(ctx, text, error.message)
        return self.fill(ctx, slot, value)

    def not_understood(self, ctx, text, message):
        """A text that does not answer the step: the FAQ's answer when it is a question (and the step again), else
        `message` (what a right answer looks like)."""
        if self.at_free_text(ctx):
            return message
        answer = ctx.faq_reply(text)
        if answer:
            return answer + "\n" + texts.FAQ_IN_FLOW.format(title=self.title, prompt=self.prompt(ctx))
        return message

    def fill(self, ctx, slot, value):
        """Store a slot's value, run the flow's hook, go on (back to the summary after an edit)."""
        ctx.slots[slot.name] = value
        editing = ctx.state.get("editing")
        lead = self.filled(ctx, slot, value)
        if lead is not None or ctx.state is None or ctx.state["flow"] != self.name:
            return lead
        if editing and self.confirm:
            ctx.state["editing"] = None
            ctx.state["step"] = CONFIRM
            return self.summary(ctx)
        return self.advance(ctx)

    def on_confirm_text(self, ctx, text):
        if parse.yes_no(text):
            return self.complete(ctx)
        editable = self.editable_slots(ctx)
        try:
            number = parse.parse_edit(text, len(editable))
        except ParseError as error:
            return error.message
        if number is None:
            return self.not_understood(ctx, text, texts.CONFIRM_HOW)
        slot = editable[number - 1]
        ctx.state["step"] = slot.name
        ctx.state["editing"] = slot.name
        ctx.data.pop(f"media:{slot.name}", None)
        return slot.ask(ctx)

    def on_image(self, ctx, media_id):
        step = ctx.state["step"]
        slot = None if step == CONFIRM else self.slot(step)
        if not slot or not slot.images:
            return super().on_image(ctx, media_id)
        media = ctx.data.setdefault(f"media:{slot.name}", [])
        if len(media) >= texts.MAX_IMAGES:
            return texts.IMAGES_FULL.format(limit=texts.MAX_IMAGES)
        media.append(media_id)
        return texts.IMAGE_RECEIVED.format(count=len(media))

    def on_image_slot_text(self, ctx, slot, text):
        word = parse.command_word(text)
        media = ctx.data.get(f"media:{slot.name}", [])
        if word in parse.DONE_WORDS or (slot.optional and word in parse.SKIP_WORDS):
            if not media and not slot.optional:
                return texts.IMAGE_REQUIRED
            ctx.data.pop(f"media:{slot.name}", None)
            return self.fill(ctx, slot, media if word in parse.DONE_WORDS else [])
        return texts.IMAGE_WAITING + ("" if not slot.optional else texts.IMAGE_SKIP_HINT)

    def back(self, ctx):
        """One slot back (its answer is asked again); from the summary, back to the last item."""
        active = self.active_slots(ctx)
        step = ctx.state["step"]
        names = [s.name for s in active]
        index = len(names) if step == CONFIRM else names.index(step)
        earlier = [s for s in active[:index] if s.editable]
        if not earlier:
            return texts.FIRST_STEP + "\n" + self.prompt(ctx)
        previous = earlier[-1]
        for slot in active[active.index(previous):]:
            ctx.slots.pop(slot.name, None)
            ctx.data.pop(f"media:{slot.name}", None)
        ctx.state["editing"] = None
        ctx.state["step"] = previous.name
        return previous.ask(ctx)


def show_photos(ctx, value):
    """An image slot in a summary: how many photos, or 无."""
    return texts.PHOTOS.format(count=len(value)) if value else texts.NO_PHOTOS


def _join(lead, text):
    return f"{lead}\n{text}" if lead else text


class EnterpriseFormFlow(FormFlow):
    """A form about one of the user's bound enterprises: none bound stops it; a single one is pre-filled."""

    def precheck(self, ctx):
        return None if ctx.bound else texts.NEED_BINDING.format(title=self.title)

    def setup(self, ctx, prefill):
        enterprise_setup(ctx)
        super().setup(ctx, prefill)

    def summary_header(self, ctx):
        return enterprise_header(ctx)


# --- shared slots ---------------------------------------------------------------------------------------


def enterprise_slot(activate=True):
    """Which bound enterprise, asked only when several are bound; choosing one makes it active (if `activate`)."""

    def ask(ctx):
        lines = [texts.PICK_ENTERPRISE]
        for number, enterprise in enumerate(ctx.bound, start=1):
            mark = texts.ACTIVE_MARK if enterprise.id == ctx.user.active_enterprise_id else ""
            lines.append(f"{number}. {enterprise.name}{mark}")
        return "\n".join(lines)

    def parse_choice(ctx, text):
        number = parse.parse_index(text, len(ctx.bound))
        if number is None:
            raise ParseError(texts.PICK_BY_NUMBER.format(count=len(ctx.bound)))
        enterprise = ctx.bound[number - 1]
        if activate:
            ctx.set_active(enterprise)
        return enterprise.id

    def show(ctx, value):
        return ctx.bound_enterprise(value).name

    return Slot(
        "enterprise", "企业", ask, parse_choice, show, needed=lambda ctx: len(ctx.bound) > 1,
    )


def enterprise_setup(ctx):
    """Pre-fill the enterprise when only one is bound."""
    if len(ctx.bound) == 1:
        ctx.slots["enterprise"] = ctx.bound[0].id
        ctx.set_active(ctx.bound[0])


def enterprise_header(ctx):
    """The enterprise as an unnumbered summary line when it was not asked."""
    if len(ctx.bound) > 1:
        return []
    return [texts.ENTERPRISE_LINE.format(name=ctx.bound_enterprise(ctx.slots["enterprise"]).name)]
