"""The report's domains in the owner's words: names and short names, 全部, numbers from the list, exclusions
(除了X、除X外、X以外、X除外、不要X、不含X → every domain but X), additions (再加上X) and names that are not a domain
(「税务」 is named back with the nearest domains). Pure functions; the domains are passed in as DomainInfo.
"""

import re
from dataclasses import dataclass, field

from bot import texts, writing
from bot.parse import ParseError, short

# English names people type (the Domain table holds the Chinese short names).
ENGLISH = {
    "hrss": ("social security", "human resources", "labour", "labor"),
    "natural_resources": ("natural resources",),
    "ecology": ("environment", "environmental", "ecology"),
    "transport": ("transport", "transportation", "traffic"),
    "water": ("water",),
    "agriculture": ("agriculture",),
    "commerce": ("commerce",),
    "health": ("health",),
    "work_safety": ("work safety", "production safety"),
    "market": ("market regulation", "market"),
    "medical_insurance": ("medical insurance",),
    "finance": ("financial regulation", "finance"),
    "fire": ("fire safety", "fire"),
    "housing": ("housing", "construction"),
    "landscaping": ("landscaping", "greening"),
    "urban": ("urban management", "city management"),
}
ALL = re.compile(r"全部|所有|全都|全选|都要|全要|统统|都开|全领域|全部门|\ball\b|everything|every (area|domain|field)")
COUNT_OF = re.compile(r"(\d{1,2})\s*个\s*(领域|部门|方面)")
OTHERS_TOO = re.compile(r"(其他|其余|别的|剩下的|其它)(的)?(都|全)(要|选|行)?")
# Before a list: its names are left out. 除了/除/不含… always count from 全部; 不要/去掉 from the current selection.
EXCLUDE_FROM_ALL = re.compile(r"(除了|除去|除开|除|不含|不包含|不包括|排除|excluding|except|without|but not)\s*$")
REMOVE = re.compile(r"(不要|不用|不需要|去掉|去除|删掉|删除|删去|拿掉|减去|减掉|扣除|刨除|取消|no)\s*(了)?\s*$")
ADD = re.compile(
    r"(再加上|再加|加上|增加|添加|添上|补上|补充|还要|还有|再要|另加|多加|加|plus|add)\s*(个|一个|1个|1项)?\s*$"
)
ONLY = re.compile(r"(只要|只选|只需要|只需|仅要|仅需|仅|就要|只|only)\s*$")
# After a list: its names are left out (X以外、X除外、X不要).
AFTER_EXCLUDE = re.compile(r"^\s*(的)?\s*(以外|之外|除外|外)")
AFTER_REMOVE = re.compile(r"^\s*(的)?\s*(也)?\s*(不要|不用|不需要|去掉|删掉|就不要|就算了|拿掉)")
LIST_SEPARATOR = re.compile(r"\s*(?:[、,，/;；+＋&]|以及|还有|和|及|与|跟|同|and)\s*")
CLAUSE_END = re.compile(r"[。！!？?\n]|[，,；;](?=\s*(近|最近|过去|用于|用途|用来|拿去|为了|给|办|期间))")
PARTICLES = re.compile(
    r"^(我们|我|想|要|需要|帮我|给我|麻烦|开|申请|出|打|弄|办|整|个|一个|1个|份|1份|的|这些|那些|还有|和|及|与|也|都|就|再)+"
    r"|(领域|方面|部门|局|的|这块|这方面|这些|等|等等|都要|也要|记录|报告|证明|信用报告|无违法记录证明|吧|呢|啊)+$"
)
NOT_NAMES = {"报告", "证明", "全部", "其他", "其余", "领域", "部门", "方面", "都要", "等", "等等", "什么的", "之类",
             "所有",
             "信用报告", "记录", "违法记录", "企业", "公司", "我们", "我", "你好", "谢谢", "一下", "一份", "一个"}
COMPANY = re.compile(
    r"[\u4e00-\u9fff]{2,20}?(有限责任公司|股份有限公司|有限公司|分公司|公司|合作社|商行|经销处|门市部|厂)"
)


@dataclass(frozen=True)
class DomainInfo:
    code: str
    name: str
    aliases: tuple = ()


