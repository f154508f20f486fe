"""models.policy.report.feeds: 数据截至 recorded per load; coverage complete / stale / missing."""

import datetime as dt

from models.policy import departments
from models.policy.report import feeds
from models.tables.records import FeedStatus
from models.tables.registry import Department, Domain

TODAY = dt.date(2026, 11, 27)


def test_missing_until_loaded(app):
    market = Domain.get(Domain.code == "market")
    assert feeds.coverage(market, "penalty", TODAY, today=TODAY) == feeds.Coverage("missing", None)


def test_complete_up_to_as_of_for_a_recent_period(app):
    market = Domain.get(Domain.code == "market")
    dept = Department.get(Department.code == "market")
    feeds.record_load(dept, "penalty", [market.id], dt.date(2026, 11, 20))
    assert feeds.coverage(market, "penalty", TODAY, today=TODAY) == feeds.Coverage("complete", dt.date(2026, 11, 20))
    assert feeds.coverage(market, "penalty", dt.date(2026, 11, 1), today=TODAY).state == "complete"
    # 45 days later the same feed is stale for a period ending then
    later = TODAY + dt.timedelta(days=60)
    assert feeds.coverage(market, "penalty", later, today=later).state == "stale"
    # …but still complete for a period that ended before 数据截至
    assert feeds.coverage(market, "penalty", dt.date(2026, 10, 31), today=later).state == "complete"
    assert feeds.coverage(market, "penalty", later, today=later, stale_days=90).state == "complete"


def test_complete_until_never_moves_backwards(app):
    market = Domain.get(Domain.code == "market")
    dept = Department.get(Department.code == "market")
    feeds.record_load(dept, "penalty", [market.id], dt.date(2026, 11, 20))
    feeds.record_load(dept, "penalty", [market.id], dt.date(2026, 10, 1))
    feeds.touch_load(dept, "penalty", [market.id])
    assert FeedStatus.get().complete_until == dt.date(2026, 11, 20)


def test_several_departments_earliest_wins_for_arrears(app):
    tax = Department.get(Department.code == "tax")
    hrss = Department.get(Department.code == "hrss")
    feeds.record_load(tax, "social_arrears", [None], dt.date(2026, 11, 20))
    assert feeds.coverage(None, "social_arrears", TODAY, today=TODAY).complete_until == dt.date(2026, 11, 20)
    feeds.record_load(hrss, "social_arrears", [None], dt.date(2026, 6, 30))
    assert feeds.coverage(None, "social_arrears", TODAY, today=TODAY) == feeds.Coverage("stale", dt.date(2026, 6, 30))
    # a department that lost the grant no longer counts
    hrss.grants.model.delete().where((hrss.grants.model.department == hrss)
                                     & (hrss.grants.model.kind == "social_arrears")).execute()
    assert feeds.coverage(None, "social_arrears", TODAY, today=TODAY).state == "complete"
    assert feeds.coverage(None, "fund_arrears", TODAY, today=TODAY).state == "missing"
    assert not departments.may_write(hrss, "social_arrears")
