import pytest
import requests
from rq import SimpleWorker
from rq.job import Job

from commands.scheduler import PERIODIC, Scheduler
from jobs import delivery, pipeline
from models.base import utcnow
from models.tables.outbound import OutboundMessage
from models.tables.reports import Report
from models.tables.requests import ReportRequest

SWEEP = "jobs.pipeline.sweep_stuck_requests"


@pytest.fixture
def stuck_now(app_config):
    """Requests count as stuck at once (the sweep's minutes, scaled down): request before `app`."""
    app_config["REPORT_STUCK_SECONDS"] = 0


def test_each_slot_runs_once(app, rt):
    scheduler = Scheduler(rt, tasks=[("sweep", 60, SWEEP), ("daily", 86400, SWEEP)])
    assert scheduler.tick(now=120.0) == ["sweep", "daily"]
    assert scheduler.tick(now=150.0) == []
    assert scheduler.tick(now=180.0) == ["sweep"]
    assert rt.queue.get_job_ids() == ["periodic-sweep-2", "periodic-daily-0", "periodic-sweep-3"]


def test_one_scheduler_at_a_time_and_a_flush_loses_nothing(app, rt):
    first, second = Scheduler(rt, tasks=[("sweep", 60, SWEEP)]), Scheduler(rt, tasks=[("sweep", 60, SWEEP)])
    assert first.tick(now=60.0) == ["sweep"]
    assert second.tick(now=61.0) is None
    assert first.tick(now=62.0) == []
    rt.redis.flushdb()  # the lock, the claims and the queue are gone; the schedule is in code
    assert second.tick(now=63.0) == ["sweep"]
    assert first.tick(now=64.0) is None
    second.release()
    assert first.tick(now=125.0) == ["sweep"]
    assert len(rt.queue.get_job_ids()) == 2


def test_flask_scheduler_once_enqueues_the_sweep_and_a_worker_runs_it(stuck_now, app, rt, runner, report_world):
    assert ("sweep-report-requests", 60, SWEEP) in PERIODIC
    request = report_world.request(domains=["market"])  # confirmed, but its job never reached Redis
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0 and "sweep-report-requests" in result.output
    queued = rt.queue.get_job_ids()
    sweep_id = next(j for j in queued if j.startswith("periodic-sweep-report-requests-"))
    SimpleWorker([rt.queue], connection=rt.redis).work(burst=True, max_jobs=queued.index(sweep_id) + 1)
    assert Job.fetch(sweep_id, connection=rt.redis).return_value() == {"builds": 1, "pdfs": 0}
    assert f"build-{request.id}" in rt.queue.get_job_ids()


def test_a_flushed_redis_mid_flow_still_gives_one_report_per_request(wechat_double, stuck_now, app, rt, drain,
                                                                      report_world):
    """Issue 13, item 4: the two built requests' deliveries were lost with Redis. They are not `delivered` until
    the sweep has re-sent their QR images."""
    requests.post(f"{wechat_double.base_url}/_double/interaction", json={"openid": report_world.user.openid},
                  timeout=5).raise_for_status()
    requests_ = [report_world.request(domains=["market", "urban"]) for _ in range(3)]
    for request in requests_:
        pipeline.enqueue_build(rt, request.id)
    SimpleWorker([rt.queue], connection=rt.redis).work(burst=True, max_jobs=2)
    assert Report.select().count() == 2
    rt.redis.flushdb()
    assert pipeline.sweep_stuck_requests() == {"builds": 1, "pdfs": 2}
    assert drain() == 0
    assert pipeline.sweep_stuck_requests() == {"builds": 0, "pdfs": 0}
    statuses = [ReportRequest.get_by_id(r.id).status for r in requests_]
    assert statuses == ["issued", "issued", "delivered"]  # the flushed deliveries never ran
    rt.config["OUTBOUND_STALE_SECONDS"] = 0
    assert delivery.sweep_outbound() == 4  # two QR images and two texts whose jobs were flushed
    assert drain() == 0 and delivery.sweep_outbound() == 0
    images = [m for m in _sent(wechat_double, report_world.user.openid) if m["kind"] == "image"]
    assert len(images) == 3
    for request in requests_:
        request = ReportRequest.get_by_id(request.id)
        assert request.status == "delivered"
        (report,) = Report.select().where(Report.request == request)
        assert report.pdf_ready_at is not None
        assert OutboundMessage.get(OutboundMessage.dedup_key == f"report-qr-{report.id}").state == "sent"
    texts = [OutboundMessage.get(OutboundMessage.dedup_key == f"report-text-{report.id}").state
             for report in Report.select()]
    assert sorted(texts) == ["deferred", "sent", "sent"]  # six messages, WeChat's five: one waits for the owner


def _sent(double, openid):
    return requests.get(f"{double.base_url}/_double/sent", params={"openid": openid}, timeout=5).json()


def test_the_sweep_leaves_waiting_jobs_alone(stuck_now, app, rt, report_world):
    request = report_world.request()
    pipeline.enqueue_build(rt, request.id)
    assert pipeline.sweep_stuck_requests() == {"builds": 0, "pdfs": 0}
    assert rt.queue.get_job_ids() == [f"build-{request.id}"]


def test_the_sweep_gives_up_after_too_many_attempts(stuck_now, app, rt, report_world):
    request = report_world.request()
    ReportRequest.update(status="building", attempts=pipeline.MAX_ATTEMPTS, updated_at=utcnow()).where(
        ReportRequest.id == request.id).execute()
    assert pipeline.sweep_stuck_requests() == {"builds": 0, "pdfs": 0}
    request = ReportRequest.get_by_id(request.id)
    assert request.status == "failed" and "gave up" in request.error
    notice = OutboundMessage.get(OutboundMessage.dedup_key == f"report-failed-{request.id}")
    assert notice.payload["text"].startswith("很抱歉")
