"""bot/purposes.py: the report's purpose in the owner's words."""

import pytest

from bot import purposes
from bot.parse import ParseError
from bot.purposes import Purpose


@pytest.mark.parametrize(
    "text, expected",
    [
        ("6", Purpose("金融", "银行贷款")),
        ("六", Purpose("金融", "银行贷款")),
        ("银行贷款", Purpose("金融", "银行贷款")),
        ("贷款", Purpose("金融", "银行贷款")),
        ("银行代款", Purpose("金融", "银行贷款")),
        ("bank loan", Purpose("金融", "银行贷款")),
        ("再融资", Purpose("金融", "再融资")),
        ("参加招投标", Purpose("商务经营", "招投标")),
        ("投标", Purpose("商务经营", "招投标")),
        ("bidding", Purpose("商务经营", "招投标")),
        ("政府采购", Purpose("商务经营", "政府采购")),
        ("第三方评估评审", Purpose("商务经营", "第三方评估评审")),
        ("申请补贴", Purpose("行政管理", "资金支持")),
        ("14", Purpose("行政管理", "评比表彰")),
        ("IPO", Purpose("金融", "上市")),
        ("其他：办理出国签证", Purpose("其他", "办理出国签证")),
        ("其他 办理签证", Purpose("其他", "办理签证")),
        ("用於銀行貸款", Purpose("金融", "银行贷款")),
    ],
)
def test_purpose_answers(text, expected):
    assert purposes.parse_purpose(text) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("其他", "其他：办理出国签证"),
        ("15", "其他：办理出国签证"),
        ("16", "1 到 15"),
        ("金融", "银行贷款"),
        ("随便", "例如"),
    ],
)
def test_wrong_purpose_answers(text, fragment):
    with pytest.raises(ParseError) as err:
        purposes.parse_purpose(text)
    assert fragment in err.value.message


def test_the_last_purpose_named_wins_and_categories_are_not_domains():
    assert purposes.find_purpose("不是贷款，是招投标")[0] == Purpose("商务经营", "招投标")
    assert purposes.category_spans("用于商务经营") == [(2, 6)]
    assert purposes.category_spans("金融监管") == []


def test_purpose_label():
    assert Purpose("金融", "银行贷款").label() == "金融·银行贷款"
