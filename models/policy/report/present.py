"""The one presentation of a report snapshot, shared by the PDF and the verify page (issue 15 item 4).

`summary.view(snapshot, notice)` turns a frozen snapshot into what is printed: the conclusion, the sections, each
record as a block of (label, value) rows, the notes. Both templates lay out this view with the macros of
templates/report/macros.html; neither reads the snapshot's fields itself, so a wording, a date or money style, or the
masking is changed here once. Everything comes from the snapshot alone (hegui.report/1 and later): a field a record
lacks is printed 「未提供」 where the standard expects it, sections this code does not know are skipped.

Our own text uses full-width brackets and dates as 2026年11月27日; official fields (文号, names, 违法事实, 处罚内容)
are printed as sent, except that anything shaped like a mobile or a resident ID number is masked.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from models.base import LOCAL_TZ

MISSING = "未提供"
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![0-9A-Za-z])")
NUMERALS = "一二三四五六七八九十"
PAIR_WIDTH = 22  # characters: a value this short shares its line in the PDF
MARK_WORDS = {"repaired": "已修复", "publicity_ended": "公示期满", "under_objection": "异议处理中",
              "已修复": "已修复", "公示期满": "公示期满", "异议处理中": "异议处理中"}


# -- filters (also registered in both Jinja environments) -----------------------------------------------------------


def cn_date(value):
    """`2026-11-27` (or an ISO datetime, or a date) as 2026年11月27日; '' for nothing."""
    if not value:
        return ""
    text = value if isinstance(value, str) else value.isoformat()
    year, month, day = text[:10].split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def cn_datetime(value):
    """An ISO datetime as 2026年11月27日 09:30, in China time."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return f"{cn_date(moment.date())} {moment:%H:%M}"


def redact(text):
    """Mask anything shaped like a mobile or a resident ID number in free text (a department may have typed one)."""
    if not text:
        return text
    text = ID_NUMBER_RE.sub(lambda m: m.group(0)[:3] + "*" * 11 + m.group(0)[-4:], str(text))
    return MOBILE_RE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


def _plain_number(value):
    """A decimal as people write it: no trailing zeros, no exponent (8.7000 → 8.7, 12.00 → 12)."""
    try:
        number = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None
    text = f"{number.normalize():f}"
    return text


def wan(value):
    """An amount in 万元 as 「8.7万元」; None when there is none."""
    number = None if value in (None, "") else _plain_number(value)
    return f"{number}万元" if number is not None else None


def yuan(value):
    """An amount in 元 as 「1200元」 or 「1200.5元」."""
    number = None if value in (None, "") else _plain_number(value)
    return f"{number}元" if number is not None else None


def given(value):
    """The value as text, masked; 「未提供」 when blank."""
    text = "" if value is None else str(value).strip()
    return redact(text) if text else MISSING


def coverage_label(coverage):
    """已归集至… / 数据截至…（未及时更新） / 数据未归集."""
    coverage = coverage or {}
    state, until = coverage.get("state"), coverage.get("complete_until")
    if state == "missing" or not until:
        return "数据未归集"
    if state == "complete":
        return f"已归集至{cn_date(until)}"
    return f"数据截至{cn_date(until)}（未及时更新）"


def chinese_ordinal(n):
    """1 → 一, 10 → 十, 12 → 十二 (section numbers)."""
    if n <= 10:
        return NUMERALS[n - 1]
    return "十" + NUMERALS[n - 11] if n < 20 else str(n)


FILTERS = {"cn_date": cn_date, "cn_datetime": cn_datetime, "redact": redact, "wan": wan, "yuan": yuan,
           "given": given, "coverage_label": coverage_label}


# -- the view ------------------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One record or item, printed as a block kept whole: its title (official number), marks and rows."""

    title: str
    rows: list
    marks: list = field(default_factory=list)

    def pairs(self, short=PAIR_WIDTH):
        """The rows laid two to a line where both values are short (the PDF's compact blocks), else one."""
        lines, pending = [], None
        for label, value in self.rows:
            if len(value) > short:
                lines.append([(label, value)])
            elif pending is None:
                pending = [(label, value)]
                lines.append(pending)
            else:
                pending.append((label, value))
                pending = None
        return lines


@dataclass
class Part:
    """One domain, arrears kind or list: name, data coverage, the signed statement and its entries."""

    name: str
    coverage: str
    state: str
    statement: str
    entries: list

    @property
    def hit(self):
        return bool(self.entries)


