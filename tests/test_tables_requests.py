"""models/tables/requests.py: a request's way through the pipeline is written by its own methods."""

import datetime as dt

from models.base import utcnow
from models.tables.requests import BUILDING, FAILED, QUEUED, ReportRequest


def test_mark_moves_only_from_the_given_states_and_counts_attempts(report_world):
    request = report_world.request()
    assert ReportRequest.mark(request.id, BUILDING, from_states=(QUEUED,), count_attempt=True)
    assert not ReportRequest.mark(request.id, FAILED, from_states=(QUEUED,), error="nope")
    row = ReportRequest.find(request.id)
    assert (row.status, row.attempts, row.error) == (BUILDING, 1, None)
    assert ReportRequest.mark(request.id, FAILED, from_states=(BUILDING,), error="a reason for staff")
    failed = ReportRequest.find(request.id)
    assert (failed.status, failed.error) == (FAILED, "a reason for staff")


def test_find_is_none_for_a_missing_request(app):
    assert ReportRequest.find(987654) is None


def test_the_job_and_the_trace(report_world):
    request = report_world.request()
    assert ReportRequest.trace_of(request.id) is None
    ReportRequest.update(trace_id="t-1").where(ReportRequest.id == request.id).execute()
    ReportRequest.set_job(request.id, f"build-{request.id}")
    assert ReportRequest.find(request.id).job_id == f"build-{request.id}"
    assert ReportRequest.trace_of(request.id) == "t-1"


def test_stuck_requests_are_the_queued_or_building_ones_unchanged_since_the_cutoff(report_world):
    old, fresh, done = report_world.request(), report_world.request(purpose="招投标"), report_world.request(purpose="x")
    long_ago = utcnow() - dt.timedelta(hours=1)
    ReportRequest.update(updated_at=long_ago).where(ReportRequest.id.in_([old.id, done.id])).execute()
    ReportRequest.update(status=FAILED).where(ReportRequest.id == done.id).execute()
    cutoff = utcnow() - dt.timedelta(minutes=5)
    assert [r.id for r in ReportRequest.stuck_since(cutoff)] == [old.id]
    ReportRequest.touch(old.id, utcnow())
    assert ReportRequest.stuck_since(cutoff) == [] and fresh.id not in [r.id for r in ReportRequest.stuck_since(cutoff)]
