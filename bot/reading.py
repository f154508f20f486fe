"""One message read as (part of) a report request: the slots it names, what it leaves out, what it corrects.

「近三年全部领域用于银行贷款。不对，改成近一年」: the message is cut at its corrections (不对, 改成, 应该是 …) and read
segment by segment, so the later statement wins. In each segment the period is read first and blanked out (so that
its numbers are not taken for anything else), the purpose next (blanked too, with the categories 商务经营 and 行政管理,
so that 商务 the domain is not confused with 商务经营 the purpose), the domains last.
"""

import re
from dataclasses import dataclass, field

from bot import domains as domain_words
from bot import periods, purposes, writing
from bot.parse import ParseError

CORRECTION = re.compile(
    r"不对|不是|说错了|错了|改成|改为|换成|换为|应该是|更正为|更正|重新说|哦不|啊不|不不|我是说|\bi mean\b|\bsorry\b"
)
ASKS = re.compile(
    r"(开|办|出|要|申请|出具|打印|生成|弄|给我|整|需要|查).{0,20}(报告|证明)|无违法|有无违法|无违规|没有违法|违法记录|"
    r"信用报告|专用报告|合规证明|合规报告|\breport\b|\bcertificate\b"
)
SOUND_HINTS = ("报告", "证明", "申请", "信用")  # 信用报高, 申清报告, 正明: read as the words they sound like


@dataclass
class Reading:
    """What one message says about a report request."""

    slots: dict = field(default_factory=dict)  # domains, period, purpose as slot values (JSON-able)
    exclusion: bool = False  # the domains were said as 全部 but some
    unknown: list = field(default_factory=list)  # list items that are not domains
    period_error: str = ""  # the last period named is wrong (the other slots still stand)
    asks: bool = False  # asks for a report or a certificate in any words

    def names_any(self):
        return bool(self.slots) or bool(self.period_error)

    def strong(self):
        """Names a period or a purpose (a domain alone may be a company's name or an answer to another question)."""
        return "period" in self.slots or "purpose" in self.slots or bool(self.period_error)


def asks_for_report(text):
    """True when a message asks for a report or a no-illegal-record certificate (typed with homophones too)."""
    chars = list(writing.readable(text).lower())
    for word in SOUND_HINTS:
        for start, end in writing.find_sound("".join(chars), word):
            chars[start:end] = list(word)
    return bool(ASKS.search("".join(chars)))


def segments(text):
    """The message cut before each correction marker."""
    cuts = [0] + [m.start() for m in CORRECTION.finditer(text)] + [len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def read_request(text, domains, today, current=None):
    """Read `text` against the `current` slots (those already filled, or None): a Reading of what it changes."""
    lowered = writing.readable(text).lower()
    reading = Reading(asks=asks_for_report(text))
    selection = list((current or {}).get("domains") or []) or None
    for part in segments(lowered):
        selection = _read_segment(part, domains, today, reading, selection)
    return reading


def _read_segment(part, domains, today, reading, selection):
    """Read one segment into `reading`; return the domain selection after it."""
    blank = purposes.category_spans(part)
    try:
        period = periods.find_period(part, today)
    except ParseError as error:
        reading.period_error = error.message
        reading.slots.pop("period", None)
        blank += [(m.start, m.end) for m in periods.mentions(part, today)]
    else:
        if period:
            reading.slots["period"] = [d.isoformat() for d in period[0]]
            reading.period_error = ""
            blank += period[1]
    purpose = purposes.find_purpose(_blanked(part, blank))
    if purpose:
        reading.slots["purpose"] = purpose[0].as_slot()
        blank += purpose[1]
    said = domain_words.read(_blanked(part, blank), domains)
    reading.unknown += [name for name in said.unknown if name not in reading.unknown]
    chosen = domain_words.resolve(said, selection, domains)
    if chosen is None:
        return selection
    reading.slots["domains"] = chosen
    reading.exclusion = bool(said.left_out) or (bool(said.removed) and (said.everything or not selection))
    return chosen


def _blanked(text, spans):
    """`text` with each span replaced by a clause break and spaces (so a list does not run across it)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = ["；"] + [" "] * (end - start - 1)
    return "".join(chars)
