"""bot/domains.py: domains by name, number, 全部, exclusion, addition; names that are not domains."""

import pytest

from bot import domains, writing
from bot.domains import DomainInfo
from bot.parse import ParseError
from models.tables.schema import DOMAINS as SEED_DOMAINS

DOMAINS = [DomainInfo(code, name, tuple(aliases.split(","))) for code, name, aliases in SEED_DOMAINS]
ALL = [d.code for d in DOMAINS]


def but(*codes):
    return [c for c in ALL if c not in codes]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("全部", ALL),
        ("所有领域", ALL),
        ("全部领域", ALL),
        ("都要", ALL),
        ("all", ALL),
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
        ("環保、消防", ["ecology", "fire"]),
        ("fire and environment", ["ecology", "fire"]),
        ("除了金融监管以外都要", but("finance")),
        ("除金融外", but("finance")),
        ("城管除外", but("urban")),
        ("不要消防", but("fire")),
        ("不含医保和城管", but("medical_insurance", "urban")),
        ("金融监管以外的", but("finance")),
        ("全部，但是不要园林绿化", but("landscaping")),
    ],
)
def test_domain_answers(text, expected):
    assert domains.parse_domains(text, DOMAINS) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [("17", "1 到 16"), ("社保、天文", "天文"), ("0", "1 到 16"), ("、", "例如"), ("税务", "水务")],
)
def test_wrong_domain_answers(text, fragment):
    with pytest.raises(ParseError) as err:
        domains.parse_domains(text, DOMAINS)
    assert fragment in err.value.message and "例如" in err.value.message


def read(text, current=None):
    said = domains.read(writing.readable(text).lower(), DOMAINS)
    return said, domains.resolve(said, current, DOMAINS)


def test_additions_and_removals_work_on_the_current_selection():
    assert read("再加上消防", ["market"])[1] == ["market", "fire"]
    assert read("去掉消防", ["market", "fire"])[1] == ["market"]
    assert read("消防不要了", ["market", "fire"])[1] == ["market"]
    assert read("只要消防", ["market", "ecology"])[1] == ["fire"]
    assert read("除了消防都要", ["market"])[1] == but("fire")


def test_a_list_item_that_is_not_a_domain_is_named():
    said, chosen = read("税务、消防")
    assert chosen == ["fire"] and said.unknown == ["税务"]
    assert read("开个税务和消防的证明")[0].unknown == ["税务"]
    assert domains.nearest_names("税务", DOMAINS)[0] == "水务"
    assert read("税务 消防")[0].unknown == ["税务"]  # a space separates list items as 、 does


def test_a_list_item_that_begins_one_domain_name_is_that_domain():
    said, chosen = read("消防 市场")
    assert sorted(chosen) == ["fire", "market"] and said.unknown == []
    assert sorted(read("市场、消防")[1]) == ["fire", "market"]
    assert read("市场主体 消防")[0].unknown == ["市场主体"]  # not a beginning of 市场监管: named back, not taken


def test_company_names_are_not_domains():
    assert read("黑河市环保科技有限公司")[1] is None
