"""models.policy.ingestion.layouts: header variants as departments spell them, personal IDs dropped, natural persons."""

import pytest

from models.policy.ingestion.cells import RowSkipped
from models.policy.ingestion.layouts import ID, RAW, resolve, skip_natural_person

COLUMNS = ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "违法事实", "处罚类别"]
ALIASES = {"处罚事由": "违法事实"}
JOINS = {"处罚类别1": "处罚类别", "处罚类别2": "处罚类别"}


@pytest.mark.parametrize("header", ["行政相对人代码_1(统一社会信用代码)", "行政相对人代码_1（统一社会信用代码）",
                                    "行政相对人代码_1 (统一社会信用代码)", "行政相对人代码-1（统一社会信用代码）",
                                    "统一社会信用代码", " 统一社会 信用代码 "])
def test_the_uscc_column_in_every_spelling(header):
    layout = resolve([header], COLUMNS)
    assert layout.columns == {0: "统一社会信用代码"}


def test_code_columns_are_read_by_their_bracketed_name_never_their_number():
    headers = ["行政相对人代码_2 (组织机构代码)", "行政相对人代码_5 (居民身份证号)", "行政相对人代码_5(事业单位证书号)"]
    layout = resolve(headers, COLUMNS)
    assert layout.ids == {1: "行政相对人代码_5 居民身份证号"}
    assert layout.raw == {0: "行政相对人代码_2(组织机构代码)", 2: "行政相对人代码_5(事业单位证书号)"}


def test_the_2016_names_parts_raw_data_and_ids():
    headers = ["处罚事由", "处罚类别1", "处罚类别2", "当前状态", "法定代表人证件号码", "证件号码", "法定代表人"]
    layout = resolve(headers, COLUMNS, ALIASES, JOINS)
    row = layout.row(["超标排放", "罚款", "责令改正", "正常", "232601197804153017", "", "刘建国"])
    assert row["违法事实"] == "超标排放" and row["处罚类别"] == "罚款;责令改正"
    assert row[RAW] == {"当前状态": "正常", "法定代表人": "刘建国"}
    assert row[ID] == ["法定代表人证件号码"]  # which ID columns were filled, never their values
    assert "232601197804153017" not in repr(row)


def test_a_repeated_column_goes_to_raw_data():
    layout = resolve(["统一社会信用代码", "行政相对人代码_1(统一社会信用代码)"], COLUMNS)
    assert layout.columns == {0: "统一社会信用代码"} and layout.raw == {1: "行政相对人代码_1(统一社会信用代码)"}


@pytest.mark.parametrize("row, reason", [
    ({"行政相对人类别": "自然人", "统一社会信用代码": "91231102MA1C4K7P5B"}, "行政相对人类别为自然人"),
    ({"行政相对人类别": "个体工商户", ID: ["证件号码"]}, "载有个人证件号码而无统一社会信用代码"),
    ({ID: ["行政相对人代码_5 居民身份证号"]}, "载有个人证件号码（行政相对人代码_5 居民身份证号）而无统一社会信用代码"),
])
def test_natural_persons_are_skipped_with_a_reason_naming_nobody(row, reason):
    with pytest.raises(RowSkipped) as skipped:
        skip_natural_person(row)
    assert skipped.value.reason == reason


@pytest.mark.parametrize("row", [
    {"行政相对人类别": "个体工商户", "统一社会信用代码": "92231102MA1H5L7M3U", ID: ["法定代表人证件号码"]},
    {"行政相对人类别": "法人及非法人组织", "统一社会信用代码": ""},  # rejected later for the missing USCC
    {"统一社会信用代码": "93231183MA1J8P3R8F"},
])
def test_businesses_are_in_scope(row):
    skip_natural_person(row)
