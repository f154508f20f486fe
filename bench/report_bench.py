"""Report pipeline benchmark: confirm → QR delivered, confirm → signed PDF ready, reports per minute by worker count,
and the cost per report of each step (snapshot, SM2 and Ed25519 signatures, HTML + wkhtmltopdf + stamp, PAdES).

Real parts: `flask worker` subprocesses, Redis, the database, wkhtmltopdf, pyHanko, gmssl, and the WeChat double
(devtools) over loopback. The baseline is bare wkhtmltopdf on the same report HTML, run in the same process.

    .venv/bin/python -m bench.report_bench [--redis-url redis://127.0.0.1:6379/4] [--database-url URL]
                                           [--latency-runs 10] [--reports 40] [--workers 1,2,4]
"""

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests
from rq import Worker

from app import create_app
from devtools.wechat_double import start_wechat_double
from jobs import pipeline
from models.base import db, local_today, utcnow
from models.policy.report import feeds, pades, pki, rules, signing, sm2, snapshot, summary
from models.policy.report.pdf import WKHTMLTOPDF_OPTIONS, PageStamp, html_to_pdf, render_report_html, seal_box
from models.policy.report.qr import qr_png
from models.policy.uscc import make_uscc
from models.tables.accounts import Binding, WechatUser
from models.tables.records import PenaltyRecord
from models.tables.registry import PENALTY, SOCIAL_ARREARS, Department, Domain, Enterprise
from models.tables.reports import OutboundMessage, Report, ReportRequest
from models.tables.schema import seed, upgrade

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--workers", default="1,2,4")
    return parser.parse_args()


def setup(args, tmp):
    """A flushed Redis db, a fresh schema, the double, an enterprise with 20 records and complete feeds."""
    redis.Redis.from_url(args.redis_url).flushdb()
    double = start_wechat_double()
    config = {
        "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.db'}", "REDIS_URL": args.redis_url,
        "INSTANCE_PATH": str(tmp), "PUBLIC_BASE_URL": "http://bench.test", "RQ_QUEUE": "bench",
        "WECHAT_API_BASE": double.base_url + "/cgi-bin/", "WECHAT_OAUTH_BASE": double.base_url,
        "SIGNING_KEY": str(tmp / "signing-key.pem"), "SM2_SIGNING_KEY": sm2.generate_private(),
        "PDF_SIGNING_CERT": str(tmp / "pdf-signer.pem"), "PDF_SIGNING_KEY": str(tmp / "pdf-signer-key.pem"),
        "PDF_SIGNING_CHAIN": str(tmp / "pdf-ca.pem"),
    }
    signing.load_private_key(None, tmp, True)
    pki.generate_development(tmp, "黑河市社会信用体系建设领导小组办公室")
    app = create_app(config)
    app.app_context().push()
    db.connect(reuse_if_open=True)
    upgrade()
    seed()
    enterprise = Enterprise.create(uscc=make_uscc("91231100MA1BENCH0"), name="黑河市基准测试商贸有限公司",
                                   legal_rep="赵一", address="黑河市爱辉区", county="爱辉区")
    today = local_today()
    for domain in Domain.ordered():
        feeds.record_load(Department.get(Department.code == domain.code), PENALTY, [domain.id], today)
    feeds.record_load(Department.get(Department.code == "hrss"), SOCIAL_ARREARS, [None], today)
    market = Domain.get(Domain.code == "market")
    for n in range(20):
        PenaltyRecord.create(
            subject_name=enterprise.name, uscc=enterprise.uscc, enterprise=enterprise,
            decision_no=f"黑市监罚〔2026〕{n + 1}号", violation_type="虚假宣传", category="罚款", content="罚款",
            fine_wan="0.5000", decided_on=today - dt.timedelta(days=10 + n), authority="黑河市市场监督管理局",
            domain=market, procedure="普通程序", department=Department.get(Department.code == "market"))
    return app, double, enterprise


