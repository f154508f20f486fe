import datetime as dt

import pytest

from bot import parse
from bot.parse import DomainInfo, ParseError, Purpose
from models.tables.schema import DOMAINS as SEED_DOMAINS

DOMAINS = [DomainInfo(code, name, tuple(aliases.split(","))) for code, name, aliases in SEED_DOMAINS]
ALL = [d.code for d in DOMAINS]
TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    "text, expected",
    [("3", 3), ("三", 3), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("三十六", 36), ("六十", 60),
     ("０", None), ("abc", None), ("十二三", None), ("", None)],
)
def test_cn_int(text, expected):
    if text == "０":
        assert parse.cn_int(parse.normalize(text)) == 0
    else:
        assert parse.cn_int(text) == expected


def test_normalize_full_width_and_spaces():
    assert parse.normalize("  近３年，　全部 ") == "近3年, 全部"
    assert parse.command_word("取消。") == "取消"
    assert parse.command_word("OK!") == "ok"


@pytest.mark.parametrize(
    "text, start",
    [
        ("近3年", dt.date(2023, 11, 28)),
        ("近三年", dt.date(2023, 11, 28)),
        ("最近两年", dt.date(2024, 11, 28)),
        ("近１年", dt.date(2025, 11, 28)),
        ("3", dt.date(2023, 11, 28)),
        ("五", dt.date(2021, 11, 28)),
        ("近5年", dt.date(2021, 11, 28)),
        ("十二个月", dt.date(2025, 11, 28)),
        ("近18个月", dt.date(2025, 5, 28)),
        ("半年", dt.date(2026, 5, 28)),
    ],
)
def test_relative_periods_end_today(text, start):
    assert parse.parse_period(text, TODAY) == (start, TODAY)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2023-01-01至2025-12-31", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("2023年1月1日到2025年12月31日", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("２０２３－０１－０１～２０２５－１２－３１", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("2023.1.1-2025.12.31", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("20230101-20251231", dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
        ("2023年3月至2025年6月", dt.date(2023, 3, 1), dt.date(2025, 6, 30)),
        ("2024-01-01至今", dt.date(2024, 1, 1), TODAY),
        ("2022年至2026年", dt.date(2022, 1, 1), TODAY),
        ("2021-11-27至2026-11-27", dt.date(2021, 11, 27), TODAY),
    ],
)
def test_explicit_periods(text, start, end):
    assert parse.parse_period(text, TODAY) == (start, end)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("2025-01-01至2026-12-31", "不能晚于今天"),
        ("2026-12-01至2026-12-31", "不能晚于今天"),
        ("2020-01-01至2025-12-31", "最长 5 年"),
        ("近6年", "最长 5 年"),
        ("近十年", "最长 5 年"),
        ("七十二个月", "最长 5 年"),
        ("2025-12-31至2023-01-01", "开始日期应早于结束日期"),
        ("2023-02-30至2025-01-01", "不存在"),
        ("2023-01-01", "开始和结束日期"),
        ("随便", "近3年"),
        ("近0年", "近3年"),
    ],
)
def test_wrong_periods_explain_with_example(text, fragment):
    with pytest.raises(ParseError) as err:
        parse.parse_period(text, TODAY)
    assert fragment in err.value.message
    assert "例如" in err.value.message


def test_leap_day_periods():
    assert parse.years_back(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)
    assert parse.months_back(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("全部", ALL),
        ("所有领域", ALL),
        ("全部领域", ALL),
        ("1", ["hrss"]),
        ("1、3", ["hrss", "ecology"]),
        ("１，３", ["hrss", "ecology"]),
        ("3 1", ["hrss", "ecology"]),
        ("2-4", ["natural_resources", "ecology", "transport"]),
        ("社保", ["hrss"]),
        ("社保、环保、消防", ["hrss", "ecology", "fire"]),
        ("市场监管和消防", ["market", "fire"]),
        ("人力资源和社会保障", ["hrss"]),
        ("住房和城乡建设领域", ["housing"]),
        ("工商 市监", ["market"]),
        ("十三", ["fire"]),
        ("医保和1", ["hrss", "medical_insurance"]),
        ("hrss", ["hrss"]),
    ],
)
def test_domain_answers(text, expected):
    assert parse.parse_domains(text, DOMAINS) == expected


