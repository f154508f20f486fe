"""models.policy.report.arrears: one debt, one line, however many departments sent it; disagreements stay visible."""

import datetime as dt
from decimal import Decimal

import pytest

from models.policy.report import feeds, rules
from models.policy.report.arrears import arrears_part
from models.policy.report.parts import Scope
from models.tables.records import ArrearsRecord
from models.tables.registry import Department

START, END = dt.date(2025, 1, 1), dt.date(2026, 11, 30)


@pytest.fixture
def scope(case_world):
    for code in ("hrss", "tax"):
        feeds.record_load(Department.get(code=code), "social_arrears", [None], END)
    return Scope(case_world.enterprise, START, END, rules.get_rule_set("heihe-2024"), dt.date(2026, 12, 1))


def debt(world, code, start, amount, settled_on=None, **fields):
    values = {"kind": "social_arrears", "subject_name": world.enterprise.name, "uscc": world.enterprise.uscc,
              "enterprise": world.enterprise, "period_start": start, "period_end": start + dt.timedelta(days=80),
              "amount": Decimal(amount), "settled": settled_on is not None, "settled_on": settled_on,
              "department": Department.get(code=code), **fields}
    return ArrearsRecord.create(**values)


def test_the_same_debt_from_two_departments_is_one_item_naming_both(case_world, scope):
    first = debt(case_world, "hrss", dt.date(2026, 3, 1), "18640.50")
    second = debt(case_world, "tax", dt.date(2026, 3, 1), "18640.5")
    debt(case_world, "tax", dt.date(2025, 6, 1), "3920", settled_on=dt.date(2025, 7, 20))
    shown = []
    part = arrears_part(scope, "social_arrears", shown)
    assert part["statement"] == "报告期内，查见该主体社保欠缴记录2条，其中尚未结清1条。"
    assert [i["sources"] for i in part["items"]] == [
        ["国家税务总局黑河市税务局"], ["黑河市人力资源和社会保障局", "国家税务总局黑河市税务局"]]
    assert {first.id, second.id} <= set(shown) and len(shown) == 3  # a correction of either marks the report


def test_departments_that_disagree_are_both_shown(case_world, scope):
    debt(case_world, "hrss", dt.date(2026, 3, 1), "18640.50")
    debt(case_world, "tax", dt.date(2026, 3, 1), "18000.00")
    part = arrears_part(scope, "social_arrears", [])
    assert [(i["amount"], i["sources"]) for i in part["items"]] == [
        ("18640.50", ["黑河市人力资源和社会保障局"]), ("18000.00", ["国家税务总局黑河市税务局"])]


def test_a_held_row_of_the_enterprises_code_blocks_the_statement(case_world, scope):
    debt(case_world, "hrss", dt.date(2026, 3, 1), "100", enterprise=None, review="held_name_mismatch")
    part = arrears_part(scope, "social_arrears", [])
    assert part["items"] == [] and "1条社保欠缴记录正在核验" in part["statement"] and "未查见" not in part["statement"]
