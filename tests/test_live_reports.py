"""jobs.live_reports: the verify page's copy of reports' live fields in Redis, forgotten by every change once it is
committed, never used after a change it predates."""

import datetime as dt
import logging
import time

import pytest
import redis

from jobs import live_reports
from models.base import db, utcnow
from models.policy.report import snapshot
from models.policy.report.corrections import mark_reports_corrected
from models.tables.reports import CORRECTED, REVOKED, SUPERSEDED, VALID, Report, ReportRecord, report_status

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _status(rt, report):
    return report_status(live_reports.read(rt.redis, report.token))


def test_the_copy_is_read_instead_of_the_database(rt, make_signed_report, monkeypatch):
    report = make_signed_report()
    first = live_reports.read(rt.redis, report.token)
    assert first == Report.live_by_token(report.token)
    assert rt.redis.ttl(live_reports.copy_key(report.token)) <= live_reports.COPY_TTL

    def no_database(token):
        raise AssertionError("the database was read although the copy is current")

    monkeypatch.setattr(Report, "live_by_token", no_database)
    assert live_reports.read(rt.redis, report.token) == first


def test_a_change_made_behind_the_writers_back_stays_unseen_while_the_copy_lives(rt, make_signed_report):
    # What every writer of a live field must therefore do: call models.tables.reports.live_changed.
    report = make_signed_report()
    assert _status(rt, report) == VALID
    Report.update(revoked_at=utcnow()).where(Report.id == report.id).execute()  # no live_changed
    assert _status(rt, report) == VALID
    rt.redis.delete(live_reports.copy_key(report.token))
    assert _status(rt, report) == REVOKED


def _revoke(report, **_):
    assert Report.get_by_id(report.id).revoke()
    return REVOKED


def _correct(report, case_world, **_):
    record = case_world.record()
    ReportRecord.create(report=report, record=record)
    assert mark_reports_corrected(record.id, "处罚决定书已更正") == [report.id]
    return CORRECTED


def _supersede(report, make_signed_report, **_):
    newer = make_signed_report(enterprise=report.enterprise)
    assert snapshot.supersede_older(newer) == 1
    return SUPERSEDED


@pytest.mark.parametrize("change", [_revoke, _correct, _supersede], ids=["revoke", "correct", "supersede"])
def test_every_writer_of_a_status_forgets_the_copy(rt, make_signed_report, case_world, change):
    report = make_signed_report(enterprise=case_world.enterprise)
    assert _status(rt, report) == VALID
    expected = change(report, case_world=case_world, make_signed_report=make_signed_report)
    assert _status(rt, report) == expected


def test_the_pdf_job_forgets_the_copy(rt, make_signed_report):
    report = make_signed_report()
    assert live_reports.read(rt.redis, report.token).pdf_ready_at is None
    assert Report.store_pdf(report.id, b"%PDF-1.4\n")
    assert live_reports.read(rt.redis, report.token).pdf_ready_at is not None


def test_forgotten_only_once_committed_and_not_when_rolled_back(rt, make_signed_report):
    report = make_signed_report()
    assert _status(rt, report) == VALID
    with pytest.raises(ZeroDivisionError), db.atomic():
        Report.get_by_id(report.id).revoke()
        _ = 1 / 0
    generation = live_reports.generation_key(report.token)
    assert rt.redis.get(generation) is None and _status(rt, report) == VALID  # nothing changed, nothing forgotten
    with db.atomic():
        Report.get_by_id(report.id).revoke()
        assert rt.redis.get(generation) is None  # not before the commit
    assert rt.redis.get(generation) is not None and _status(rt, report) == REVOKED


def test_a_copy_of_a_row_read_before_a_change_is_not_used_after_it(rt, make_signed_report, monkeypatch):
    report = make_signed_report()
    read_row = Report.live_by_token

    def read_then_revoked_meanwhile(token):
        row = read_row(token)  # the row as it was ...
        assert Report.get_by_id(report.id).revoke()  # ... then a change is committed before the copy is stored
        return row

    monkeypatch.setattr(Report, "live_by_token", read_then_revoked_meanwhile)
    assert report_status(live_reports.read(rt.redis, report.token)) == VALID  # what this request read
    monkeypatch.setattr(Report, "live_by_token", read_row)
    assert _status(rt, report) == REVOKED  # the copy it stored carries the generation from before the change


