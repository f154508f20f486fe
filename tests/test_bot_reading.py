"""bot/reading.py: one message read as (part of) a report request, corrections included."""

import datetime as dt

import pytest

from bot.domains import DomainInfo
from bot.reading import asks_for_report, read_request
from models.tables.schema import DOMAINS as SEED_DOMAINS

DOMAINS = [DomainInfo(code, name, tuple(aliases.split(","))) for code, name, aliases in SEED_DOMAINS]
ALL = [d.code for d in DOMAINS]
TODAY = dt.date(2026, 11, 27)
Y3 = ["2023-11-28", "2026-11-27"]
Y1 = ["2025-11-28", "2026-11-27"]
LOAN = {"category": "金融", "text": "银行贷款"}
TENDER = {"category": "商务经营", "text": "招投标"}


def slots(text, current=None):
    return read_request(text, DOMAINS, TODAY, current).slots


def test_one_sentence_fills_three_slots():
    assert slots("帮我开一份近三年全部领域的报告，用于银行贷款") == {"domains": ALL, "period": Y3, "purpose": LOAN}
    assert slots("last 3 years, all areas, bank loan") == {"domains": ALL, "period": Y3, "purpose": LOAN}


def test_sentence_with_short_domain_names_and_full_width_digits():
    assert slots("开个社保和环保的证明，近２年，投标用") == {
        "domains": ["hrss", "ecology"],
        "period": ["2024-11-28", "2026-11-27"],
        "purpose": TENDER,
    }


def test_purpose_words_are_not_domains():
    assert slots("开报告用于商务经营的政府采购") == {"purpose": {"category": "商务经营", "text": "政府采购"}}
    assert slots("商务、消防 近一年 招投标")["domains"] == ["commerce", "fire"]


def test_dates_and_own_purpose():
    found = slots("开无违法记录证明 2024年1月1日到2025年12月31日 用于办理签证")
    assert found == {"period": ["2024-01-01", "2025-12-31"], "purpose": {"category": "其他", "text": "办理签证"}}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("近三年全部领域用于银行贷款。不对，改成近一年", {"domains": ALL, "period": Y1, "purpose": LOAN}),
        ("全部，近三年，贷款，哦不，是用于招投标", {"domains": ALL, "period": Y3, "purpose": TENDER}),
        ("用途改成招投标", {"purpose": TENDER}),
        ("近一年的消防，啊不对是近三年", {"domains": ["fire"], "period": Y3}),
    ],
)
def test_the_later_statement_wins(text, expected):
    assert slots(text) == expected


def test_exclusions_and_additions():
    reading = read_request("除了金融监管以外都要，近三年，银行贷款", DOMAINS, TODAY)
    assert reading.slots["domains"] == [c for c in ALL if c != "finance"] and reading.exclusion
    assert slots("领域再加上消防", {"domains": ["market"]}) == {"domains": ["market", "fire"]}


def test_a_wrong_period_keeps_the_rest():
    reading = read_request("开证明，近十年的，全部领域", DOMAINS, TODAY)
    assert reading.slots == {"domains": ALL} and "最长 5 年" in reading.period_error


def test_unknown_names_are_reported():
    reading = read_request("税务、消防，近一年，招投标", DOMAINS, TODAY)
    assert reading.slots["domains"] == ["fire"] and reading.unknown == ["税务"]


def test_nothing_named():
    reading = read_request("开个证明", DOMAINS, TODAY)
    assert reading.slots == {} and reading.asks and not reading.strong()


@pytest.mark.parametrize(
    "text",
    [
        "帮我开一份近三年全部领域的报告",
        "我想开个证明",
        "开无违法记录证明",
        "需要有无违法证明",
        "申请信用报告",
        "信用报高",
        "申清报告",
        "I need a credit report",
    ],
)
def test_report_requests_are_recognised(text):
    assert asks_for_report(text)


@pytest.mark.parametrize("text", ["你好", "对方说我需要绑定企业才行", "营业执照怎么办", "报告有效期多久"])
def test_other_sentences_are_not_report_requests(text):
    assert not asks_for_report(text)
