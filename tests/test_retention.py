"""jobs.retention.purge_view_logs: views older than VIEW_LOG_DAYS go, newer stay; run by a real RQ worker."""

import datetime as dt

from commands.scheduler import PERIODIC
from models.base import utcnow
from models.tables.views import ViewLog


def _views(report, ages_in_days):
    now = utcnow()
    return [ViewLog.create(report=report, at=now - dt.timedelta(days=d), unit="某银行", ip="1.2.3.4").id
            for d in ages_in_days]


def test_purge_deletes_views_older_than_the_configured_period(app, rt, drain, make_signed_report):
    report = make_signed_report()
    old = _views(report, [181, 400])
    kept = _views(report, [179, 0])
    rt.queue.enqueue("jobs.retention.purge_view_logs")
    assert drain() == 0
    assert sorted(v.id for v in ViewLog.select()) == sorted(kept)
    assert not ViewLog.select().where(ViewLog.id.in_(old)).exists()


def test_purge_follows_view_log_days_and_is_scheduled(app, rt, make_signed_report):
    from jobs.retention import purge_view_logs

    report = make_signed_report()
    _views(report, [10, 40])
    rt.config["VIEW_LOG_DAYS"] = 30
    assert purge_view_logs() == 1
    assert purge_view_logs() == 0  # nothing done twice
    assert ViewLog.select().count() == 1
    assert ("purge-view-logs", 3600, "jobs.retention.purge_view_logs") in PERIODIC
