"""Report pipeline: confirm → QR delivered and confirm → PDF ready (split into queue waits and run times), the PDF's
stages (render, stamp, PAdES signing) beside bare wkhtmltopdf on the same HTML, the build's per-report costs
(snapshot, SM2-SM3 and Ed25519 signatures), the worker's memory per PDF, and reports per minute by workers.

Real parts: `flask worker` subprocesses, Redis, the database, wkhtmltopdf, and the WeChat double (devtools) over
loopback.

    .venv/bin/python -m bench.report_bench [--database sqlite|postgres|URL] [--redis-db 4]
                                           [--latency-runs 10] [--reports 40] [--workers 1,2,4,8]

Latency: one request at a time, one worker; the queue waits and run times come from RQ's own timestamps of the
build job and the PDF job. The worker's process tree (the worker, RQ's scheduler, wkhtmltopdf) is sampled every
10 ms: its resident memory idle and its peak during each report. PDF stages, in this process on the same report:
the HTML, bare wkhtmltopdf (the binary on that HTML, same flags), wkhtmltopdf through the product (pdfkit), the
stamp, `html_to_pdf` (render + stamp + anything else it does), and the whole PDF job. Signing: detected in the
PDF (a /ByteRange signature dictionary); "n/a" when the product's PDF carries none.
"""

import argparse
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests
from rq import Worker
from rq.job import Job

from bench.common import (
    DEFAULT_ADMIN,
    PENALTY,
    ROOT,
    SOCIAL_ARREARS,
    WKHTMLTOPDF_OPTIONS,
    Binding,
    Department,
    Domain,
    Enterprise,
    Figures,
    OutboundMessage,
    PageStamp,
    PenaltyRecord,
    Report,
    ReportRequest,
    WechatUser,
    create_app,
    database,
    database_label,
    db,
    feeds,
    html_to_pdf,
    local_today,
    machine_load,
    make_uscc,
    median,
    pades,
    percentile,
    pipeline,
    process_tree,
    qr_png,
    ratio,
    render_report_html,
    rss_kb,
    rules,
    seal_box,
    seed,
    signing,
    sm2,
    snapshot,
    stamp_pages,
    start_wechat_double,
    summary,
    upgrade,
    utcnow,
    wkhtmltopdf,
)

FLASK = str(Path(sys.executable).parent / "flask")
SAMPLE_SECONDS = 0.01


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a database made and dropped), or a URL")
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN)
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "4")))
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--reports", type=int, default=40, help="reports per throughput run")
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts of the throughput runs")
    parser.add_argument("--figures", default=None, help="also write the figures as JSON here (bench.run reads it)")
    return parser.parse_args(argv)


def setup(database_url, redis_url, tmp):
    """A flushed Redis db, a fresh schema, the double, an enterprise with 20 records and complete feeds."""
    redis.Redis.from_url(redis_url).flushdb()
    double = start_wechat_double()
    config = {
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(tmp), "PUBLIC_BASE_URL": "http://bench.test", "RQ_QUEUE": "bench",
        "WECHAT_API_BASE": double.base_url + "/cgi-bin/", "WECHAT_OAUTH_BASE": double.base_url,
        "SIGNING_KEY": str(tmp / "signing-key.pem"),
    }
    signing.load_private_key(None, tmp, True)
    app = create_app(config)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the double's access log is not a figure
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
                "WECHAT_OAUTH_BASE"):
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


def wait_until(predicate, limit=300.0):
    """Poll `predicate` until it holds; RuntimeError after `limit` seconds (a bench never hangs)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {limit:g} s for {getattr(predicate, '__name__', 'a condition')}")
        time.sleep(0.01)


def qr_sent(report_id):
    row = OutboundMessage.get_or_none(OutboundMessage.dedup_key == f"report-qr-{report_id}")
    return row if row is not None and row.state == "sent" else None


class TreeMemory:
    """Samples the resident memory of a process and its descendants every SAMPLE_SECONDS; keeps the peak."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self):
        return sum(rss_kb(p) for p in process_tree(self.pid))

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(SAMPLE_SECONDS)

    def start(self):
        self._thread.start()
        return self

    def reset(self):
        """Start a new peak from the current memory; returns that memory (kB)."""
        current = self.now()
        self.peak = current
        return current

    def stop(self):
        self._stop.set()
        self._thread.join()


def job_times(rt, job_id):
    """(enqueued→started, started→ended) seconds of an RQ job, from RQ's own timestamps (waiting for RQ to write
    ended_at, which it does just after the job's last write: later on a loaded machine)."""
    wait_until(lambda: Job.fetch(job_id, connection=rt.redis).ended_at is not None)
    job = Job.fetch(job_id, connection=rt.redis)
    return (job.started_at - job.enqueued_at).total_seconds(), (job.ended_at - job.started_at).total_seconds()


