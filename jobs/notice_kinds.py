"""The kinds of news an owner gets later (a case decided, a report corrected, the view digest, a binding reviewed, the
registered mobile changed): for each, the chat text composed from the facts models/ keep, and the category template
it may go as when WeChat's customer-service window is closed (docs/WECHAT.md §2.3, §2.4).

Each kind's template is an optional setting (`WECHAT_TEMPLATE_<KIND>`): without one, the news waits for the owner's
next message. The setting is the template id, optionally followed by which of the template's keys each slot fills
(`<id> number=character_string2 result=phrase3 …`) when the chosen template numbers its keys otherwise than the
defaults below; a key's type (its name without the digits) must be the slot's type. Nothing goes in `first` or
`remark`: WeChat has dropped them since May 2023.
"""

import re
from dataclasses import dataclass, field

from bot import texts
from jobs.compose import FIELD_RULES, field_type, field_value, neutral


class TemplateSettingError(ValueError):
    """A WECHAT_TEMPLATE_<KIND> setting names an unknown slot or a key of the wrong type."""


@dataclass(frozen=True)
class NoticeKind:
    name: str
    slots: dict  # slot -> (field type, default key)
    details_later: bool = False  # the text says more than the fields: it is also kept for the next message
    setting: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "setting", f"WECHAT_TEMPLATE_{self.name.upper()}")


KINDS = {kind.name: kind for kind in (
    NoticeKind("case_outcome", {"kind": ("thing", "thing1"), "number": ("character_string", "character_string2"),
                                "result": ("phrase", "phrase3"), "at": ("time", "time4")}, details_later=True),
    NoticeKind("report_corrected", {"number": ("character_string", "character_string1"),
                                    "status": ("phrase", "phrase2"), "action": ("thing", "thing3"),
                                    "at": ("time", "time4")}),
    NoticeKind("view_digest", {"count": ("number", "number1"), "units": ("thing", "thing2"),
                               "day": ("date", "date3")}),
    NoticeKind("binding_outcome", {"enterprise": ("thing", "thing1"), "result": ("phrase", "phrase2"),
                                   "next": ("thing", "thing3"), "at": ("time", "time4")}, details_later=True),
    NoticeKind("mobile_changed", {"enterprise": ("thing", "thing1"), "what": ("thing", "thing2"),
                                  "mobile": ("phone_number", "phone_number3"), "at": ("time", "time4")},
               details_later=True),
)}
PAIR = re.compile(r"([a-z_]+)=([a-z_]+[0-9]*)")


# -- the texts --------------------------------------------------------------------------------------------------


def _case_outcome(f):
    head = texts.CASE_OUTCOME_HEAD.format(kind=f["kind"], number=f["number"], decision_no=neutral(f["decision_no"]))
    if f["accepted"]:
        return texts.CASE_ACCEPTED.format(head=head, resolution=f["resolution"], reason=neutral(f["reason"]))
    return texts.CASE_REJECTED.format(head=head, reason=neutral(f["reason"]))


def _view_digest(f):
    day = f["day"]
    lines = [texts.DIGEST_HEAD.format(month=int(day[5:7]), day=int(day[8:10]), count=f["count"])]
    lines += [texts.DIGEST_LINE.format(at=at, unit=neutral(unit) if unit else texts.VIEWS_UNIT_UNKNOWN, number=number)
              for at, unit, number in f["lines"]]
    if f.get("more"):
        lines.append(texts.DIGEST_MORE.format(count=f["more"]))
    lines.append(texts.DIGEST_FOOT)
    return "\n".join(lines)


def _binding_outcome(f):
    if f["approved"]:
        return texts.BINDING_APPROVED.format(name=neutral(f["name"]))
    return texts.BINDING_REFUSED.format(name=neutral(f["name"]), reason=neutral(f["reason"]))