@pytest.mark.parametrize(
    "text, fragment", [("17", "1 到 16"), ("社保、天文", "天文"), ("0", "1 到 16"), ("、", "例如")]
)
def test_wrong_domain_answers(text, fragment):
    with pytest.raises(ParseError) as err:
        parse.parse_domains(text, DOMAINS)
    assert fragment in err.value.message and "例如" in err.value.message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("6", Purpose("金融", "银行贷款")),
        ("六", Purpose("金融", "银行贷款")),
        ("银行贷款", Purpose("金融", "银行贷款")),
        ("贷款", Purpose("金融", "银行贷款")),
        ("再融资", Purpose("金融", "再融资")),
        ("参加招投标", Purpose("商务经营", "招投标")),
        ("投标", Purpose("商务经营", "招投标")),
        ("政府采购", Purpose("商务经营", "政府采购")),
        ("第三方评估评审", Purpose("商务经营", "第三方评估评审")),
        ("申请补贴", Purpose("行政管理", "资金支持")),
        ("14", Purpose("行政管理", "评比表彰")),
        ("其他：办理出国签证", Purpose("其他", "办理出国签证")),
        ("其他 办理签证", Purpose("其他", "办理签证")),
    ],
)
def test_purpose_answers(text, expected):
    assert parse.parse_purpose(text) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [("其他", "其他：办理出国签证"), ("15", "其他：办理出国签证"), ("16", "1 到 15"), ("金融", "银行贷款"),
     ("随便", "例如")],
)
def test_wrong_purpose_answers(text, fragment):
    with pytest.raises(ParseError) as err:
        parse.parse_purpose(text)
    assert fragment in err.value.message


def test_purpose_label():
    assert Purpose("金融", "银行贷款").label() == "金融·银行贷款"


@pytest.mark.parametrize(
    "text",
    ["帮我开一份近三年全部领域的报告，用于银行贷款", "我想开个证明", "开无违法记录证明", "需要有无违法证明",
     "申请信用报告"],
)
def test_report_requests_are_recognised(text):
    assert parse.looks_like_report_request(text)


@pytest.mark.parametrize("text", ["你好", "对方说我需要绑定企业才行", "营业执照怎么办"])
def test_other_sentences_are_not_report_requests(text):
    assert not parse.looks_like_report_request(text)


def test_one_sentence_fills_three_slots():
    slots = parse.extract_report_slots("帮我开一份近三年全部领域的报告，用于银行贷款", DOMAINS, TODAY)
    assert slots == {
        "domains": ALL,
        "period": (dt.date(2023, 11, 28), TODAY),
        "purpose": Purpose("金融", "银行贷款"),
    }


def test_sentence_with_short_domain_names_and_full_width_digits():
    slots = parse.extract_report_slots("开个社保和环保的证明，近２年，投标用", DOMAINS, TODAY)
    assert slots == {
        "domains": ["hrss", "ecology"],
        "period": (dt.date(2024, 11, 28), TODAY),
        "purpose": Purpose("商务经营", "招投标"),
    }


def test_sentence_purpose_words_are_not_domains():
    slots = parse.extract_report_slots("开报告用于商务经营的政府采购", DOMAINS, TODAY)
    assert slots == {"purpose": Purpose("商务经营", "政府采购")}


def test_sentence_with_dates_and_own_purpose():
    slots = parse.extract_report_slots("开无违法记录证明 2024年1月1日到2025年12月31日 用于办理签证", DOMAINS, TODAY)
    assert slots["period"] == (dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    assert slots["purpose"] == Purpose("其他", "办理签证")
    assert "domains" not in slots


def test_sentence_with_a_wrong_period_raises():
    with pytest.raises(ParseError):
        parse.extract_report_slots("开证明，近十年的", DOMAINS, TODAY)


def test_sentence_with_nothing_fills_nothing():
    assert parse.extract_report_slots("开个证明", DOMAINS, TODAY) == {}


@pytest.mark.parametrize("text, expected", [("改2", 2), ("2", 2), ("修改第二项", 2), ("改 ３", 3), ("确认", None)])
def test_edit_requests(text, expected):
    assert parse.parse_edit(text, 4) == expected


def test_edit_out_of_range():
    with pytest.raises(ParseError) as err:
        parse.parse_edit("改9", 4)
    assert "1 到 4" in err.value.message


@pytest.mark.parametrize("text, expected", [("1", 1), ("第二个", 2), ("２号", 2), ("甲", None)])
def test_index(text, expected):
    assert parse.parse_index(text, 3) == expected


def test_index_out_of_range():
    with pytest.raises(ParseError):
        parse.parse_index("4", 3)


def test_short_truncates_echo():
    assert parse.short("一二三四五六七八九十一二三四", 5) == "一二三四五…"
