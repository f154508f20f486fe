"""bot/parse.py: answers to the bot's questions (indices, edits, yes/no, codes)."""

import pytest

from bot import parse
from bot.parse import ParseError


def test_normalize_full_width_traditional_emoji_and_spaces():
    assert parse.normalize("  近３年，　全部 😀") == "近3年, 全部"
    assert parse.normalize("申請報告[微笑]") == "申请报告"
    assert parse.command_word("取消。") == "取消"
    assert parse.command_word("OK!") == "ok"


@pytest.mark.parametrize("text, expected", [("改2", 2), ("2", 2), ("修改第二项", 2), ("改 ３", 3), ("确认", None)])
def test_edit_requests(text, expected):
    assert parse.parse_edit(text, 4) == expected


def test_edit_out_of_range():
    with pytest.raises(ParseError) as err:
        parse.parse_edit("改9", 4)
    assert "1 到 4" in err.value.message


@pytest.mark.parametrize("text, expected", [("1", 1), ("第二个", 2), ("２号", 2), ("三", 3), ("选1", 1), ("甲", None)])
def test_index(text, expected):
    assert parse.parse_index(text, 3) == expected


def test_index_out_of_range():
    with pytest.raises(ParseError):
        parse.parse_index("4", 3)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("确认", True),
        ("好的，没问题，提交吧", True),
        ("是的，罚款已经交完了", True),
        ("确认无误", True),
        ("嗯", True),
        ("对的", True),
        ("没有问题", True),
        ("yes", True),
        ("OK", True),
        ("不对", False),
        ("还没交呢", False),
        ("否", False),
        ("不是", False),
        ("no", False),
        ("改一下", None),
        ("近一年", None),
    ],
)
def test_yes_no_in_whole_sentences(text, expected):
    assert parse.yes_no(text) is expected


@pytest.mark.parametrize("text", ["保留", "两份都要", "保留原报告吧", "不要替代原来的"])
def test_keep_both(text):
    assert parse.is_keep(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("123456", "123456"),
        ("验证码是123456", "123456"),
        ("１２３４５６", "123456"),
        ("一二三四五六", "123456"),
        ("123 456", "123456"),
        ("12345", None),
        ("123456 654321", None),
    ],
)
def test_code_in_a_message(text, expected):
    assert parse.find_code(text) == expected


def test_uscc_alone_or_in_a_sentence():
    assert parse.looks_like_uscc(" 91231100ma1b2c3d82 ")
    assert parse.find_uscc("我们公司代码是 9123 1100 MA1B 2C3D 82，麻烦绑定") == "91231100MA1B2C3D82"
    assert parse.find_uscc("近三年全部领域") is None


def test_short_truncates_echo():
    assert parse.short("一二三四五六七八九十一二三四", 5) == "一二三四五…"
