"""Answers to the bot's questions: pure functions from the owner's text to values, or a ParseError with an example.

Nothing here touches the database or Redis. The text is first made readable (`bot.writing`); the report's slots have
their own modules (`bot.periods`, `bot.domains`, `bot.purposes`, and `bot.reading` for a whole sentence).
"""

import re

from bot import texts, writing
from models.policy import uscc
from models.refusals import Refusal

MAX_TEXT = 50


class ParseError(Refusal, ValueError):
    """A wrong answer; `message` is a Chinese sentence with an example of a right one."""


CANCEL_WORDS = {"取消", "退出", "不办了", "算了", "不弄了", "cancel", "quit", "exit", "stop"}
_CANCEL_RUN = re.compile(
    r"^((算了|不办了|不弄了|不要了|取消|退出|不用了|先不办了)[,，。!！ ]*)+$|^(cancel|quit|stop|exit)\b"
)
BACK_WORDS = {"返回", "上一步", "后退", "返回上一步", "back"}
RESUME_WORDS = {"继续", "继续办理", "恢复", "continue", "resume"}
DONE_WORDS = {"完成", "提交", "好了", "发完了", "没有了", "结束", "完毕", "传完了", "就这些", "done", "finish"}
SKIP_WORDS = {"无", "没有", "跳过", "不需要", "不用", "没有材料", "无材料", "none", "skip", "no"}
RESEND_WORDS = {"重发", "重新发送", "再发一次", "重发验证码", "没收到", "收不到", "没收到验证码", "收不到验证码",
                "没有收到", "resend"}
KEEP_WORDS = {"保留", "都保留", "保留原报告", "保留旧报告", "都要保留", "不替代", "keep", "keep both"}

_TRAILING = "。.!！?？~～,，、 "
_YES = re.compile(r"^(是|是的|对|对的|好|好的|嗯|嗯嗯|恩|行|可以|可以的|没问题|确认|确定|同意|提交|正确|无误|没错|"
                  r"ok|okay|"
                  r"yes|y|sure|confirm)")
_YES_ANYWHERE = re.compile(r"确认|确定|没问题|无误|没错|没毛病|提交吧|同意|可以提交|就这样|就这么办|已缴清|已经缴清|"
                           r"交完|缴完|已履行|履行完|已完成|已经完成|整改完|交清|缴清|^(交|缴|付)了|已交|已缴|yes|confirm")
_NO = re.compile(r"不是|不对|没有|还没|未|否|不行|不可以|不同意|不用|别|不要|欠着|没交|没缴|no\b|not\b|don't")
_EDIT = re.compile(r"^(改|修改|更改|编辑|重填|change)?\s*第?\s*(\d{1,3})\s*(项|条|个|号)?$")
_INDEX = re.compile(r"^(选|要|是)?\s*第?\s*(\d{1,3})\s*(项|条|个|号|家|份)?(吧|的)?$")
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_USCC_IN_TEXT = re.compile(r"(?<![0-9A-Z])([0-9A-Z]{18})(?![0-9A-Z])")


def normalize(text):
    """The owner's text made readable: simplified, half-width, no emoji, numerals as digits, single spaces."""
    return writing.readable(text)


def command_word(text):
    """The message reduced for comparison with command words: readable, lower-case, trailing punctuation gone."""
    return normalize(text).strip(_TRAILING).lower()


def short(text, limit=12):
    """At most `limit` characters of user input, for echoing back."""
    text = writing.clean(text)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_index(text, count):
    """A numbered choice 1..count ('2', '第二个', '２号', '选3') or None when the text is not a number."""
    match = _INDEX.match(command_word(text))
    if not match:
        return None
    value = int(match.group(2))
    if not 1 <= value <= count:
        raise ParseError(texts.PICK_RANGE.format(count=count))
    return value


def parse_edit(text, count):
    """Which summary item to change ('改2', '2', '修改第二项'), or None when the text is not such a request."""
    match = _EDIT.match(command_word(text))
    if not match:
        return None
    value = int(match.group(2))
    if not 1 <= value <= count:
        raise ParseError(texts.EDIT_RANGE.format(number=match.group(2), count=count))
    return value


def is_cancel(text):
    """True for a message that only says to stop (「算了不办了」「取消，不用了」)."""
    word = command_word(text)
    return word in CANCEL_WORDS or bool(_CANCEL_RUN.match(word))


def yes_no(text):
    """True for a yes (「好的，没问题，提交吧」「是的，罚款已经交完了」), False for a no (「还没交呢」「不是」), None
    when the message says neither."""
    word = command_word(text)
    plain = re.sub(r"没有问题|没问题|没毛病|没啥问题|没错|无误|不错|不用改了?|不改了|没有要改的", "好", word)
    if _NO.search(plain):
        return False
    if _YES.match(plain) or _YES_ANYWHERE.search(plain):
        return True
    return None


def is_keep(text):
    """True when the owner wants the earlier report kept beside the new one (「保留」「两份都要」)."""
    word = command_word(text)
    return word in KEEP_WORDS or bool(re.search(r"保留|不要替代|不替代|不作废|别作废|都有效|(2|两)份都(要|留)", word))


def find_code(text):
    """The six-digit code in a message (「验证码是123456」「一二三四五六」), or None when there is not exactly one."""
    codes = _CODE.findall(normalize(text).replace(" ", ""))
    return codes[0] if len(codes) == 1 else None


def _code_shaped(candidate):
    """18 letters or digits, mostly digits (the registration and division codes are): not an English sentence."""
    return bool(re.fullmatch(r"[0-9A-Z]{18}", candidate)) and sum(c.isdigit() for c in candidate) >= 8


def looks_like_uscc(text):
    """True when a whole message is shaped like a 统一社会信用代码 (18 letters or digits once normalised)."""
    return _code_shaped(uscc.normalise(text))


def find_uscc(text):
    """The 统一社会信用代码 written inside a sentence (「我们公司代码是9123…」), or None."""
    compact = re.sub(r"[\s\-]", "", writing.clean(text)).upper()
    found = [c for c in _USCC_IN_TEXT.findall(compact) if _code_shaped(c)]
    return found[0] if len(found) == 1 else None
