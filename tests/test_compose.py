"""jobs.compose: the one neutralising function, and values made to fit template field types."""

import pytest

from jobs.compose import TemplateFieldError, field_type, field_value, neutral


@pytest.mark.parametrize(("outside", "shown"), [
    ("[点此办理](http://evil.example)", "［点此办理］（http：//evil.example）"),
    ('<font color="red">急</font>', "＜font color＝＂red＂＞急＜/font＞"),
    ("# 标题\n> 引用\r\n**粗**", "＃ 标题 ＞ 引用 ＊＊粗＊＊"),
    ("javascript:alert(1)", "javascript:alert（1）"),
    ("see www.evil.example now", "see www．evil.example now"),
    ("a\x00b\u202ec\u200bd", "a b c d"),
    ("黑河市（爱辉区）北辰商贸有限公司", "黑河市（爱辉区）北辰商贸有限公司"),
    (None, ""),
])
def test_neutral_leaves_plain_text_and_breaks_every_markup(outside, shown):
    assert neutral(outside) == shown


def test_neutral_shortens_with_an_ellipsis():
    assert neutral("长" * 25, 20) == "长" * 19 + "…"
    assert neutral("短", 20) == "短"


def test_field_types_come_from_the_key():
    assert [field_type(k) for k in ("thing1", "character_string12", "time4", "phrase3")] == [
        "thing", "character_string", "time", "phrase"]


@pytest.mark.parametrize(("kind", "value", "fitted"), [
    ("thing", "异议申诉办理结果：经核实相关记录已更正完毕请查看", "异议申诉办理结果：经核实相关记录已更正…"),
    ("thing", "两\n行", "两 行"),
    ("character_string", "YY-20261127-0001", "YY-20261127-0001"),
    ("phrase", "已办结", "已办结"),
    ("time", "2026-11-27 09:30", "2026-11-27 09:30"),
    ("date", "2026-11-27", "2026-11-27"),
    ("number", 3, "3"),
    ("phone_number", "138****1111", "138****1111"),
    ("amount", "¥1200.50", "¥1200.50"),
    ("name", "张伟伟伟伟伟伟伟伟伟伟伟", "张伟伟伟伟伟伟伟伟…"),
])
def test_values_are_made_to_fit_their_type(kind, value, fitted):
    assert field_value(kind, value) == fitted


@pytest.mark.parametrize(("kind", "value"), [
    ("character_string", "黑市监罚〔2026〕1号"), ("character_string", "x" * 33), ("phrase", "不予支持了吗"),
    ("phrase", "done"), ("time", "2026-11-27"), ("number", "1e309"), ("thing", ""), ("keyword", "旧字段"),
])
def test_a_value_that_cannot_fit_is_our_mapping_bug(kind, value):
    with pytest.raises(TemplateFieldError):
        field_value(kind, value)
