"""The report period in the owner's words: 近3年, 两年, 近半年, 近12个月, 去年, 今年以来, 上半年, 2024年至今,
2023-01-01至2025-12-31, last 3 years. Pure functions of the text and today (`find_period` reads text already
through `writing.readable`; `parse_period` takes an answer as typed).

When a message names several periods (「近三年……不对，改成近一年」) the last one is the owner's answer.
"""

import datetime as dt
import re
from dataclasses import dataclass

from bot import texts, writing
from bot.parse import ParseError, short

MAX_YEARS = 5
EXAMPLE = texts.PERIOD_EXAMPLE

_FULL_DATE = r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)\s*[-/.月]\s*(\d{1,2})(?!\d)\s*[日号]?"
_COMPACT_DATE = r"(?<![0-9A-Za-z])((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?![0-9A-Za-z])"
_MONTH = r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)\s*月?(?:份)?"
_YEAR = r"(?<!\d)(\d{4})\s*年(?:度)?"
_DATE = re.compile(f"{_FULL_DATE}|{_COMPACT_DATE}|{_MONTH}|{_YEAR}")
_RANGE_JOIN = re.compile(r"^\s*(至|到|—|－|-|~|～|直到|一直到)\s*$")
_UNTIL_NOW = re.compile(
    r"^\s*(?:的)?\s*((至|到|-|~|直到)\s*(今天|今日|现在|目前|当前|今|现今|眼下)|至今|迄今|以来|开始|以后|之后|起(?!止))"
)
_HALF = r"(上半年|下半年)"
_NAMED = re.compile(
    rf"(今年|本年度?|去年|上一?年度?|前年)(?:的)?(?:{_HALF}|1整?年|全年|一?整年|(\d{{1,2}})月份?)?|{_HALF}"
)
_RELATIVE = re.compile(r"(近|最近|过去|前|这)?\s*(?<!\d)(\d{1,2}|半)(?!\d)\s*(个)?\s*(年|个月|月)(半)?")
_ENGLISH_NUMBERS = {  # hand-written: cn2an reads Chinese numerals only, and these twelve words are all owners use
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_ENGLISH = re.compile(
    r"\b(last|past|recent|previous)\s+(\d{1,2}|" + "|".join(_ENGLISH_NUMBERS) + r")?\s*(years?|months?)\b"
    r"|\b(this year|since\s+(\d{4}))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    period: tuple | None  # (first day, last day), or None when the mention is wrong
    error: str = ""


def years_back(day, years):
    """The same calendar day `years` earlier (28 Feb for a 29 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def months_back(day, months):
    """The same day `months` earlier, clamped to the month's end."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = month_end(year, month + 1).day
    return dt.date(year, month + 1, min(day.day, last))


def month_end(year, month):
    """The last day of a month."""
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def check_period(start, end, today):
    """(start, end); ParseError unless start < end <= today and the span is at most five years."""
    if end > today:
        raise ParseError(texts.PERIOD_FUTURE.format(today=today.isoformat(), example=EXAMPLE))
    if start >= end:
        raise ParseError(texts.PERIOD_BACKWARDS.format(example=EXAMPLE))
    if start < years_back(end, MAX_YEARS):
        raise ParseError(texts.PERIOD_TOO_LONG.format(example=EXAMPLE))
    return start, end


def _bounds(match):
    """(first day, last day) a date match stands for: a day, a month or a year; ValueError for a date that is not."""
    g = match.groups()
    if g[0]:
        day = dt.date(int(g[0]), int(g[1]), int(g[2]))
        return day, day, "day"
    if g[3]:
        day = dt.date(int(g[3]), int(g[4]), int(g[5]))
        return day, day, "day"
    if g[6]:
        year, month = int(g[6]), int(g[7])
        return dt.date(year, month, 1), month_end(year, month), "month"
    year = int(g[8])
    return dt.date(year, 1, 1), dt.date(year, 12, 31), "year"


def _explicit(text, today):
    """Mentions made of dates: a range (two dates joined by 至/到), a start with 至今, or one month or year."""
    found, matches, i = [], list(_DATE.finditer(text)), 0
    while i < len(matches):
        first = matches[i]
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        joined = nxt is not None and _RANGE_JOIN.match(text[first.end():nxt.start()])
        try:
            start, first_end, unit = _bounds(first)
        except ValueError:
            found.append(Mention(first.start(), (nxt if joined else first).end(), None, _no_such_date(first.group(0))))
            i += 2 if joined else 1
            continue
        if joined:
            try:
                end_first, end, _ = _bounds(nxt)
                if end_first <= today < end:
                    end = today  # 「到2026年」 in 2026 means up to today
            except ValueError:
                found.append(Mention(first.start(), nxt.end(), None, _no_such_date(nxt.group(0))))
            else:
                found.append(_checked(first.start(), nxt.end(), start, end, today))
            i += 2
            continue
        tail = _UNTIL_NOW.match(text[first.end():])
        if tail:
            found.append(_checked(first.start(), first.end() + tail.end(), start, today, today))
        elif unit == "day":
            found.append(Mention(*first.span(), None, texts.PERIOD_BOTH_ENDS))
        else:
            found.append(_checked(*first.span(), start, min(first_end, today), today))
        i += 1
    return found


def _no_such_date(written):
    return texts.PERIOD_NO_SUCH_DATE.format(date=short(written), example=EXAMPLE)


def _checked(begin, end, start, last, today):
    try:
        return Mention(begin, end, check_period(start, last, today))
    except ParseError as error:
        return Mention(begin, end, None, error.message)


def _named(text, today):
    """今年, 去年, 前年, 上半年 …, each optionally followed by 至今/以来."""
    found = []
    for match in _NAMED.finditer(text):
        word, month = match.group(1), match.group(3)
        half = match.group(2) or match.group(4)
        year = today.year
        if word in ("去年", "上年", "上一年", "上年度", "上一年度"):
            year -= 1
        elif word == "前年":
            year -= 2
        elif word is None and half == "上半年" and today.month <= 6:
            year -= 1  # a bare 上半年 is the last complete one
        elif word is None and half == "下半年":
            year -= 1
        start, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        if half == "上半年":
            last = dt.date(year, 6, 30)
        elif half == "下半年":
            start = dt.date(year, 7, 1)
        elif month and 1 <= int(month) <= 12:  # 去年1月: that month (to 至今 when it follows)
            start, last = dt.date(year, int(month), 1), month_end(year, int(month))
        end = match.end()
        tail = _UNTIL_NOW.match(text[end:])
        if tail:
            last, end = today, end + tail.end()
        found.append(_checked(match.start(), end, start, min(last, today), today))
    return found


def _relative_span(months, today):
    if months == 0:
        raise ParseError(texts.PERIOD_NO_YEARS)
    if months > MAX_YEARS * 12:
        raise ParseError(texts.PERIOD_TOO_LONG_RELATIVE)
    start = years_back(today, months // 12) if months % 12 == 0 else months_back(today, months)
    return start + dt.timedelta(days=1), today


def _relative(text, today):
    """近3年, 两年, 十二个月, 半年, 1年半, and the English 'last 3 years'."""
    found = []
    for match in _RELATIVE.finditer(text):
        amount, unit, half = match.group(2), match.group(4), match.group(5)
        if amount == "半":
            months = 6
        else:
            months = int(amount) * 12 if unit == "年" else int(amount)
            months += 6 if half else 0
        found.append(_relative_mention(match.start(), match.end(), months, today))
    for match in _ENGLISH.finditer(text):
        if match.group(4):
            since = match.group(5)
            start = dt.date(int(since), 1, 1) if since else dt.date(today.year, 1, 1)
            found.append(_checked(match.start(), match.end(), start, today, today))
            continue
        amount, unit = (match.group(2) or "").lower(), match.group(3).lower()
        if not amount and match.group(1).lower() == "last" and unit == "year":
            found.append(_checked(*match.span(), dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31),
                                  today))
            continue
        count = int(amount) if amount.isdigit() else _ENGLISH_NUMBERS.get(amount, 1)
        found.append(_relative_mention(*match.span(), count * 12 if unit.startswith("year") else count, today))
    return found


def _relative_mention(begin, end, months, today):
    try:
        return Mention(begin, end, _relative_span(months, today))
    except ParseError as error:
        return Mention(begin, end, None, error.message)


def mentions(text, today):
    """Every period mention in `text`, in order, without overlaps (dates first, then named, then relative)."""
    chosen = []
    for group in (_explicit(text, today), _named(text, today), _relative(text, today)):
        for mention in group:
            if not any(m.start < mention.end and mention.start < m.end for m in chosen):
                chosen.append(mention)
    return sorted(chosen, key=lambda m: m.start)


def find_period(text, today):
    """The last period named in `text`: ((start, end), spans of every mention) or None; ParseError when it is wrong."""
    found = mentions(text, today)
    if not found:
        return None
    last = found[-1]
    if last.period is None:
        raise ParseError(last.error)
    return last.period, [(m.start, m.end) for m in found]


def parse_period(text, today):
    """An answer to 'which period?': '近3年', '3', '两年', '去年', '2023年1月1日到2025年12月31日' → (start, end)."""
    word = writing.readable(text).strip().rstrip("。.!！?？~～ ")
    if re.fullmatch(r"\d{1,2}", word):
        word = f"近{word}年"
    found = find_period(word, today)
    if not found:
        raise ParseError(texts.PERIOD_ASK_AGAIN)
    return found[0]
