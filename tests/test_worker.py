"""`flask worker` as a real subprocess: burst runs, and a worker killed mid-job."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rq.job import Job, JobStatus

from commands.worker import AppWorker
from jobs import pipeline
from models.base import db, is_postgres
from models.policy.report import signing
from models.policy.report.numbering import write_transaction
from models.tables.outbound import OutboundMessage
from models.tables.reports import Report
from models.tables.requests import ReportRequest

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture
def stuck_now(app_config):
    app_config["REPORT_STUCK_SECONDS"] = 0


@pytest.fixture
def worker_env(app):
    """The environment a `flask worker` subprocess needs to share this test's database, Redis, queue and key."""
    key_path = Path(app.config["INSTANCE_PATH"]) / "signing-key.pem"
    signing.load_private_key(None, app.config["INSTANCE_PATH"], True)  # made once, then shared by path
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "DATABASE_", "REDIS_"))}
    env.update({
        "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": app.config["RQ_QUEUE"], "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "SIGNING_KEY": str(key_path), "WECHAT_API_BASE": app.config["WECHAT_API_BASE"],
        "WECHAT_OAUTH_BASE": app.config["WECHAT_OAUTH_BASE"],
    })
    return env


def run_burst(env):
    return subprocess.run([FLASK, "worker", "--burst"], cwd=ROOT, env=env, capture_output=True, timeout=300)


def open_window(double, openid):
    requests.post(double.base_url + "/_double/interaction", json={"openid": openid, "kind": "message"}, timeout=5)


def test_flask_worker_burst_builds_delivers_and_renders(wechat_double, app, rt, report_world, worker_env):
    open_window(wechat_double, report_world.user.openid)
    request = report_world.request()
    pipeline.enqueue_build(rt, request.id)
    done = run_burst(worker_env)
    assert done.returncode == 0, done.stderr.decode()
    request = ReportRequest.get_by_id(request.id)
    report = Report.get(Report.request == request)
    assert request.status == "delivered"
    assert report.pdf_ready_at is not None and bytes(report.pdf).startswith(b"%PDF")
    assert {m.state for m in OutboundMessage.select()} == {"sent"}
    assert rt.queue.count == 0 and rt.queue.failed_job_registry.count == 0


def _hold_request_table():
    """Block writers of report_request (the test plays a long transaction elsewhere)."""
    txn = write_transaction()
    txn.__enter__()
    if is_postgres():
        db.execute_sql('LOCK TABLE "report_request" IN EXCLUSIVE MODE')
    return txn


def _wait_for(predicate, what):
    for _ in range(600):
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_a_worker_killed_mid_job_loses_nothing_after_the_sweep(wechat_double, stuck_now, app, rt, report_world,
                                                              worker_env):
    open_window(wechat_double, report_world.user.openid)
    request = report_world.request(domains=["market", "ecology"])
    pipeline.enqueue_build(rt, request.id)
    txn = _hold_request_table()
    worker = subprocess.Popen([FLASK, "worker"], cwd=ROOT, env=worker_env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        job = Job(f"build-{request.id}", connection=rt.redis)
        _wait_for(lambda: job.get_status(refresh=True) == JobStatus.STARTED, "the worker started the build")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and RQ's scheduler child it forked
        worker.wait()
        txn.__exit__(None, None, None)
    assert Job.fetch(f"build-{request.id}", connection=rt.redis).get_status() == JobStatus.STARTED  # orphaned
    assert Report.select().count() == 0
    assert ReportRequest.get_by_id(request.id).status in ("queued", "building")

    assert pipeline.sweep_stuck_requests()["builds"] == 1
    done = run_burst(worker_env)
    assert done.returncode == 0, done.stderr.decode()
    request = ReportRequest.get_by_id(request.id)
    assert request.status == "delivered"
    assert Report.select().where(Report.request == request).count() == 1
    assert Report.get(Report.request == request).pdf_ready_at is not None
    assert [m.state for m in OutboundMessage.select()] == ["sent", "sent"]


def test_app_worker_closes_the_database_after_each_job(app, rt, report_world):
    request = report_world.request()
    rt.queue.enqueue("jobs.pipeline.sweep_stuck_requests")
    if not db.is_closed():
        db.close()
    AppWorker(rt.queues, connection=rt.redis).work(burst=True)
    assert db.is_closed()
    db.connect(reuse_if_open=True)
    assert ReportRequest.get_by_id(request.id).status == "queued"
