"""bot/writing.py: traditional characters, full-width forms, emoji, numerals, homophones and near misses."""

import pytest

from bot import writing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("申請報告", "申请报告"),
        ("近３年　全部", "近3年 全部"),
        ("申请报告😀👍", "申请报告"),
        ("[微笑]你好[OK]", "你好"),
        ("用於銀行貸款", "用于银行贷款"),
        ("  多个   空格 ", "多个 空格"),
    ],
)
def test_clean(text, expected):
    assert writing.clean(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("近两年", "近2年"),
        ("二〇二三年一月到今天", "2023年1月到今天"),
        ("十二个月", "12个月"),
        ("近叁年", "近3年"),
        ("验证码一二三四五六", "验证码123456"),
        ("第二个", "第2个"),
        ("六", "6"),
        ("两三年", "3年"),
        ("统一社会信用代码", "统一社会信用代码"),
        ("一码通", "一码通"),
        ("万一", "万一"),
        ("近半年", "近半年"),
    ],
)
def test_numerals_only_where_they_are_numbers(text, expected):
    assert writing.readable(text) == expected


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("申清报告", "申请报告"),
        ("我得报告", "我的报告"),
        ("帮定企业", "绑定企业"),
        ("异议申述", "异议申诉"),
        ("信用修护", "信用修复"),
        ("申请报告单", "申请报告"),
    ],
)
def test_closest_keyword(typed, meant):
    assert writing.closest(typed, ["申请报告", "我的报告", "绑定企业", "异议申诉", "信用修复"]) == meant


@pytest.mark.parametrize("typed", ["今天天气不错", "报告", "申请", "我请报告", "help"])
def test_nothing_close_enough(typed):
    assert writing.closest(typed, ["申请报告", "我的报告", "绑定企业"]) is None


def test_sounds_and_nearest():
    assert writing.find_sound("用于银行代款", "贷款") == [(4, 6)]
    assert writing.sounds_alike("报高", "报告") and not writing.sounds_alike("报告", "报道")
    assert writing.nearest("税务", ["水务", "商务", "消防安全"])[0] == "水务"