def measure_latency(app, rt, double, enterprise, runs):
    """One request at a time, one worker: per run the latencies, RQ's queue waits and run times, memory."""
    procs = start_workers(app, rt, 1)
    memory = TreeMemory(procs[0].pid).start()
    rows = []
    try:
        for n in range(runs):
            idle = memory.reset()
            request = confirm(double, enterprise, f"lat-{n}")
            pipeline.enqueue_build(rt, request.id)
            wait_until(lambda r=request: Report.get_or_none(Report.request == r.id) is not None)
            report = Report.get(Report.request == request.id)
            wait_until(lambda r=report: qr_sent(r.id) is not None)
            wait_until(lambda r=report: Report.get_by_id(r.id).pdf_ready_at is not None)
            build_wait, build_run = job_times(rt, pipeline.build_job_id(request.id))
            pdf_wait, pdf_run = job_times(rt, pipeline.pdf_job_id(report.id))
            rows.append({"qr": (qr_sent(report.id).sent_at - request.created_at).total_seconds(),
                         "pdf": (Report.get_by_id(report.id).pdf_ready_at - request.created_at).total_seconds(),
                         "build_wait": build_wait, "build_run": build_run, "pdf_wait": pdf_wait, "pdf_run": pdf_run,
                         "idle_kb": idle, "peak_kb": memory.peak})
    finally:
        memory.stop()
        stop_workers(procs)
    return rows


def timed(func, runs):
    """(seconds of each of `runs` calls, the last result)."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def signed(pdf):
    """True when the PDF carries a signature dictionary (what a PAdES signature adds)."""
    return b"/ByteRange" in pdf and b"/Sig" in pdf


def pdf_stages(runs, tmp, config):
    """Each stage's seconds on the first report, the bare binary beside them; where (if) the PDF is signed."""
    report = Report.select().order_by(Report.id).first()
    data = json.loads(report.snapshot)
    png = qr_png(data["verify"]["url"])
    proof = {"digest": report.digest, "algorithm": report.algorithm, "key_id": report.key_id, "sm2_key_id": "—"}
    notice = summary.notice_for(config)
    html = render_report_html(data, report.check_code, proof, png, notice)
    stamp = PageStamp(number=report.number, qr_png=png, issuer=data["issuer"], title=data["title"])
    flags = [f"--{k}" if v is None else f"--{k}={v}" for k, v in WKHTMLTOPDF_OPTIONS.items()]
    flags = [part for flag in flags for part in (flag.split("=", 1) if "=" in flag else [flag])]
    bare_path = tmp / "bare.pdf"
    stages = {
        "bare": timed(lambda: subprocess.run(["wkhtmltopdf", *flags, "-", str(bare_path)], input=html.encode(),
                                             check=True, capture_output=True), runs)[0],
        "html": timed(lambda: render_report_html(data, report.check_code, proof, png, notice), runs)[0],
    }
    stages["render"], body = timed(lambda: wkhtmltopdf(html), runs)
    stages["stamp"], stamped = timed(lambda: stamp_pages(body, stamp), runs)
    stages["html_to_pdf"], engine_pdf = timed(lambda: html_to_pdf(html, stamp), runs)
    seal = pades.seal_for(config, "2026年11月27日 09:30")
    stages["sign"] = timed(lambda: pades.sign_pdf(stamped, seal_box(stamped), seal, config), runs)[0]

    def whole_job():
        Report.update(pdf=None, pdf_ready_at=None).where(Report.id == report.id).execute()
        pipeline.render_pdf(report.id)
        return bytes(Report.get_by_id(report.id).pdf)

    stages["job"], job_pdf = timed(whole_job, runs)
    where = "html_to_pdf" if signed(engine_pdf) else "job" if signed(job_pdf) else None
    return stages, where


def build_steps(config, runs):
    """Per report, in this process: the snapshot and each signature of the canonical data (SM2-SM3, Ed25519)."""
    rule_set = rules.get_rule_set(config["RULE_SET"])
    ed_key = signing.load_private_key(config["SIGNING_KEY"], config["INSTANCE_PATH"], config["DEV_MODE"])
    sm2_key = sm2.load_private_key(config["SM2_SIGNING_KEY"], config["INSTANCE_PATH"], config["DEV_MODE"])
    steps = {"snapshot": [], "sm2": [], "ed25519": []}
    for report in Report.select().order_by(Report.id).limit(runs):
        data = json.loads(report.snapshot)
        header = {k: data[k] for k in ("issuer", "issued_at", "valid_until", "verify")}
        seconds, frozen = timed(lambda r=report, h=header: snapshot.freeze(r.request, rule_set, h, local_today()), 1)
        steps["snapshot"] += seconds
        payload = signing.canonical_json({**frozen.data, "number": report.number})
        steps["sm2"] += timed(lambda p=payload: sm2_key.sign(p), 1)[0]
        steps["ed25519"] += timed(lambda p=payload: signing.sign(ed_key, p), 1)[0]
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


def ms(values):
    return f"median {median(values) * 1000:6.0f} ms, p90 {percentile(values, 90) * 1000:6.0f} ms"


