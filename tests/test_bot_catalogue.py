"""bot/catalogue.py: the keyword table, the menu, the help text and the guide's list come from the flows'
declarations and agree with each other and with docs/CONTRACT.md §5."""

import datetime as dt
import re

import pytest

from bot import catalogue, texts
from bot.domains import DomainInfo
from bot.flows import FLOWS, KEYWORD_FLOWS
from bot.menu import KEY_TO_KEYWORD, menu_definition, menu_keys
from bot.reading import read_request
from models.tables.schema import DOMAINS as SEED_DOMAINS

CONTRACT_KEYWORDS = ["绑定企业", "申请报告", "我的报告", "异议申诉", "信用修复", "帮助", "取消", "切换企业", "解绑"]


@pytest.mark.parametrize("keyword", CONTRACT_KEYWORDS)
def test_every_contract_keyword_is_a_command(keyword):
    assert catalogue.resolve(keyword, fuzzy=False).keyword == keyword


def test_the_keyword_table_is_the_flows_declarations():
    declared = {word: flow.name for flow in FLOWS.values() for word in flow.keywords}
    assert declared == KEYWORD_FLOWS
    for flow in FLOWS.values():
        for word in (*flow.keywords, *flow.aliases):
            assert catalogue.resolve(word, fuzzy=False).action == flow.name, word
    assert len(catalogue.WORDS) == sum(len(c.words) for c in catalogue.COMMANDS)  # no word stands for two


def test_the_menu_offers_every_declared_key_once_with_its_keyword():
    declared = {c.menu_key: c.keyword for c in catalogue.COMMANDS if c.menu_key}
    assert declared == KEY_TO_KEYWORD
    assert sorted(menu_keys()) == sorted(declared) and len(menu_keys()) == len(set(menu_keys()))
    clicks = [
        b
        for top in menu_definition("http://x")["button"]
        for b in [top, *top.get("sub_button", [])]
        if b.get("type") == "click"
    ]
    assert {b["key"]: b["name"] for b in clicks} == declared


def test_help_lists_every_command_with_its_line(bot_chat):
    reply = bot_chat("o-help").say("帮助")
    for keyword, line in catalogue.help_lines():
        assert f"「{keyword}」{line}" in reply
    assert "常见问题" in reply and "报告有效期多久" in reply


def test_the_guide_lists_the_same_commands(client):
    html = client.get("/guide").get_data(as_text=True)
    listed = re.findall(r"<li><strong>([^<]+)</strong>：([^<]+)</li>", html.split('id="keywords"')[1].split("</ul>")[0])
    assert listed == catalogue.help_lines()


def test_the_guides_examples_name_all_three_slots():
    domains = [DomainInfo(code, name, tuple(aliases.split(","))) for code, name, aliases in SEED_DOMAINS]
    for example in texts.REQUEST_EXAMPLES:
        assert set(read_request(example, domains, dt.date(2026, 11, 27)).slots) == {"domains", "period", "purpose"}


@pytest.mark.parametrize(
    "typed, keyword",
    [
        ("申清报告", "申请报告"),
        ("帮定企业", "绑定企业"),
        ("异议申述", "异议申诉"),
        ("幫助", "帮助"),
        ("cancel", "取消"),
        ("my reports", "我的报告"),
    ],
)
def test_typos_and_other_writings_of_keywords(typed, keyword):
    assert catalogue.resolve(typed).keyword == keyword


def test_typos_do_not_count_when_only_exact_keywords_may(typed="申清报告"):
    assert catalogue.resolve(typed, fuzzy=False) is None
