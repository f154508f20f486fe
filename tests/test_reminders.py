import datetime as dt

import pytest
from rq import SimpleWorker

from jobs.reminders import send_daily_reminders
from models.base import LOCAL_TZ
from models.policy.casework.cases import open_case
from models.tables.cases import StaffNotice
from models.tables.records import FeedStatus
from models.tables.registry import Department, Domain

FRIDAY_9AM = dt.datetime(2026, 11, 27, 9, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def app_config(app_config, wecom_double):
    app_config.update(WECOM_ROBOT_URL=wecom_double.url_for("office"), WECOM_RATE_WINDOW=wecom_double.window,
                      WECOM_BATCH_SECONDS=0, FEED_STALE_DAYS=45, CASE_REMIND_WORKDAYS=1)
    return app_config


@pytest.fixture
def market(case_world, wecom_double):
    """The market department with its own robot, one fresh feed, one stale feed and three cases."""
    dept = Department.get(Department.code == "market")
    dept.robot_url = wecom_double.url_for("market")
    dept.save()
    domain = Domain.get(Domain.code == "market")
    FeedStatus.create(department=dept, domain=domain, kind="penalty", last_loaded_at=dt.datetime(2026, 11, 20),
                      complete_until=dt.date(2026, 11, 19))
    FeedStatus.create(department=dept, domain=domain, kind="repair", last_loaded_at=dt.datetime(2026, 8, 1),
                      complete_until=dt.date(2026, 7, 31))
    w = case_world
    one_day = {"CASE_DEADLINE_OBJECTION_DAYS": 1}
    due = open_case("objection", w.user, w.enterprise, w.record(), "理由", "due", today=dt.date(2026, 11, 26),
                    settings=one_day)
    late = open_case("objection", w.user, w.enterprise, w.record(), "理由", "late", today=dt.date(2026, 11, 20),
                     settings=one_day)
    far = open_case("objection", w.user, w.enterprise, w.record(), "理由", "far", today=dt.date(2026, 11, 27))
    StaffNotice.update(state="sent").where(StaffNotice.kind == "case_opened").execute()
    return dept, due, late, far


def _work(rt):
    SimpleWorker(rt.queues, connection=rt.redis).work(burst=True, with_scheduler=True)


def test_digest_once_per_robot_and_working_day(rt, market, wecom_double):
    dept, due, late, far = market
    created = send_daily_reminders(at=FRIDAY_9AM)
    assert len(created) == 2  # the market robot, and the office robot for every other department's feeds
    _work(rt)
    [message] = wecom_double.received("market")
    text = message["content"]
    assert due.number in text and "今日到期" in text
    assert late.number in text and "已超期 4 个工作日" in text
    assert far.number not in text
    assert "信用修复·市场监管：数据截至 2026-07-31" in text
    assert "行政处罚·市场监管" not in text  # loaded last week: not overdue
    office = wecom_double.received("office")[0]["content"]
    assert "公积金欠缴：从未报送" in office and "黑河市住房公积金管理中心" in office
    # A second run the same day (another scheduler, or after a Redis flush) posts nothing new.
    rt.redis.flushdb()
    assert send_daily_reminders(at=FRIDAY_9AM.replace(hour=15)) == []
    _work(rt)
    assert len(wecom_double.received("market")) == 1
    assert StaffNotice.select().where(StaffNotice.kind == "daily_reminder").count() == 2


def test_no_digest_on_rest_days_or_before_the_day_starts(rt, market, wecom_double):
    assert send_daily_reminders(at=dt.datetime(2026, 11, 28, 10, 0, tzinfo=LOCAL_TZ)) == []  # Saturday
    assert send_daily_reminders(at=dt.datetime(2026, 10, 2, 10, 0, tzinfo=LOCAL_TZ)) == []  # 国庆
    assert send_daily_reminders(at=FRIDAY_9AM.replace(hour=7)) == []
    assert StaffNotice.select().where(StaffNotice.kind == "daily_reminder").count() == 0
    assert len(send_daily_reminders(at=dt.datetime(2026, 10, 10, 9, 0, tzinfo=LOCAL_TZ))) == 2  # 调休 Saturday
