"""models/tables/views.py: views older than the retention cutoff go, the others stay."""

import datetime as dt

from models.base import utcnow
from models.tables.views import ViewLog


def test_purge_before_deletes_only_older_views(make_signed_report):
    report = make_signed_report()
    now = utcnow()
    ViewLog.log_many([{"report": report.id, "at": now - dt.timedelta(days=d), "ip": "10.0.0.2", "user_agent": "x",
                       "entry": f"e-{d}"} for d in (1, 200, 400)])
    assert ViewLog.purge_before(now - dt.timedelta(days=180)) == 2
    assert [v.entry for v in ViewLog.select()] == ["e-1"]