def test_without_redis_the_database_is_read_and_a_change_is_logged(rt, make_signed_report, monkeypatch, caplog):
    report = make_signed_report()
    dead = redis.Redis.from_url(DEAD_REDIS, socket_connect_timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="jobs.live_reports"):
        assert live_reports.read(dead, report.token) == Report.live_by_token(report.token)
        monkeypatch.setattr(rt, "redis", dead)
        assert Report.get_by_id(report.id).revoke()  # committed; forgetting fails and is logged, not raised
    assert Report.get_by_id(report.id).revoked_at is not None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "could not be forgotten" in errors[0].getMessage()


def test_an_unknown_token_is_not_copied(rt):
    assert live_reports.read(rt.redis, "x" * 32) is None
    assert rt.redis.exists(live_reports.copy_key("x" * 32)) == 0


def test_encoding_keeps_every_field(make_signed_report):
    report = make_signed_report(revoked_at=dt.datetime(2026, 5, 1, 8, 30, 15, 123456), correction_note="更正：「」")
    live = Report.live_by_token(report.token)
    assert live.revoked_at is not None and live.pdf_ready_at is None
    assert live_reports.decode(live_reports.encode(live)) == live


def test_a_generation_outlives_every_copy():
    assert live_reports.GENERATION_TTL >= live_reports.COPY_TTL


# -- one process's copies (Local) -------------------------------------------------------------------------------


@pytest.fixture
def local(app):
    copies = live_reports.Local(app.config["REDIS_URL"])
    yield copies
    copies._drop()


def test_a_local_copy_is_used_without_asking_redis(rt, local, make_signed_report, monkeypatch):
    report = make_signed_report()
    first = live_reports.read(rt.redis, report.token, local)
    assert local.get(report.token) == first

    class NoRedis:
        def mget(self, *keys):
            raise AssertionError("Redis was asked although the local copy is current")

    assert live_reports.read(NoRedis(), report.token, local) == first


def test_an_announced_change_drops_the_local_copy_before_it_is_used(rt, local, make_signed_report):
    report = make_signed_report()
    assert report_status(live_reports.read(rt.redis, report.token, local)) == VALID
    assert Report.get_by_id(report.id).revoke()  # forget: new generation, then the announcement
    assert report_status(live_reports.read(rt.redis, report.token, local)) == REVOKED


def test_a_dropped_subscription_drops_every_local_copy(rt, local, make_signed_report):
    report = make_signed_report()
    assert report_status(live_reports.read(rt.redis, report.token, local)) == VALID
    # A change whose announcement this process never hears: the connection is cut by the server.
    assert rt.redis.client_kill_filter(_type="pubsub") >= 1
    Report.update(revoked_at=utcnow()).where(Report.id == report.id).execute()
    rt.redis.delete(live_reports.copy_key(report.token))
    assert report_status(live_reports.read(rt.redis, report.token, local)) == REVOKED


def test_without_redis_no_local_copy_is_kept(rt, make_signed_report):
    report = make_signed_report()
    local = live_reports.Local(DEAD_REDIS)
    dead = redis.Redis.from_url(DEAD_REDIS, socket_connect_timeout=0.5)
    assert live_reports.read(dead, report.token, local) == Report.live_by_token(report.token)
    assert local.copies == {} and not local.listening()  # and not tried again before RESUBSCRIBE_SECONDS


def test_a_forked_process_subscribes_anew_and_keeps_nothing_of_its_parent(rt, local, make_signed_report,
                                                                        monkeypatch):
    report = make_signed_report()
    live_reports.read(rt.redis, report.token, local)
    parent = local.subscription
    monkeypatch.setattr(live_reports.os, "getpid", lambda: -1)
    assert local.listening() and local.subscription is not parent and local.copies == {}


def test_local_copies_are_bounded_in_number_and_age(rt, make_signed_report, app, monkeypatch):
    local = live_reports.Local(app.config["REDIS_URL"], size=2)
    try:
        reports = [make_signed_report() for _ in range(3)]
        for report in reports:
            live_reports.read(rt.redis, report.token, local)
        assert list(local.copies) == [reports[1].token, reports[2].token]
        now = time.monotonic()
        monkeypatch.setattr(live_reports.time, "monotonic", lambda: now + live_reports.LOCAL_MAX_AGE + 1)
        assert local.get(reports[2].token) is None
    finally:
        local._drop()
