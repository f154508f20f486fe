"""Slot parsing for the conversation: pure functions from user text to values, or a ParseError with an example.

Nothing here touches the database or Redis: domains are passed in as `DomainInfo` tuples.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from models.policy import uscc

MAX_YEARS = 5
MAX_TEXT = 50


class ParseError(ValueError):
    """A wrong answer; `message` is a Chinese sentence with an example of a right one."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DomainInfo:
    code: str
    name: str
    aliases: tuple = ()


@dataclass(frozen=True)
class Purpose:
    category: str
    text: str

    def label(self):
        """How the purpose is shown in a summary."""
        return f"{self.category}·{self.text}" if self.category != self.text else self.text


# The seed plan (三、适用范围)'s scenarios, in the order the owner sees them numbered.
PURPOSE_CATEGORIES = (
    ("金融", ("上市", "挂牌", "再融资", "并购重组", "发行债券", "银行贷款")),
    ("商务经营", ("招投标", "产权交易", "政府采购", "第三方评估评审")),
    ("行政管理", ("政务服务", "优惠政策", "资金支持", "评比表彰")),
)
OTHER = "其他"
PURPOSE_ITEMS = tuple((cat, item) for cat, items in PURPOSE_CATEGORIES for item in items)
PURPOSE_SYNONYMS = {
    "上市": ("IPO", "首发", "首次公开发行"),
    "挂牌": ("新三板",),
    "再融资": ("融资", "增发"),
    "并购重组": ("并购", "重组", "收购", "兼并"),
    "发行债券": ("发债", "债券", "发行公司债"),
    "银行贷款": ("贷款", "授信", "借款", "银行借款", "信贷"),
    "招投标": ("投标", "招标", "竞标", "招标投标", "投标报名"),
    "产权交易": ("产权",),
    "政府采购": ("采购",),
    "第三方评估评审": ("评估", "评审", "第三方"),
    "政务服务": ("政务", "办事", "行政审批", "审批"),
    "优惠政策": ("优惠", "政策"),
    "资金支持": ("资金", "补贴", "补助", "扶持"),
    "评比表彰": ("评比", "表彰", "评优", "评选", "荣誉"),
}

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUM = r"(?:\d{1,3}|[零〇一二两三四五六七八九十]{1,3})"

CANCEL_WORDS = {"取消", "退出", "不办了", "算了"}
BACK_WORDS = {"返回", "上一步", "后退", "返回上一步"}
RESUME_WORDS = {"继续", "继续办理", "恢复"}
CONFIRM_WORDS = {
    "确认", "确定", "是", "是的", "对", "好", "好的", "提交", "确认提交", "没问题", "可以", "ok", "yes", "y",
}
DONE_WORDS = {"完成", "提交", "好了", "发完了", "没有了", "结束", "完毕"}
SKIP_WORDS = {"无", "没有", "跳过", "不需要", "不用"}
RESEND_WORDS = {"重发", "重新发送", "再发一次", "重发验证码", "没收到"}

_TRAILING = "。.!！?？~～ "
_ALL_ANSWER = re.compile(r"(全部|所有|全|都要|全都要)(的)?(16个|十六个)?(领域|部门|方面)?")
_ALL_IN_SENTENCE = re.compile(r"(全部|所有|全)(的)?(16个|十六个)?(领域|部门|方面)|全部")
_REQUEST_HINT = re.compile(
    r"(开|办|出|要|申请|出具|打印|生成|弄|给我).{0,20}(报告|证明)|无违法|有无违法|无违规|信用报告|专用报告|合规证明"
)
_FULL_DATE = r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)\s*[-/.月]\s*(\d{1,2})(?!\d)\s*[日号]?"
_COMPACT_DATE = r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"
_MONTH = r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)\s*月?"
_YEAR = r"(?<!\d)(\d{4})\s*年"
_DATE = re.compile(f"{_FULL_DATE}|{_COMPACT_DATE}|{_MONTH}|{_YEAR}")
_UNTIL_NOW = re.compile(r"(至|到|-|~)\s*(今|今天|现在|目前|当前)")
_RELATIVE = re.compile(rf"(近|最近|过去|前)?\s*({NUM}|半)\s*(个)?\s*(年|个月|月)(?!\d)")
_EDIT = re.compile(rf"^(改|修改|更改|编辑|重填)?\s*第?\s*({NUM})\s*(项|条|个|号)?$")
_INDEX = re.compile(rf"^第?\s*({NUM})\s*(项|条|个|号|家)?$")


