"""models.policy.ingestion.procedure: the procedure from 程序类型, 文号 or 备注; 行政处罚法 第五十一条's bounds."""

from decimal import Decimal

import pytest

from models.policy.ingestion.cells import RowRejected
from models.policy.ingestion.procedure import implausible, individual, plausibility_hold, procedure_of


@pytest.mark.parametrize("cell, number, remark, expected", [
    ("一般程序", "黑市监简罚〔2026〕1号", "", ("普通程序", "")),  # the column wins over the 文号
    ("普通", "", "", ("普通程序", "")),
    ("简易", "", "", ("简易程序", "程序类型为简易程序")),
    ("", "黑市监简罚〔2026〕14号", "", ("简易程序", "标为简易程序（文号“简罚”）")),
    ("", "黑市监当场罚〔2026〕9号", "", ("简易程序", "标为简易程序（文号“当场”）")),
    ("", "黑市监罚〔2026〕133号", "适用简易程序", ("简易程序", "标为简易程序（备注“适用简易程序”）")),
    ("", "黑市监罚〔2026〕140号", "当场作出行政处罚决定", ("简易程序", "标为简易程序（备注“当场作出行政处罚决定”）")),
    ("", "北市监罚〔2026〕15号", "", ("普通程序", "")),
])
def test_procedure_as_departments_show_it(cell, number, remark, expected):
    assert procedure_of({"程序类型": cell}, number, remark) == expected


def test_an_unknown_procedure_word_is_rejected():
    with pytest.raises(RowRejected, match="无法识别"):
        procedure_of({"程序类型": "特别程序"}, "", "")


def test_the_bounds_of_article_51():
    marker = "标为简易程序（文号“简罚”）"
    assert implausible(marker, "罚款", Decimal("0.02"), True) is None  # 200 元 to a 个体工商户: exactly the bound
    assert "罚款500元" in implausible(marker, "罚款", Decimal("0.05"), True)
    assert implausible(marker, "罚款", Decimal("0.3"), False) is None  # 3,000 元 to a company
    assert "对法人3000元的上限" in implausible(marker, "罚款", Decimal("0.5"), False)
    assert implausible(marker, "警告", None, False) is None
    assert "含没收违法所得" in implausible(marker, "没收违法所得;没收非法财物", None, False)
    assert "含通报批评" in implausible(marker, "警告；通报批评", None, False)
    assert plausibility_hold("普通程序", "", "吊销许可证件", Decimal(50), "", "91231102MA1C4K7P5B") == []


def test_who_is_a_citizen_under_the_bound():
    assert individual("个体工商户", "") and individual("", "92231102MA1H5L7M3U")
    assert not individual("法人及非法人组织", "93231183MA1J8P3R8F")  # 农民专业合作社 are organisations
