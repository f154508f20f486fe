"""models.rules: which records, arrears and repairs a report shows, per rule set."""

import datetime as dt
from decimal import Decimal

import pytest

from models.policy.report.rules import UnknownRuleSet, get_rule_set, report_arrears, report_penalties, report_repairs
from models.tables.records import HELD_NAME_MISMATCH, REPAIRED, WITHDRAWN, ArrearsRecord, CreditRepair
from models.tables.registry import Department, Domain

START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)


@pytest.fixture
def records(case_world):
    r = case_world.record
    return {
        "ordinary": r(),
        "simplified": r(procedure="简易程序"),
        "no_penalty": r(category="不予行政处罚"),
        "repaired": r(status=REPAIRED),
        "withdrawn": r(status=WITHDRAWN),
        "held": r(review=HELD_NAME_MISMATCH),
        "outside": r(decided_on=dt.date(2024, 12, 31)),
        "other_domain": r(domain="ecology"),
    }


def shown(case_world, version):
    market = Domain.get(Domain.code == "market")
    return report_penalties(case_world.enterprise, market, dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                            get_rule_set(version))


def test_heihe_2024_excludes_simplified_and_no_penalty(case_world, records):
    got = shown(case_world, "heihe-2024")
    assert {r.id for r in got} == {records["ordinary"].id, records["repaired"].id}


def test_ndrc_2025_counts_simplified_but_not_no_penalty(case_world, records):
    got = shown(case_world, "ndrc-2025")
    assert {r.id for r in got} == {records["ordinary"].id, records["repaired"].id, records["simplified"].id}


def test_rule_set_selection_and_notes(app):
    assert get_rule_set().version == "heihe-2024"
    assert get_rule_set(None, default="ndrc-2025").version == "ndrc-2025"
    assert any("简易程序" in note for note in get_rule_set("heihe-2024").notes)
    with pytest.raises(UnknownRuleSet):
        get_rule_set("heihe-1999")


def arrears(case_world, start, settled_on=None, **fields):
    values = dict(kind="social_arrears", subject_name=case_world.enterprise.name, uscc=case_world.enterprise.uscc,
                  enterprise=case_world.enterprise, period_start=start, period_end=start + dt.timedelta(days=27),
                  amount=Decimal("100.00"), settled=settled_on is not None, settled_on=settled_on,
                  department=Department.get(Department.code == "tax"))
    values.update(fields)
    return ArrearsRecord.create(**values)


def test_arrears_that_existed_in_the_period(case_world):
    open_before = arrears(case_world, dt.date(2024, 6, 1))
    settled_inside = arrears(case_world, dt.date(2024, 7, 1), settled_on=dt.date(2025, 2, 1))
    arrears(case_world, dt.date(2024, 8, 1), settled_on=dt.date(2024, 12, 1))  # settled before the period
    arrears(case_world, dt.date(2026, 2, 1))  # began after the period
    arrears(case_world, dt.date(2025, 3, 1), withdrawn=True)
    arrears(case_world, dt.date(2025, 4, 1), kind="fund_arrears")
    settled_undated = arrears(case_world, dt.date(2025, 5, 1), settled=True)  # months inside, date not sent
    arrears(case_world, dt.date(2024, 3, 1), settled=True)  # months before the period, date not sent
    got = report_arrears(case_world.enterprise, "social_arrears", START, END)
    assert [a.id for a in got] == [open_before.id, settled_inside.id, settled_undated.id]


def test_repairs_of_records_in_the_period(case_world):
    dept = Department.get(Department.code == "market")
    decided_inside = case_world.record(decided_on=dt.date(2025, 3, 1), status=REPAIRED)
    decided_before = case_world.record(decided_on=dt.date(2023, 3, 1), status=REPAIRED)
    old = case_world.record(decided_on=dt.date(2022, 3, 1), status=REPAIRED)
    one = CreditRepair.create(record=decided_inside, decision_no="修1", repaired_on=dt.date(2026, 1, 5),
                              department=dept)
    two = CreditRepair.create(record=decided_before, decision_no="修2", repaired_on=dt.date(2025, 6, 1),
                              department=dept)
    CreditRepair.create(record=old, decision_no="修3", repaired_on=dt.date(2023, 1, 1), department=dept)
    got = report_repairs(case_world.enterprise, START, END)
    assert [r.id for r in got] == [two.id, one.id]