@dataclass
class Section:
    """A numbered section of the report."""

    key: str
    title: str
    parts: list
    empty: str = ""
    number: str = ""


def _first(item, keys):
    """(present, value) of the first of `keys` that `item` has."""
    for key in keys:
        if key in item:
            return True, item[key]
    return False, None


# Optional penalty fields: (label, keys the snapshot may use, formatter). Printed when the record has the key.
PENALTY_OPTIONAL = (
    ("违法事实", ("facts", "violation_facts"), given),
    ("处罚依据", ("basis", "legal_basis"), given),
    ("程序类型", ("procedure",), given),
    ("没收金额", ("confiscated_wan", "confiscation_wan"), lambda v: wan(v) or MISSING),
    ("暂扣或吊销证照", ("licence", "license", "licences"), given),
    ("处罚有效期至", ("valid_until", "penalty_valid_until", "effective_until"), lambda v: cn_date(v) or MISSING),
    ("公示截止期", ("publicity_until", "publicity_end"), lambda v: cn_date(v) or MISSING),
    ("行政相对人类别", ("subject_class", "subject_kind", "subject_type", "subject_category"), given),
    ("备注", ("remark", "remarks", "note"), given),
)
SOURCE_KEYS = ("source", "source_unit", "data_source")
SOURCE_CODE_KEYS = ("source_unit_code", "source_uscc", "source_code")  # the first is the snapshot's (snapshot.py)


def _with_code(name, code):
    """「黑河市市场监督管理局（统一社会信用代码 1123…）」 when a code is given."""
    text = given(name)
    return f"{text}（统一社会信用代码 {code}）" if code and text != MISSING else text


def record_marks(record):
    """The marks of a record: 已修复, 公示期满, 异议处理中 (each once, in that order)."""
    marks = [MARK_WORDS.get(m, m) for m in record.get("marks") or []]
    if record.get("status") == "repaired" or record.get("repair"):
        marks.append("已修复")
    if record.get("publicity_ended"):
        marks.append("公示期满")
    if record.get("under_objection"):
        marks.append("异议处理中")
    order = ["已修复", "公示期满", "异议处理中"]
    return sorted(set(marks), key=lambda m: order.index(m) if m in order else len(order))


def penalty_entry(record):
    """One 违法记录 as printed: the core rows always (「未提供」 when blank), the optional ones when present."""
    category, content = (record.get("category") or "").strip(), (record.get("content") or "").strip()
    punishment = category if not content or content == category else f"{category}：{content}" if category else content
    authority_code = _first(record, ("authority_uscc", "authority_code"))[1]
    rows = [
        ("处罚机关", _with_code(record.get("authority"), authority_code)),
        ("处罚决定日期", cn_date(record.get("decided_on")) or MISSING),
        ("违法行为类型", given(record.get("violation_type"))),
        ("处罚类别及内容", given(punishment)),
    ]
    fine = wan(record.get("fine_wan"))
    if fine or "罚款" in category:
        rows.append(("罚款金额", fine or MISSING))
    for label, keys, show in PENALTY_OPTIONAL:
        present, value = _first(record, keys)
        if present:
            rows.append((label, show(value)))
    repair = record.get("repair")
    if repair:
        rows.append(("信用修复", f"{cn_date(repair.get('repaired_on'))}修复（{given(repair.get('decision_no'))}）"))
    source = _first(record, SOURCE_KEYS)[1]
    rows.append(("数据来源单位", _with_code(source, _first(record, SOURCE_CODE_KEYS)[1])))
    return Entry(title=given(record.get("decision_no")), rows=rows, marks=record_marks(record))


def _sources(item):
    """The 数据来源单位 of an item: one name (with its code when given), or several joined by 、."""
    present, value = _first(item, ("sources", *SOURCE_KEYS))
    if isinstance(value, list):
        names = [v.get("name") if isinstance(v, dict) else v for v in value]
        return "、".join(given(n) for n in names if n) or MISSING
    return _with_code(value, _first(item, SOURCE_CODE_KEYS)[1]) if present else MISSING