@dataclass
class DomainReading:
    """What one message says about domains."""

    named: list = field(default_factory=list)  # codes named plainly, in order
    added: list = field(default_factory=list)  # codes after 再加上
    left_out: list = field(default_factory=list)  # codes after 除了 / before 以外 (from 全部)
    removed: list = field(default_factory=list)  # codes after 不要 / 去掉 (from the current selection)
    everything: bool = False
    only: bool = False
    unknown: list = field(default_factory=list)  # list items that are not domains
    spans: list = field(default_factory=list)

    def says_anything(self):
        return bool(self.named or self.added or self.left_out or self.removed or self.everything)


def words(domains):
    """(word, code) for every name, short name and English name, longest first."""
    pairs = {}
    for info in domains:
        for word in (info.name, *info.aliases, *ENGLISH.get(info.code, ())):
            if len(word) >= 2:
                pairs.setdefault(word.lower(), info.code)
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def scan(text, domains):
    """Domain names in `text` (lower-cased), longest first, without overlaps: [(start, end, code)] in text order."""
    taken = [False] * len(text)
    for company in COMPANY.finditer(text):  # 黑河市环保科技有限公司 names a company, not 生态环境
        taken[company.start():company.end()] = [True] * (company.end() - company.start())
    found = []
    for word, code in words(domains):
        pattern = rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word)
        for m in re.finditer(pattern, text):
            if not any(taken[m.start():m.end()]):
                taken[m.start():m.end()] = [True] * (m.end() - m.start())
                found.append((m.start(), m.end(), code))
    return sorted(found)


def read(text, domains):
    """What `text` (readable, lower-cased; periods and purposes already blanked) says about domains."""
    reading = DomainReading()
    for clause_start, clause in _clauses(text):
        _read_clause(clause, clause_start, domains, reading)
    return reading


def _clauses(text):
    start = 0
    for match in CLAUSE_END.finditer(text):
        yield start, text[start:match.start()]
        start = match.end()
    yield start, text[start:]


def _read_clause(clause, offset, domains, reading):
    """Sort each name of one clause by the words before and after its run of names."""
    mentions = scan(clause, domains)
    runs = _runs(clause, mentions)
    for run in runs:
        codes = [code for _, _, code in run]
        before, after = clause[:run[0][0]], clause[run[-1][1]:]
        if AFTER_EXCLUDE.match(after) or EXCLUDE_FROM_ALL.search(before):
            reading.left_out += codes
            reading.everything = True
        elif AFTER_REMOVE.match(after) or REMOVE.search(before):
            reading.removed += codes
        elif ADD.search(before):
            reading.added += codes
        else:
            reading.named += codes
            reading.only = reading.only or bool(ONLY.search(before))
        reading.spans += [(offset + s, offset + e) for s, e, _ in run]
    everything = ALL.search(clause) or OTHERS_TOO.search(clause)
    count = COUNT_OF.search(clause)
    if count and int(count.group(1)) == len(domains):  # 「16个领域」 is every domain
        everything = count
    if everything:
        reading.everything = True
        reading.spans.append((offset + everything.start(), offset + everything.end()))
    for item in _unknown_items(clause, mentions):
        code = _unique_prefix(item, domains)
        if code is None:
            reading.unknown.append(item)
            continue
        reading.named.append(code)  # 「消防 市场」: a whole list item that begins one domain's name and no other's
        at = clause.find(item)
        reading.spans.append((offset + at, offset + at + len(item)))


def _unique_prefix(item, domains):
    """The code of the one domain whose name or short name begins with `item` (two characters or more), or None."""
    codes = {info.code for info in domains for word in (info.name, *info.aliases)
             if len(item) >= 2 and word != item and word.startswith(item)}
    return codes.pop() if len(codes) == 1 else None


def _runs(clause, mentions):
    """Mentions joined only by list separators form one run (「社保、环保和住建」)."""
    runs = []
    for mention in mentions:
        if runs and LIST_SEPARATOR.fullmatch(clause[runs[-1][-1][1]:mention[0]] or "、"):
            runs[-1].append(mention)
        else:
            runs.append([mention])
    return runs