TEXTS = {
    "case_outcome": _case_outcome,
    "report_corrected": lambda f: texts.REPORT_CORRECTED.format(
        issued=f["issued"], number=f["number"], what=texts.REPORT_CORRECTED_WHAT.get(f["resolution"], "更正")),
    "view_digest": _view_digest,
    "binding_outcome": _binding_outcome,
    "mobile_changed": lambda f: texts.MOBILE_CHANGED.format(name=neutral(f["name"]), when=f["when"], old=f["old"],
                                                            new=f["new"], source=neutral(f["source"])),
}


# -- the template fields ------------------------------------------------------------------------------------------

FIELDS = {
    "case_outcome": lambda f: {"kind": f["kind"], "number": f["number"], "at": f["at"],
                               "result": texts.FIELD_CASE_ACCEPTED if f["accepted"] else texts.FIELD_CASE_REJECTED},
    "report_corrected": lambda f: {"number": f["number"], "status": texts.FIELD_CORRECTED,
                                   "action": texts.FIELD_REAPPLY, "at": f["at"]},
    "view_digest": lambda f: {"count": f["count"], "day": f["day"],
                              "units": "、".join(f["units"]) or texts.VIEWS_UNIT_UNKNOWN},
    "binding_outcome": lambda f: {
        "enterprise": f["name"], "at": f["at"],
        "result": texts.FIELD_APPROVED if f["approved"] else texts.FIELD_REFUSED,
        "next": texts.FIELD_BOUND_NEXT if f["approved"] else f["reason"]},
    "mobile_changed": lambda f: {"enterprise": f["name"], "what": texts.FIELD_MOBILE_CHANGED, "mobile": f["new"],
                                 "at": f["at"]},
}


def notice_payload(kind, facts, url=None):
    """The OutboundMessage payload of a notice: its kind and facts (the text is composed when it is delivered)."""
    if kind not in KINDS:
        raise KeyError(f"unknown notice kind {kind!r}")
    return {"notice": kind, "facts": facts, "url": url}


def notice_text(payload):
    """The chat text of a notice payload (an older row's stored text as it is)."""
    kind = payload.get("notice")
    return TEXTS[kind](payload["facts"]) if kind in TEXTS else payload.get("text", "")


def parse_setting(kind, value):
    """(template id, {slot: key}) of a kind's setting, or None when unset; TemplateSettingError when malformed."""
    if not value or not value.strip():
        return None
    template_id, _, rest = value.strip().partition(" ")
    slots = KINDS[kind].slots
    keys = {slot: key for slot, (_type, key) in slots.items()}
    if rest.strip():
        pairs = PAIR.findall(rest)
        if not pairs or PAIR.sub("", rest).replace(",", "").strip():
            raise TemplateSettingError(f"{KINDS[kind].setting}: write slot=key pairs after the id, e.g. "
                                       f"{' '.join(f'{s}={k}' for s, k in keys.items())}")
        keys = dict(pairs)
    for slot, key in keys.items():
        if slot not in slots:
            raise TemplateSettingError(f"{KINDS[kind].setting}: no slot {slot!r} (slots: {', '.join(slots)})")
        if field_type(key) != slots[slot][0] or field_type(key) not in FIELD_RULES:
            raise TemplateSettingError(f"{KINDS[kind].setting}: {slot} is a {slots[slot][0]}, not {key!r}")
    return template_id, keys


def check_settings(config):
    """Raise TemplateSettingError for the first malformed template setting (a start refuses a wrong one; an absent
    one is fine)."""
    for kind in KINDS.values():
        parse_setting(kind.name, config[kind.setting])


def template_for(payload, config):
    """(template id, {key: value}) for a notice payload, or None when its kind has no template configured (or the
    row is an older one without facts). TemplateFieldError when a value does not fit its field."""
    kind = payload.get("notice")
    setting = parse_setting(kind, config[KINDS[kind].setting]) if kind in KINDS else None
    if setting is None:
        return None
    template_id, keys = setting
    values = FIELDS[kind](payload["facts"])
    slots = KINDS[kind].slots
    return template_id, {key: field_value(slots[slot][0], values[slot]) for slot, key in keys.items()}


def details_later(payload):
    """True when a template carries only the headline of this notice: the full text waits for the next message."""
    kind = KINDS.get(payload.get("notice"))
    return bool(kind and kind.details_later)