def confirm(double, enterprise, n):
    """A new owner (own WeChat window: the double allows 5 messages per window) confirms a request."""
    user = WechatUser.create(openid=f"o-bench-{n}", last_message_at=utcnow())
    Binding.create(user=user, enterprise=enterprise)
    requests.post(double.base_url + "/_double/interaction", json={"openid": user.openid}, timeout=5)
    today = local_today()
    return ReportRequest.create(
        user=user, enterprise=enterprise, msg_key=f"bench-{n}", domains=[d.code for d in Domain.ordered()],
        period_start=today - dt.timedelta(days=3 * 365), period_end=today, purpose_category="金融",
        purpose=f"银行贷款{n}")


def worker_env(app):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "DATABASE_", "REDIS_"))}
    for key in ("DATABASE_URL", "REDIS_URL", "RQ_QUEUE", "PUBLIC_BASE_URL", "SIGNING_KEY", "WECHAT_API_BASE",
                "WECHAT_OAUTH_BASE", "SM2_SIGNING_KEY", "PDF_SIGNING_CERT", "PDF_SIGNING_KEY", "PDF_SIGNING_CHAIN"):
        env[key] = app.config[key]
    return env


def start_workers(app, rt, count):
    """Start `count` `flask worker` processes and wait until each has registered with Redis."""
    procs = [subprocess.Popen([FLASK, "worker", "--name", f"bench-{i}-{time.time_ns()}"], cwd=ROOT,
                              env=worker_env(app), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(count)]
    while len(Worker.all(queue=rt.queue)) < count:
        time.sleep(0.05)
    return procs


def stop_workers(procs):
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait()


def wait_until(predicate):
    while not predicate():
        time.sleep(0.01)


def qr_sent(report_id):
    row = OutboundMessage.get_or_none(OutboundMessage.dedup_key == f"report-qr-{report_id}")
    return row if row is not None and row.state == "sent" else None


def measure_latency(app, rt, double, enterprise, runs):
    """One request at a time with one worker: confirm → QR sent, confirm → PDF ready (database timestamps)."""
    procs = start_workers(app, rt, 1)
    qr, pdf = [], []
    try:
        for n in range(runs):
            request = confirm(double, enterprise, f"lat-{n}")
            pipeline.enqueue_build(rt, request.id)
            wait_until(lambda r=request: Report.get_or_none(Report.request == r.id) is not None)
            report = Report.get(Report.request == request.id)
            wait_until(lambda r=report: qr_sent(r.id) is not None)
            wait_until(lambda r=report: Report.get_by_id(r.id).pdf_ready_at is not None)
            qr.append((qr_sent(report.id).sent_at - request.created_at).total_seconds())
            pdf.append((Report.get_by_id(report.id).pdf_ready_at - request.created_at).total_seconds())
    finally:
        stop_workers(procs)
    return qr, pdf


def bare_wkhtmltopdf(runs, tmp, report_config):
    """Seconds for the wkhtmltopdf process alone on the same report HTML, same flags."""
    report = Report.select().order_by(Report.id).first()
    data = json.loads(report.snapshot)
    html = render_report_html(data, report.check_code, {"digest": report.digest, "algorithm": report.algorithm,
                                                        "key_id": report.key_id}, qr_png(data["verify"]["url"]),
                              summary.notice_for(report_config))
    flags = [f"--{k}" if v is None else f"--{k}={v}" for k, v in WKHTMLTOPDF_OPTIONS.items()]
    flags = [part for flag in flags for part in (flag.split("=", 1) if "=" in flag else [flag])]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["wkhtmltopdf", *flags, "-", str(tmp / "bare.pdf")], input=html.encode(), check=True,
                       capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def timed(func, *args):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def measure_steps(app, runs):
    """Per report, in this process: each step of the build and of the PDF, on the stored reports' requests."""
    config = app.config
    rule_set = rules.get_rule_set(config.get("RULE_SET"))
    ed_key = signing.load_private_key(config["SIGNING_KEY"], config["INSTANCE_PATH"], False)
    sm2_key = sm2.load_private_key(config["SM2_SIGNING_KEY"], config["INSTANCE_PATH"], False)
    steps = {name: [] for name in ("snapshot", "sm2", "ed25519", "render", "pades")}
    for report in Report.select().order_by(Report.id).limit(runs):
        data = json.loads(report.snapshot)
        header = {k: data[k] for k in ("issuer", "issued_at", "valid_until", "verify")}
        seconds, frozen = timed(snapshot.freeze, report.request, rule_set, header, local_today())
        steps["snapshot"].append(seconds)
        payload = signing.canonical_json({**frozen.data, "number": report.number})
        steps["sm2"].append(timed(sm2_key.sign, payload)[0])
        steps["ed25519"].append(timed(signing.sign, ed_key, payload)[0])
        png = qr_png(data["verify"]["url"])
        proof = {"digest": report.digest, "algorithm": "Ed25519", "key_id": report.key_id, "sm2_key_id": sm2_key.key_id}

        def render(data=data, png=png, proof=proof, report=report):
            html = render_report_html(data, report.check_code, proof, png, summary.notice_for(config))
            return html_to_pdf(html, PageStamp(number=report.number, qr_png=png, issuer=data["issuer"],
                                               title=data["title"]))

        seconds, body = timed(render)
        steps["render"].append(seconds)
        seal = pades.seal_for(config, "2026年11月27日 09:30")
        steps["pades"].append(timed(pades.sign_pdf, body, seal_box(body), seal, config)[0])
    return steps


def measure_throughput(app, rt, double, enterprise, workers, count):
    """Reports per minute (request → PDF stored) with `workers` worker processes, queue filled up front."""
    procs = start_workers(app, rt, workers)
    try:
        made = [confirm(double, enterprise, f"tp-{workers}-{n}") for n in range(count)]
        ids = [r.id for r in made]
        start = time.perf_counter()
        for request_id in ids:
            pipeline.enqueue_build(rt, request_id)
        wait_until(lambda: Report.select().where(Report.request.in_(ids) & Report.pdf_ready_at.is_null(False))
                   .count() == count)
        elapsed = time.perf_counter() - start
    finally:
        stop_workers(procs)
    return count / elapsed * 60, elapsed


def stats(values):
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"median {statistics.median(values) * 1000:7.0f} ms   p90 {p90 * 1000:7.0f} ms   (n={len(values)})"


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        app, double, enterprise = setup(args, tmp)
        rt = app.extensions["hegui"]
        try:
            qr, pdf = measure_latency(app, rt, double, enterprise, args.latency_runs)
            bare = bare_wkhtmltopdf(args.latency_runs, tmp, app.config)
            steps = measure_steps(app, args.latency_runs)
            print(f"database: {app.config['DATABASE_URL'].split(':')[0]}, cores: {os.cpu_count()}")
            print(f"confirm → QR delivered (sent):  {stats(qr)}")
            print(f"confirm → signed PDF ready:     {stats(pdf)}")
            print(f"bare wkhtmltopdf, same HTML:    {stats(bare)}")
            print(f"per report, snapshot (freeze): {stats(steps['snapshot'])}")
            print(f"per report, SM2-SM3 signature: {stats(steps['sm2'])}")
            print(f"per report, Ed25519 signature: {stats(steps['ed25519'])}")
            print(f"per report, HTML + wkhtmltopdf + stamp: {stats(steps['render'])}")
            print(f"per report, PAdES signing (pyHanko): {stats(steps['pades'])}")
            for workers in [int(w) for w in args.workers.split(",")]:
                rate, elapsed = measure_throughput(app, rt, double, enterprise, workers, args.reports)
                print(f"{workers} worker(s): {rate:6.1f} reports/min ({args.reports} reports in {elapsed:.1f} s)")
        finally:
            double.stop()
            redis.Redis.from_url(args.redis_url).flushdb()


if __name__ == "__main__":
    main()