def _unknown_items(clause, mentions):
    """Items of a list that names at least one domain but are not domains themselves (「税务、消防」 → 税务)."""
    if not mentions:
        return []
    chars = list(clause)
    for start, end, _ in mentions:
        chars[start:end] = ["\0"] * (end - start)
    # between names, a space separates list items as a 、 does (「消防 市场 近一年」)
    items = [PARTICLES.sub("", item.strip()) for part in LIST_SEPARATOR.split("".join(chars))
             for item in part.split()]
    if not any(item.strip("\0") == "" and item for item in items):
        return []  # no item is just a domain name: not a list of domains
    unknown = []
    for item in items:
        if "\0" in item or not item:
            continue
        if re.fullmatch(r"[\u4e00-\u9fff]{2,8}", item) and item not in NOT_NAMES:
            unknown.append(item)
    return unknown


def nearest_names(name, domains):
    """The domain names nearest to `name` in writing or sound (「税务」 → 水务、商务)."""
    by_word = {w: c for w, c in words(domains) if not w.isascii()}
    names = {d.code: d.name for d in domains}
    near = writing.nearest(name, list(by_word))
    seen = []
    for word in near:
        if names[by_word[word]] not in seen:
            seen.append(names[by_word[word]])
    return seen


def unknown_message(name, domains):
    """「X」 is not a domain, with the nearest ones."""
    near = nearest_names(name, domains)
    hint = texts.DOMAIN_NEAR.format(names="、".join(near)) if near else ""
    return texts.DOMAIN_UNKNOWN.format(name=short(name, 8), hint=hint)


def _number_range(token, count):
    """'3' → [3]; '1-4' → [1..4]; None when not numbers; ParseError when out of range."""
    parts = re.fullmatch(r"(\d{1,2})(?:\s*[-~至到]\s*(\d{1,2}))?", token)
    if not parts:
        return None
    first = int(parts.group(1))
    last = int(parts.group(2)) if parts.group(2) else first
    if not (1 <= first <= last <= count):
        raise ParseError(texts.DOMAIN_RANGE.format(count=count))
    return list(range(first, last + 1))


def numbers(text, domains):
    """Domain codes chosen by number ('1、3', '2-4', '前3个'), or None when the text is not only numbers."""
    first = re.fullmatch(r"前\s*(\d{1,2})\s*(个|项|条)?(领域)?", text)
    if first:
        text = f"1-{first.group(1)}"
    tokens = [t for t in re.split(r"[,，、;；/\s]+|和|及", text) if t]
    if not tokens:
        return None
    chosen = []
    for token in tokens:
        found = _number_range(re.sub(r"^第|(号|项|个)$", "", token), len(domains))
        if found is None:
            return None
        chosen += found
    return [domains[n - 1].code for n in sorted(set(chosen))]


def parse_domains(text, domains):
    """An answer to 'which domains?' ('全部', '1、3', '2-4', '社保 环保', '除了金融以外都要') → codes in seed order."""
    word = writing.readable(text).strip().strip("。.!！?？~～ ").lower()
    chosen = numbers(word, domains)
    if chosen:
        return chosen
    reading = read(word, domains)
    if reading.unknown:
        raise ParseError(unknown_message(reading.unknown[0], domains) + texts.DOMAIN_ASK_AGAIN)
    result = resolve(reading, None, domains)
    if not result:
        leftover = LIST_SEPARATOR.split(word)[0] if word else ""
        lead = unknown_message(leftover, domains) if re.fullmatch(r"[\u4e00-\u9fff]{2,8}", leftover) else ""
        raise ParseError(lead + texts.DOMAIN_ASK_AGAIN)
    return result


def resolve(reading, current, domains):
    """The selection after `reading`, given the `current` one (None when none yet): codes in seed order, or None
    when the reading says nothing about domains."""
    every = [d.code for d in domains]
    if not reading.says_anything():
        return None
    if reading.everything:
        chosen = set(every) | set(reading.named)
    elif reading.named and not reading.added:
        chosen = set(reading.named)
    elif reading.added:
        chosen = set(current or []) | set(reading.added) | set(reading.named)
    else:
        chosen = set(current or every)
    chosen -= set(reading.left_out) | set(reading.removed)
    return [c for c in every if c in chosen] or None
