"""models.policy.casework.severity: the class of a 违法记录 is the department's, its publicity per 令第36号."""

import datetime as dt
from decimal import Decimal

from models.policy.casework.severity import (
    FROM_DEFAULT,
    FROM_DEFAULT_SETTING,
    FROM_DEPARTMENT,
    FROM_RULE,
    Severity,
    add_months,
    publicity_until,
    record_severity,
    repair_eligible_on,
)
from models.tables.registry import Department


def test_the_departments_class_wins_then_the_办法s_minor_cases_then_its_default(case_world):
    r = case_world.record
    assert record_severity(r(severity="严重")) == Severity("严重", FROM_DEPARTMENT)
    assert record_severity(r(severity="轻微", procedure="普通程序")) == Severity("轻微", FROM_DEPARTMENT)
    assert record_severity(r(category="警告", content="警告")) == Severity("轻微", FROM_RULE)
    assert record_severity(r(category="警告；通报批评")) == Severity("轻微", FROM_RULE)
    assert record_severity(r(procedure="简易程序")) == Severity("轻微", FROM_RULE)
    assert record_severity(r()) == Severity("一般", FROM_DEFAULT)
    assert record_severity(r()).label == "一般（默认）"


def test_no_invented_threshold_decides_serious(case_world):
    """A 12万元 fine with a revoked licence is 一般 unless the department says otherwise (国办发〔2025〕22号)."""
    big = case_world.record(category="罚款；没收违法所得；吊销许可证件", fine_wan=Decimal("12"),
                            content="吊销食品生产许可证")
    assert record_severity(big) == Severity("一般", FROM_DEFAULT)
    assert record_severity(case_world.record(fine_wan=Decimal("500"))).level == "一般"


def test_a_department_default_applies_where_nothing_else_does(case_world):
    market = Department.get(Department.code == "market")
    market.set_default_severity("严重")
    record = case_world.record()
    assert record_severity(record) == Severity("严重", FROM_DEFAULT_SETTING)
    assert record_severity(case_world.record(category="警告")).level == "轻微"  # the 办法's own minor cases first
    assert record_severity(record, department_default="轻微").level == "轻微"


def test_publicity_and_repair_periods(case_world):
    record = case_world.record(decided_on=dt.date(2025, 4, 16))
    general = record_severity(record)
    assert publicity_until(record, general) == dt.date(2026, 4, 16)  # 一般: at most 1 year
    assert repair_eligible_on(record, general) == dt.date(2025, 7, 16)  # at least 3 months
    assert publicity_until(record, Severity("轻微", FROM_RULE)) == dt.date(2025, 7, 16)
    assert publicity_until(record, Severity("严重", FROM_DEPARTMENT)) == dt.date(2028, 4, 16)
    assert repair_eligible_on(record, Severity("严重", FROM_DEPARTMENT)) == dt.date(2026, 4, 16)
    assert repair_eligible_on(record, Severity("轻微", FROM_RULE)) == record.decided_on
    sent = case_world.record(decided_on=dt.date(2025, 8, 21), publicity_until=dt.date(2028, 8, 20))
    assert publicity_until(sent, record_severity(sent)) == dt.date(2028, 8, 20)  # the feed's 公示截止期 wins


def test_add_months_clamps_to_month_end():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2025, 12, 1), 12) == dt.date(2026, 12, 1)