def report_latency(rows, figures):
    """Latency, its split, and memory."""
    col = {key: [r[key] for r in rows] for key in rows[0]}
    lines = [("confirm → QR delivered (sent)", "qr"), ("confirm → PDF ready", "pdf"),
             ("  build job: queue wait", "build_wait"), ("  build job: run", "build_run"),
             ("  PDF job: queue wait", "pdf_wait"), ("  PDF job: run (render, stamp, store)", "pdf_run")]
    for label, key in lines:
        print(f"{label:40} {ms(col[key])}   (n={len(rows)})")
        figures.add(f"report: {label.strip()}", " ".join(ms(col[key]).split()))
    idle = median(col["idle_kb"]) / 1024
    growth = [(p - i) / 1024 for p, i in zip(col["peak_kb"], col["idle_kb"], strict=True)]
    print(f"{'worker memory (worker + scheduler + wkhtmltopdf)':40} idle {idle:.0f} MB; peak during a report "
          f"median {median(col['peak_kb']) / 1024:.0f} MB, max {max(col['peak_kb']) / 1024:.0f} MB "
          f"(+{median(growth):.0f} / +{max(growth):.0f} MB over idle)")
    figures.add("report: worker peak memory per report (worker tree, median / max)",
                f"{median(col['peak_kb']) / 1024:.0f} / {max(col['peak_kb']) / 1024:.0f} MB "
                f"(+{median(growth):.0f} / +{max(growth):.0f} MB over idle {idle:.0f} MB)")


def report_stages(stages, where, figures):
    """The PDF stages beside bare wkhtmltopdf."""
    bare = median(stages["bare"])
    labels = [("bare wkhtmltopdf, same HTML and flags", "bare"), ("report HTML (Jinja)", "html"),
              ("wkhtmltopdf through the product (pdfkit)", "render"), ("stamp every page", "stamp"),
              ("html_to_pdf (render + stamp + …)", "html_to_pdf"), ("PAdES signing (pyHanko)", "sign"),
              ("the whole PDF job (render_pdf: render, stamp, sign, store)", "job")]
    for label, key in labels:
        value = median(stages[key])
        print(f"{label:44} median {value * 1000:7.0f} ms   {ratio(value, bare):>7} bare")
        figures.add(f"report: PDF stage: {label}", f"{value * 1000:.0f} ms ({ratio(value, bare)})",
                    "" if key == "bare" else f"bare wkhtmltopdf: {bare * 1000:.0f} ms")
    job = median(stages["job"])
    parts = median(stages["html"]) + median(stages["render"]) + median(stages["stamp"]) + median(stages["sign"])
    signed_in = where or "nowhere (the product's PDF carries no signature)"
    print(f"{'signed in':44} {signed_in}; the job beyond its parts: {(job - parts) * 1000:.0f} ms")
    figures.add("report: PDF job vs bare wkhtmltopdf (target ≤ 1.5×)", f"{ratio(job, bare)}",
                f"bare wkhtmltopdf: {bare * 1000:.0f} ms")


def report_steps(steps, figures):
    """The build's per-report costs: snapshot and signatures."""
    labels = (("snapshot (freeze)", "snapshot"), ("SM2-SM3 signature", "sm2"), ("Ed25519 signature", "ed25519"))
    for label, key in labels:
        print(f"{'per report, ' + label:44} {ms(steps[key])}")
        figures.add(f"report: per report, {label}", " ".join(ms(steps[key]).split()))


def main(argv=None):
    args = parse_args(argv)
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    load_start = machine_load()
    print(f"start: {load_start}", flush=True)
    figures = Figures("report", args.database, args.figures)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with database(args.database, tmp, args.pg_admin) as url:
            app, double, enterprise = setup(url, redis_url, tmp)
            rt = app.extensions["hegui"]
            try:
                rows = measure_latency(app, rt, double, enterprise, args.latency_runs)
                stages, where = pdf_stages(args.latency_runs, tmp, app.config)
                steps = build_steps(app.config, args.latency_runs)
                print(f"\nreport · {database_label(args.database)} · {machine_load()}")
                report_latency(rows, figures)
                report_stages(stages, where, figures)
                report_steps(steps, figures)
                for workers in [int(w) for w in args.workers.split(",")]:
                    rate, elapsed = measure_throughput(app, rt, double, enterprise, workers, args.reports)
                    print(f"{workers} worker(s): {rate:6.1f} reports/min ({args.reports} reports in {elapsed:.1f} s)",
                          flush=True)
                    figures.add(f"report: reports per minute, {workers} RQ worker(s)",
                                f"{rate:.0f} ({args.reports} in {elapsed:.1f} s)", f"{os.cpu_count()} cores")
            finally:
                double.stop()
                redis.Redis.from_url(redis_url).flushdb()
                db.close()
    load_end = machine_load()
    print(f"end: {load_end}")
    figures.save(load_start, load_end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
