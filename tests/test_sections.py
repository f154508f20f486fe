"""models.policy.report.sections: 行政强制, 严重失信主体名单 and 刑事 in a report under ndrc-2025."""

import datetime as dt

import pytest

from models.policy import departments
from models.policy.report import feeds, rules
from models.policy.report.parts import Scope
from models.policy.report.sections import criminal_part, dishonest_part, domains_coverage, enforcement_part
from models.tables.listings import CriminalJudgment, DishonestListing, EnforcementRecord
from models.tables.registry import Department, Domain

START, END, TODAY = dt.date(2025, 1, 1), dt.date(2026, 11, 30), dt.date(2026, 12, 1)


@pytest.fixture
def scope(case_world):
    departments.grant(Department.get(code="market"), "enforcement", Domain.get(code="market"))
    return Scope(case_world.enterprise, START, END, rules.get_rule_set("ndrc-2025"), TODAY)


def common(world, **fields):
    return {"subject_name": world.enterprise.name, "uscc": world.enterprise.uscc, "enterprise": world.enterprise,
            **fields}


def enforcement(world, number, decided, domain="market", **fields):
    return EnforcementRecord.create(**common(
        world, decision_no=number, category="行政强制措施", method="查封", decided_on=decided,
        authority="黑河市市场监督管理局", domain=Domain.get(Domain.code == domain),
        department=Department.get(Department.code == domain), **fields))


def test_enforcement_absence_is_certified_only_where_its_domains_send_it(case_world, scope):
    market, ecology = Domain.get(Domain.code == "market"), Domain.get(Domain.code == "ecology")
    feeds.record_load(Department.get(Department.code == "market"), "enforcement", [market.id], END)
    shown = []
    part = enforcement_part(scope, [market], shown)
    assert part["statement"] == "报告期内，未查见该主体行政强制记录。" and part["coverage"]["state"] == "complete"
    part = enforcement_part(scope, [market, ecology], shown)
    assert part["statement"] == ("报告期内，未查见该主体在市场监管领域的行政强制记录；生态环境领域的行政强制数据"
                                 "未归集或未覆盖完整报告期，本报告不能证明该主体在这些领域有无行政强制记录。")
    assert domains_coverage(scope, [ecology], "enforcement")["state"] == "missing"
    assert enforcement_part(scope, [ecology], shown)["statement"].startswith("行政强制数据未归集")


def test_enforcement_in_the_period_listed_held_ones_block(case_world, scope):
    market = Domain.get(Domain.code == "market")
    feeds.record_load(Department.get(Department.code == "market"), "enforcement", [market.id], END)
    inside = enforcement(case_world, "黑市监强封〔2026〕3号", dt.date(2026, 3, 5), released_on=dt.date(2026, 4, 1))
    enforcement(case_world, "黑市监强封〔2024〕9号", dt.date(2024, 12, 31))
    enforcement(case_world, "黑市监强封〔2026〕4号", dt.date(2026, 3, 6), status="withdrawn")
    shown = []
    part = enforcement_part(scope, [market], shown)
    assert [i["decision_no"] for i in part["items"]] == ["黑市监强封〔2026〕3号"]
    assert part["items"][0]["released_on"] == "2026-04-01" and shown == [("enforcement", inside.id)]
    assert part["statement"] == "报告期内，查见该主体行政强制记录1条。"
    enforcement(case_world, "黑市监强封〔2026〕8号", dt.date(2026, 9, 1), enterprise=None, review="held_unknown_uscc")
    assert "1条行政强制记录正在核验" in enforcement_part(scope, [market], [])["statement"]


def listing(world, name, listed, removed=None, **fields):
    return DishonestListing.create(**common(world, list_name=name, unit="黑河市人力资源和社会保障局", listed_on=listed,
                                            removed_on=removed, department=Department.get(code="credit_office"),
                                            **fields))


def test_listings_on_the_list_at_some_time_in_the_period(case_world, scope):
    feeds.record_load(Department.get(code="credit_office"), "dishonest_list", [None], END)
    listing(case_world, "拖欠农民工工资失信联合惩戒对象名单", dt.date(2026, 1, 20))
    listing(case_world, "市场监督管理严重违法失信名单", dt.date(2025, 4, 10), dt.date(2026, 4, 12))
    listing(case_world, "市场监督管理严重违法失信名单", dt.date(2022, 6, 15), dt.date(2024, 6, 20))  # off before
    listing(case_world, "重大税收违法失信主体", dt.date(2026, 12, 1))  # listed after the period
    part = dishonest_part(scope, [])
    assert [(i["list_name"], i["removed_on"]) for i in part["items"]] == [
        ("市场监督管理严重违法失信名单", "2026-04-12"), ("拖欠农民工工资失信联合惩戒对象名单", None)]
    assert part["statement"] == "报告期内，查见该主体被列入严重失信主体名单2次，其中目前仍在列1次。"


def test_sections_without_data_certify_nothing(case_world, scope):
    assert dishonest_part(scope, [])["statement"] == "相关数据未归集，本报告不能证明该主体有无被列入严重失信主体名单。"
    assert criminal_part(scope, [])["statement"] == "相关数据未归集，本报告不能证明该主体有无单位犯罪刑事判决记录。"


def test_judgments_given_in_the_period(case_world, scope):
    feeds.record_load(Department.get(code="court"), "criminal", [None], END)
    court = Department.get(code="court")
    judgments = (("（2026）黑1124刑初15号", dt.date(2026, 4, 28)), ("（2023）黑1183刑初56号", dt.date(2023, 9, 14)))
    for number, judged in judgments:
        CriminalJudgment.create(**common(case_world, case_no=number, court="孙吴县人民法院", judged_on=judged,
                                         department=court))
    part = criminal_part(scope, [])
    assert [i["case_no"] for i in part["items"]] == ["（2026）黑1124刑初15号"]
    assert part["statement"] == "报告期内，查见该主体单位犯罪刑事判决记录1条。"
