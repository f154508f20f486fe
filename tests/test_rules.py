"""models.policy.report.rules: which records, arrears and repairs a report shows, per rule set."""

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


@pytest.mark.parametrize("fields", [
    {"category": "其他", "content": "不予行政处罚"},
    {"category": "", "content": "经调查，当事人违法行为轻微，决定不予处罚。"},
    {"category": "其他", "content": "首违不罚，责令限期改正"},
    {"category": "其他", "content": "违法行为轻微并及时改正，没有造成危害后果，轻微不罚"},
    {"category": "不予行政处罚", "content": "责令改正"},
    {"category": "其他", "content": "责令改正", "decision_no": "爱市监不罚〔2025〕7号"},
    {"category": "其他", "content": "责令改正", "decision_no": "黑环不罚[2025]2号"},
    {"category": "其他", "content": "责令改正", "decision_no": "黑环不罚（2025）2号"},
])
def test_a_decision_not_to_punish_is_no_record_under_any_rule_set(case_world, fields):
    record = case_world.record(**fields)
    for version in ("heihe-2024", "ndrc-2025"):
        assert not get_rule_set(version).counts(record)
        assert not get_rule_set(version).might_count(record)


@pytest.mark.parametrize("fields", [
    {"content": "罚款人民币贰万元。当事人提出的陈述、申辩意见不予采纳。"},
    {"category": "吊销许可证件", "content": "不予吊销以外的处理均已执行"},
    {"content": "罚款", "decision_no": "黑市监罚〔2025〕不1号"},
])
def test_words_near_not_punishing_are_no_such_decision(case_world, fields):
    assert get_rule_set("heihe-2024").counts(case_world.record(**fields))


def test_a_simplified_label_held_under_article_51_may_count_under_both(case_world):
    held = case_world.record(procedure="简易程序", review="held_implausible",
                             holds=[{"code": "held_implausible", "reason": "…"}])
    plain_simple = case_world.record(procedure="简易程序", review="held_unknown_uscc",
                                     holds=[{"code": "held_unknown_uscc", "reason": "…"}])
    heihe = get_rule_set("heihe-2024")
    assert heihe.might_count(held) and not heihe.might_count(plain_simple)
    assert get_rule_set("ndrc-2025").might_count(plain_simple)


def test_titles_and_sections_are_properties_of_the_rule_set():
    heihe, ndrc = get_rule_set("heihe-2024"), get_rule_set("ndrc-2025")
    assert heihe.title.startswith("市场主体专用信用报告") and heihe.sections == ()
    assert ndrc.title.startswith("经营主体专项信用报告")
    assert ndrc.sections == ("enforcement", "dishonest_list", "criminal")
    assert all("58号" not in note for note in heihe.notes + ndrc.notes)
    assert any("令第36号" in note for note in heihe.notes)
