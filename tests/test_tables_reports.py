"""models/tables/reports.py: issuing a report row, the reports still without a PDF, the views of one report."""

import datetime as dt

import pytest
from peewee import IntegrityError

from models.base import utcnow
from models.tables.reports import Report
from models.tables.views import ViewLog


def test_a_report_is_issued_to_its_requests_enterprise_once(make_signed_report):
    report = make_signed_report()
    fields = {name: getattr(report, name) for name in ("check_code", "issued_at", "valid_until", "rule_version",
                                                        "snapshot", "digest", "signature", "algorithm", "key_id")}
    with pytest.raises(IntegrityError):
        Report.issue(report.request, number="HH-X-1", token="another-token", **fields)
    request = report.request
    Report.delete().where(Report.id == report.id).execute()
    again = Report.issue(request, number="HH-X-2", token="a-third-token", **fields)
    assert again.enterprise_id == request.enterprise_id and Report.of_request(request.id).id == again.id


def test_unrendered_ids_are_the_reports_of_the_window_without_a_pdf(make_signed_report):
    now = utcnow()
    recent, old, too_new = (make_signed_report(issued=now - dt.timedelta(minutes=m)) for m in (30, 3000, 1))
    rendered = make_signed_report(issued=now - dt.timedelta(minutes=30))
    Report.store_pdf(rendered.id, b"%PDF-1.7")
    ids = Report.unrendered_ids(issued_after=now - dt.timedelta(days=1), issued_before=now - dt.timedelta(minutes=5))
    assert ids == [recent.id]
    assert old.id not in ids and too_new.id not in ids


def test_recent_views_count_every_view_and_list_the_latest(make_signed_report):
    report = make_signed_report()
    start = utcnow() - dt.timedelta(hours=3)
    ViewLog.log_many([{"report": report.id, "at": start + dt.timedelta(hours=h), "ip": "10.0.0.1", "user_agent": "x",
                       "unit": f"单位{h}", "entry": f"e-{h}"} for h in range(3)])
    count, latest = report.recent_views(2)
    assert count == 3 and [unit for _, unit in latest] == ["单位2", "单位1"]