def arrears_entry(item):
    """One arrears item: its months, amount, settlement and sources."""
    period = f"{cn_date(item.get('period_start'))}至{cn_date(item.get('period_end'))}"
    if item.get("settled"):
        settled = f"已结清（{cn_date(item['settled_on'])}）" if item.get("settled_on") else "已结清"
    else:
        settled = "未结清"
    rows = [("欠缴金额", yuan(item.get("amount")) or MISSING), ("结清情况", settled),
            ("数据来源单位", _sources(item))]
    return Entry(title=f"欠缴所属期间：{period}", rows=rows)


# Sections of the 565号 content (issue 10): title, the item's title key, and its rows (label, keys, formatter).
def _date_or(missing):
    return lambda v: cn_date(v) or missing


LIST_SECTIONS = {
    "enforcement": ("行政强制", ("decision_no",), (
        ("领域", ("domain",), given), ("类别", ("category", "kind"), given), ("强制方式", ("method",), given),
        ("对象", ("target",), given), ("内容", ("content",), given), ("事由", ("reason",), given),
        ("依据", ("basis",), given), ("涉及金额", ("amount_wan",), wan), ("实施机关", ("authority",), given),
        ("决定日期", ("decided_on",), _date_or(MISSING)), ("解除日期", ("released_on",), _date_or("未解除")))),
    "dishonest_list": ("严重失信主体名单", ("list_name", "name"), (
        ("认定单位", ("unit", "authority"), given), ("认定文书号", ("decision_no",), given),
        ("列入事由", ("reason",), given), ("列入依据", ("basis",), given),
        ("列入日期", ("listed_on",), _date_or(MISSING)), ("移出日期", ("removed_on",), _date_or("尚未移出")))),
    "criminal": ("刑事（单位犯罪）", ("case_no",), (
        ("审判法院", ("court",), given), ("罪名", ("cause", "charge", "crime"), given),
        ("审判程序", ("procedure",), given), ("判决日期", ("judged_on",), _date_or(MISSING)),
        ("生效日期", ("effective_on",), _date_or(MISSING)), ("判决结果", ("result", "sentence"), given),
        ("罚金", ("fine_wan",), wan))),
}


def section_raw(snapshot, key):
    """A 565号 section of the snapshot: under `sections` by its kind (hegui.report/2), or at the top level; None."""
    for part in snapshot.get("sections") or []:
        if isinstance(part, dict) and part.get("kind") == key:
            return part
    return snapshot.get(key)


def list_entry(item, title_keys, spec):
    """One item of a 行政强制 / 名单 / 刑事 section."""
    rows = [(label, show(_first(item, keys)[1])) for label, keys, show in spec]
    rows.append(("数据来源单位", _sources(item)))
    return Entry(title=given(_first(item, title_keys)[1]), rows=rows, marks=record_marks(item))


def _part(raw, name, entries):
    return Part(name=name, coverage=coverage_label(raw.get("coverage")), state=(raw.get("coverage") or {}).get(
        "state", "missing"), statement=redact(raw.get("statement") or ""), entries=entries)


def _parts(raw):
    """A section's parts, whether the snapshot holds one part (a dict) or several (a list)."""
    return [raw] if isinstance(raw, dict) else list(raw or [])


def sections(snapshot):
    """The report's sections in print order; unknown snapshot keys are not sections and are skipped."""
    found = [Section("domains", "各领域违法记录情况", [
        _part(d, d.get("name", ""), [penalty_entry(r) for r in d.get("records") or []])
        for d in snapshot.get("domains") or []])]
    found.append(Section("arrears", "社会保险费及住房公积金欠缴情况", [
        _part(a, a.get("label", ""), [arrears_entry(i) for i in a.get("items") or []])
        for a in snapshot.get("arrears") or []], empty="本报告未包含欠缴信息。"))
    for key, (title, title_keys, spec) in LIST_SECTIONS.items():
        raw = section_raw(snapshot, key)
        if raw is not None:
            parts = [_part(p, p.get("label") or title, [list_entry(i, title_keys, spec) for i in p.get("items") or []])
                     for p in _parts(raw)]
            found.append(Section(key, title, parts))
    repairs = [Entry(title=given(p.get("record_decision_no")), rows=[
        ("领域", given(p.get("domain"))), ("信用修复决定文号", given(p.get("decision_no"))),
        ("修复日期", cn_date(p.get("repaired_on")) or MISSING)]) for p in snapshot.get("repairs") or []]
    found.append(Section("repairs", "行政处罚信用修复记录", [Part("信用修复", "", "complete", "", repairs)],
                         empty="报告期内，该主体无行政处罚信用修复记录。"))
    return found
