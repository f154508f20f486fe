"""The report's purpose in the owner's words: the seed plan's scenarios (三、适用范围), their synonyms and English
names, homophone typos (银行代款), and 「其他：own words」. Pure functions of the readable text.
"""

import re
from dataclasses import dataclass

from bot import texts, writing
from bot.parse import MAX_TEXT, ParseError


@dataclass(frozen=True)
class Purpose:
    category: str
    text: str

    def label(self):
        """How the purpose is shown in a summary."""
        return f"{self.category}·{self.text}" if self.category != self.text else self.text

    def as_slot(self):
        return {"category": self.category, "text": self.text}


# The seed plan (三、适用范围)'s scenarios, in the order the owner sees them numbered.
CATEGORIES = (
    ("金融", ("上市", "挂牌", "再融资", "并购重组", "发行债券", "银行贷款")),
    ("商务经营", ("招投标", "产权交易", "政府采购", "第三方评估评审")),
    ("行政管理", ("政务服务", "优惠政策", "资金支持", "评比表彰")),
)
OTHER = "其他"
ITEMS = tuple((cat, item) for cat, items in CATEGORIES for item in items)
SYNONYMS = {
    "上市": ("ipo", "首发", "首次公开发行", "listing", "go public"),
    "挂牌": ("新三板", "北交所"),
    "再融资": ("融资", "增发", "refinancing", "financing"),
    "并购重组": ("并购", "重组", "收购", "兼并", "merger", "acquisition"),
    "发行债券": ("发债", "债券", "发行公司债", "bond", "bonds"),
    "银行贷款": ("贷款", "授信", "借款", "银行借款", "信贷", "银行", "续贷", "抵押贷", "loan", "bank loan",
                 "credit line"),
    "招投标": ("投标", "招标", "竞标", "招标投标", "投标报名", "中标", "bidding", "bid", "tender", "tendering"),
    "产权交易": ("产权", "property rights"),
    "政府采购": ("采购", "procurement", "government procurement"),
    "第三方评估评审": ("评估", "评审", "第三方", "evaluation", "assessment"),
    "政务服务": ("政务", "办事", "行政审批", "审批", "办证", "许可证", "government service"),
    "优惠政策": ("优惠", "政策", "减免"),
    "资金支持": ("资金", "补贴", "补助", "扶持", "奖补", "subsidy", "grant"),
    "评比表彰": ("评比", "表彰", "评优", "评选", "荣誉", "评先", "award"),
}
# Words that sound like a scenario when typed with the wrong character (代款 for 贷款, 照投标 for 招投标).
SOUND_WORDS = ("银行贷款", "贷款", "招投标", "投标", "招标", "政府采购", "再融资", "融资", "评比表彰")
_OWN_WORDS = re.compile(r"(用于|用途[是为:：]?|拿去|为了|用来)\s*([^,，。;；]{2,})")
_OTHER = re.compile(r"^(其他|其它|别的|other)\s*[:：,，]?\s*")


def for_item(item):
    """The Purpose of one numbered scenario item."""
    return next(Purpose(cat, name) for cat, name in ITEMS if name == item)


def _words():
    pairs = [(item, item) for _, item in ITEMS]
    pairs += [(syn.lower(), item) for item, syns in SYNONYMS.items() for syn in syns]
    return sorted(pairs, key=lambda p: -len(p[0]))


WORDS = _words()
SOUNDS = {word: next(item for w, item in WORDS if w == word) for word in SOUND_WORDS}


def word_pattern(word):
    """An English word stands alone (「IPO用」 still names it: Chinese next to it is no letter); Chinese anywhere."""
    return rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word)


def mentions(text):
    """Every scenario named in `text` (lower-cased): [(start, end, item)] in text order, without overlaps."""
    taken = [False] * len(text)
    found = []
    candidates = [(m.start(), m.end(), item) for word, item in WORDS for m in re.finditer(word_pattern(word), text)]
    candidates += [(s, e, item) for word, item in SOUNDS.items() for s, e in writing.find_sound(text, word)]
    for start, end, item in sorted(candidates, key=lambda c: -(c[1] - c[0])):
        if not any(taken[start:end]):
            taken[start:end] = [True] * (end - start)
            found.append((start, end, item))
    merged = []
    for mention in sorted(found):  # 「政府采购招标」: touching names are one purpose, named by the first
        if merged and merged[-1][1] == mention[0]:
            merged[-1] = (merged[-1][0], mention[1], merged[-1][2])
        else:
            merged.append(mention)
    return merged


# A category named as a purpose: 商务经营 and 行政管理 always; 金融 (also the short name of the domain 金融监管) only
# when it is said as a use (用于金融, 金融用途, 金融类).
_CATEGORY_SAID = re.compile(
    r"商务经营|行政管理|(?<=用于)金融(?!监管)|(?<=用途是)金融(?!监管)|金融(?=用|类|场景|方面的用)"
)


def category_spans(text):
    """Where a scenario category is named as a purpose: blanked so that 商务 is not taken for the domain 商务."""
    return [m.span() for m in _CATEGORY_SAID.finditer(text)]


def find_purpose(text):
    """The last purpose named in `text`: (Purpose, spans of every mention) or None."""
    lowered = text.lower()
    found = mentions(lowered)
    if found:
        return for_item(found[-1][2]), [(s, e) for s, e, _ in found]
    match = _OWN_WORDS.search(text)
    if match and not re.search(r"报告|证明", match.group(2)[:4]):
        return Purpose(OTHER, own_words(match.group(2))), [match.span()]
    return None


def names_other(text):
    """True when the answer starts with 其他 (the owner's own words follow)."""
    return bool(_OTHER.match(text.strip()))


def own_words(rest):
    """The owner's own description of a purpose (「其他：办理出国签证」)."""
    rest = rest.strip(" :：,，、-—。")
    if len(rest) < 2:
        raise ParseError(texts.PURPOSE_OWN_WORDS)
    return rest[:MAX_TEXT]


def parse_purpose(text):
    """An answer to 'what for?': a number 1..15, a scenario or a synonym, or '其他：own words' → Purpose."""
    word = writing.readable(text).strip().rstrip("。.!！?？~～ ")
    if re.fullmatch(r"\d{1,3}", word):
        number = int(word)
        if 1 <= number <= len(ITEMS):
            return for_item(ITEMS[number - 1][1])
        if number == len(ITEMS) + 1:
            raise ParseError(texts.PURPOSE_OWN_WORDS)
        raise ParseError(texts.PURPOSE_RANGE.format(count=len(ITEMS) + 1))
    other = _OTHER.match(word)
    if other:
        return Purpose(OTHER, own_words(word[other.end():]))
    found = find_purpose(word)
    if found:
        return found[0]
    for category, items in CATEGORIES:
        if category in word:
            raise ParseError(texts.PURPOSE_BE_SPECIFIC.format(example=items[-1]))
    raise ParseError(texts.PURPOSE_ASK_AGAIN)
