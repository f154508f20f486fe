"""People's writing made readable for the parsers: traditional characters, full-width forms, emoji, Chinese numerals,
homophone typos.

Every inbound text goes through `clean` before it is parsed (a free-text answer is stored as the owner typed it).
The conversions come from maintained libraries: OpenCC (traditional → simplified), cn2an (Chinese numerals), pypinyin
(homophones: 申清报告, 信用报高, 银行代款) and rapidfuzz (near misses: 异议申述, 信用修护).
"""

import re
import unicodedata
from functools import lru_cache

import cn2an
import opencc
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

_T2S = opencc.OpenCC("t2s")
# WeChat sends its built-in emoticons inside text as bracketed names: [微笑] [捂脸] [OK] [强].
_WECHAT_EMOTICON = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,4}\]")
_EMOJI_CATEGORIES = {"So", "Sk", "Cs", "Co"}
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}
_CN_NUMERAL = "零〇一二两三四五六七八九十百壹贰叁肆伍陆柒捌玖拾佰"
_NUMERAL_RUN = re.compile(f"[{_CN_NUMERAL}]+")
# A numeral is read as a number before these (time spans, dates, counts, ordinals) — never in 统一, 一码通, 万一.
_NUMBER_AFTER = re.compile(r"\s*(年|个月|个|月|日|号|天|周|项|条|份|张|位|家|岁|次|位数)")
_NUMBER_BEFORE = re.compile(r"(近|最近|过去|前|第|改|序号|选|是|为)\s*$")
_DIGITS_ONLY = re.compile("[零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖]{4,}")
_APPROXIMATE = {"一两": 2, "两三": 3, "二三": 3, "三四": 4, "三五": 5, "四五": 5}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def clean(text):
    """Simplified characters, half-width forms, no emoji or WeChat emoticons, single spaces, trimmed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _WECHAT_EMOTICON.sub(" ", text)
    text = "".join(" " if _is_emoji(ch) else ch for ch in text)
    text = _T2S.convert(text)
    return re.sub(r"\s+", " ", text).strip()


def _is_emoji(ch):
    return ch in _JOINERS or unicodedata.category(ch) in _EMOJI_CATEGORIES


def numerals(text):
    """Chinese numerals that stand for numbers as arabic digits (近两年 → 近2年, 二〇二三年一月 → 2023年1月,
    十二个月 → 12个月, 验证码一二三四五六 → 123456); the 一 of 统一 or 一码通 stays. 两三年 reads as its upper bound."""
    pieces, last = [], 0
    for match in _NUMERAL_RUN.finditer(text):
        run, start, end = match.group(0), match.start(), match.end()
        value = _numeral_value(run, text[:start], text[end:])
        if value is not None:
            pieces += [text[last:start], str(value)]
            last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _numeral_value(run, before, after):
    """The number a run of numerals stands for in its context, or None to leave it as words."""
    alone = not before.strip() and not after.strip(" 。.!！?？~～")  # a whole answer: 「六」, 「十三」
    if not (alone or _DIGITS_ONLY.fullmatch(run) or _NUMBER_AFTER.match(after) or _NUMBER_BEFORE.search(before)):
        return None
    if run in _APPROXIMATE and after.lstrip().startswith("年"):
        return _APPROXIMATE[run]
    if _DIGITS_ONLY.fullmatch(run):  # a year or a code: digit by digit
        return "".join(str(cn2an.cn2an(ch, "smart")) for ch in run)
    try:
        return int(cn2an.cn2an(run, "smart"))
    except ValueError:  # 百, 十十: not a number cn2an reads
        return None


@lru_cache(maxsize=2048)
def readable(text):
    """`clean` and `numerals` together: the form every parser reads (a message is read by several parsers in one
    turn, and the commands recur: computed once per text and process)."""
    return numerals(clean(text))


# --- homophones and near misses ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def syllables(text):
    """One toneless pinyin syllable per character (a non-Chinese character stands for itself, lower-cased)."""
    return tuple(s.lower() for s in lazy_pinyin(text, errors=lambda chars: list(chars)))


def sounds_alike(a, b):
    """True when two words read the same without tones (报告/报高, 申请/申清, 绑定/帮定)."""
    return len(a) == len(b) and syllables(a) == syllables(b)


def find_sound(text, word):
    """Spans in `text` whose characters read like `word` (代款 for 贷款), left to right."""
    target, said = syllables(word), syllables(text)
    size = len(target)
    return [(i, i + size) for i in range(len(said) - size + 1) if said[i:i + size] == target]


def closest(word, choices, cutoff=75):
    """The one choice `word` was meant to be: itself, a homophone, or a near miss both in writing and in sound
    (a margin over the runner-up keeps 我的报告 and 申请报告 apart); None when nothing is close enough."""
    if word in choices:
        return word
    if not (2 <= len(word) <= 10 and _CJK.search(word)):
        return None
    same_sound = [c for c in choices if sounds_alike(word, c)]
    if len(same_sound) == 1:
        return same_sound[0]
    ranked = process.extract(word, list(choices), scorer=fuzz.ratio, limit=2)
    if not ranked or ranked[0][1] < cutoff:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < 10:
        return None
    best = ranked[0][0]
    sound = fuzz.ratio(" ".join(syllables(word)), " ".join(syllables(best)))
    return best if sound >= 80 else None


def nearest(word, choices, limit=2):
    """The choices that look or sound most like `word`, best first (for 「税务」 → 水务)."""
    def score(choice):
        return max(fuzz.ratio(word, choice), fuzz.ratio(" ".join(syllables(word)), " ".join(syllables(choice))))

    ranked = sorted(choices, key=score, reverse=True)
    return [c for c in ranked[:limit] if score(c) >= 50]