def normalize(text):
    """Full-width to half-width (NFKC), trimmed, inner whitespace collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()


def command_word(text):
    """The message reduced for comparison with command words: normalised, lower-case, trailing punctuation gone."""
    return normalize(text).rstrip(_TRAILING).lower()


def short(text, limit=12):
    """At most `limit` characters of user input, for echoing back."""
    text = normalize(text)
    return text if len(text) <= limit else text[:limit] + "…"


def cn_int(token):
    """An arabic or Chinese numeral (up to 999) as an int, or None."""
    if token.isdigit():
        return int(token)
    if not token or any(ch not in CN_DIGITS and ch != "十" for ch in token):
        return None
    if "十" in token:
        tens, _, ones = token.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return None
        return (CN_DIGITS[tens] if tens else 1) * 10 + (CN_DIGITS[ones] if ones else 0)
    return CN_DIGITS[token] if len(token) == 1 else None


def parse_index(text, count):
    """A numbered choice 1..count ('2', '第二个', '２号') or None when the text is not a number."""
    match = _INDEX.match(command_word(text))
    if not match:
        return None
    value = cn_int(match.group(1))
    if value is None or not 1 <= value <= count:
        raise ParseError(f"请回复 1 到 {count} 之间的序号，例如「1」。")
    return value


def parse_edit(text, count):
    """Which summary item to change ('改2', '2', '修改第二项'), or None when the text is not such a request."""
    match = _EDIT.match(command_word(text))
    if not match:
        return None
    value = cn_int(match.group(2))
    if value is None or not 1 <= value <= count:
        raise ParseError(f"没有第 {match.group(2)} 项。请回复 1 到 {count} 之间的序号，例如「改1」。")
    return value


# --- period ---------------------------------------------------------------------------------------------


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
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _month_end(year, month):
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _date_bounds(match):
    """(first day, last day) a date match stands for: a day, a month or a year."""
    g = match.groups()
    try:
        if g[0]:
            day = dt.date(int(g[0]), int(g[1]), int(g[2]))
            return day, day
        if g[3]:
            day = dt.date(int(g[3]), int(g[4]), int(g[5]))
            return day, day
        if g[6]:
            year, month = int(g[6]), int(g[7])
            return dt.date(year, month, 1), _month_end(year, month)
        year = int(g[8])
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    except ValueError:
        raise ParseError(
            f"日期「{short(match.group(0))}」不存在，请检查后重新输入，例如「2024-01-01至2025-12-31」。"
        ) from None


def check_period(start, end, today):
    """Raise ParseError unless start < end <= today and the span is at most five years."""
    example = "例如「近3年」或「2023-01-01至2025-12-31」"
    if end > today:
        raise ParseError(f"结束日期不能晚于今天（{today.isoformat()}），{example}。")
    if start >= end:
        raise ParseError(f"开始日期应早于结束日期，{example}。")
    if start < years_back(end, MAX_YEARS):
        raise ParseError(f"报告期间最长 5 年，{example}。")
    return start, end


def _explicit_period(text, today):
    """A period given by dates in `text`: (start, end, spans) or None."""
    matches = list(_DATE.finditer(text))
    until_now = _UNTIL_NOW.search(text)
    if not matches:
        return None
    if len(matches) == 1 and not until_now:
        raise ParseError("请同时写明开始和结束日期，例如「2023-01-01至2025-12-31」或「2024-01-01至今」。")
    start = _date_bounds(matches[0])[0]
    if len(matches) >= 2:
        end = _date_bounds(matches[1])[1]
        if _date_bounds(matches[1])[0] <= today < end:
            end = today  # "到2026年" in 2026 means up to today
    else:
        end = today
    spans = [m.span() for m in matches[:2]] + ([until_now.span()] if until_now else [])
    return (*check_period(start, end, today), spans)


def _relative_period(match, today):
    """(start, end) for '近3年', '十二个月', '半年'."""
    amount, unit = match.group(2), match.group(4)
    if amount == "半":
        months = 6
    else:
        value = cn_int(amount)
        if value is None or value == 0:
            raise ParseError("请写明年数，例如「近3年」。")
        months = value * 12 if unit == "年" else value
    if months > MAX_YEARS * 12:
        raise ParseError("报告期间最长 5 年，例如「近5年」或「近3年」。")
    start = years_back(today, months // 12) if months % 12 == 0 else months_back(today, months)
    return start + dt.timedelta(days=1), today


def find_period(text, today):
    """The period named anywhere in `text`: ((start, end), spans) or None; ParseError when it is wrong."""
    text = normalize(text)
    explicit = _explicit_period(text, today)
    if explicit:
        return (explicit[0], explicit[1]), explicit[2]
    match = _RELATIVE.search(text)
    if not match:
        return None
    return _relative_period(match, today), [match.span()]


def parse_period(text, today):
    """An answer to 'which period?': '近3年', '3', '两年', '2023年1月1日到2025年12月31日' → (start, end)."""
    word = command_word(text)
    value = cn_int(word)
    if value is not None:
        word = f"近{value}年"
    found = find_period(word, today)
    if not found:
        raise ParseError("请回复报告期间，例如「近3年」，或起止日期「2023-01-01至2025-12-31」（最长 5 年）。")
    return found[0]


# --- domains --------------------------------------------------------------------------------------------


def _domain_lookup(domains):
    lookup = {}
    for info in domains:
        for word in (info.code, info.name, *info.aliases):
            lookup.setdefault(word.lower(), info.code)
    return lookup


def _number_range(token, count):
    """'3' → [3]; '1-4' → [1..4]; None when not numbers; ParseError when out of range."""
    parts = re.fullmatch(rf"({NUM})(?:\s*[-~至到]\s*({NUM}))?", token)
    if not parts:
        return None
    first = cn_int(parts.group(1))
    last = cn_int(parts.group(2)) if parts.group(2) else first
    if first is None or last is None:
        return None
    if not (1 <= first <= last <= count):
        raise ParseError(f"领域序号应在 1 到 {count} 之间，例如「1、3」；全部领域请回复「全部」。")
    return list(range(first, last + 1))


def _scan_domains(text, domains):
    """Domain names and short names in `text`, longest first: (codes, spans)."""
    words = sorted(_domain_lookup(domains).items(), key=lambda kv: -len(kv[0]))
    taken = [False] * len(text)
    codes, spans = set(), []
    for word, code in words:
        if len(word) < 2 or word.isascii():
            continue
        for m in re.finditer(re.escape(word), text):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                codes.add(code)
                spans.append(m.span())
    return codes, spans


def parse_domains(text, domains):
    """An answer to 'which domains?' ('全部', '1、3', '2-4', '社保 环保', '市场监管和消防') → codes in seed order."""
    word = command_word(text)
    if _ALL_ANSWER.fullmatch(word):
        return [d.code for d in domains]
    lookup = _domain_lookup(domains)
    chosen, spans = _scan_domains(word, domains)
    for token in re.split(r"[,，、;；/\s]+|以及|和|及|与|还有", _blank(word, spans)):
        token = re.sub(r"^(还有|和|的)|(领域|方面|的)$", "", token.strip())
        if not token:
            continue
        numbers = _number_range(token, len(domains))
        if numbers:
            chosen.update(domains[n - 1].code for n in numbers)
        elif token in lookup:
            chosen.add(lookup[token])
        else:
            raise ParseError(
                f"没有找到「{short(token, 8)}」这个领域。请回复领域序号或名称，例如「1、3」或「社保、环保」；"
                "全部领域请回复「全部」。"
            )
    if not chosen:
        raise ParseError("请回复领域序号或名称，例如「1、3」或「社保、环保」；全部领域请回复「全部」。")
    return [d.code for d in domains if d.code in chosen]


def find_domains(text, domains):
    """Domains named anywhere in `text` (all of them for 全部领域): (codes, spans) or None."""
    text = normalize(text).lower()
    match = _ALL_IN_SENTENCE.search(text)
    if match:
        return [d.code for d in domains], [match.span()]
    codes, spans = _scan_domains(text, domains)
    if not codes:
        return None
    return [d.code for d in domains if d.code in codes], spans


# --- purpose --------------------------------------------------------------------------------------------


def purpose_for_item(item):
    """The Purpose of one numbered scenario item."""
    return next(Purpose(cat, name) for cat, name in PURPOSE_ITEMS if name == item)


def _purpose_words():
    pairs = [(item, item) for _, item in PURPOSE_ITEMS]
    pairs += [(syn.lower(), item) for item, syns in PURPOSE_SYNONYMS.items() for syn in syns]
    return sorted(pairs, key=lambda p: -len(p[0]))


def _other_text(rest):
    rest = rest.strip(" :：,，、-—。")
    if len(rest) < 2:
        raise ParseError("请写明具体用途，例如「其他：办理出国签证」。")
    return rest[:MAX_TEXT]


def find_purpose(text):
    """The purpose named anywhere in `text`: (Purpose, spans) or None."""
    text = normalize(text)
    lowered = text.lower()
    for word, item in _purpose_words():
        pos = lowered.find(word)
        if pos >= 0:
            return purpose_for_item(item), [(pos, pos + len(word))]
    match = re.search(r"(用于|用途[是为:]?|拿去|为了)\s*([^,，。;；]{2,})", text)
    if match:
        return Purpose(OTHER, _other_text(match.group(2))), [match.span()]
    return None


def parse_purpose(text):
    """An answer to 'what for?': a number 1..15, a scenario or a synonym, or '其他：own words' → Purpose."""
    word = normalize(text).rstrip(_TRAILING)
    number = cn_int(word)
    if number is not None:
        if 1 <= number <= len(PURPOSE_ITEMS):
            return purpose_for_item(PURPOSE_ITEMS[number - 1][1])
        if number == len(PURPOSE_ITEMS) + 1:
            raise ParseError("请写明具体用途，例如「其他：办理出国签证」。")
        raise ParseError(f"请回复 1 到 {len(PURPOSE_ITEMS) + 1} 之间的序号，例如「6」（银行贷款）。")
    if word.startswith(OTHER):
        return Purpose(OTHER, _other_text(word[len(OTHER):]))
    found = find_purpose(word)
    if found:
        return found[0]
    for category, items in PURPOSE_CATEGORIES:
        if category in word:
            raise ParseError(f"请说明具体用途，例如「{items[-1]}」；都不是请回复「其他：具体用途」。")
    raise ParseError("请回复用途序号或名称，例如「6」或「银行贷款」；都不是请回复「其他：具体用途」。")


# --- free text ------------------------------------------------------------------------------------------


def looks_like_uscc(text):
    """True when a whole message is shaped like a 统一社会信用代码 (18 letters or digits once normalised)."""
    return bool(re.fullmatch(r"[0-9A-Z]{18}", uscc.normalise(text)))


def looks_like_report_request(text):
    """True when a sentence asks for a report or a no-illegal-record certificate."""
    return bool(_REQUEST_HINT.search(normalize(text)))


def _blank(text, spans):
    chars = list(text)
    for start, end in spans:
        chars[start:end] = [" "] * (end - start)
    return "".join(chars)


def extract_report_slots(text, domains, today):
    """Slots of a report request found in one sentence: {'purpose', 'period', 'domains'} (those present).

    The purpose is read first and blanked out so that its words (金融, 商务经营) are not taken for domains;
    the period next, so that dates are not taken for domain numbers. A wrong period raises ParseError.
    """
    text = normalize(text)
    slots = {}
    purpose = find_purpose(text)
    if purpose:
        slots["purpose"] = purpose[0]
        categories = [m.span() for cat, _ in PURPOSE_CATEGORIES for m in re.finditer(cat, text)]
        text = _blank(text, purpose[1] + categories)
    period = find_period(text, today)
    if period:
        slots["period"] = period[0]
        text = _blank(text, period[1])
    found = find_domains(text, domains)
    if found:
        slots["domains"] = found[0]
    return slots
