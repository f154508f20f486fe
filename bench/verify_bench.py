"""GET /v/<token> under concurrent load, served by gunicorn, beside a bare Flask endpoint served the same way.

    .venv/bin/python -m bench.verify_bench [--requests 3000] [--concurrency 16] [--workers 4] [--database sqlite|URL]

Issues one real report (16 domains, a few penalty records) with the pipeline's own `issue_report`, starts gunicorn
twice on free loopback ports (a bare Flask app answering a fixed page of the same size, then the app), drives each
with a thread pool of `requests` sessions and prints requests/s and latency percentiles. Scenarios: a repeat viewer
(the view is deduplicated in Redis), a new viewer per request (a ViewLog row each), the signed JSON, and a guessed
token (404). Redis: database BENCH_REDIS_DB (default 6), flushed before and after; the miss limit is lifted.
"""

import argparse
import datetime as dt
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask, Response

from app import create_app
from bench.common import add_http_options, flush_redis, prepared_env, start_gunicorn
from jobs.pipeline import issue_report
from models.policy.uscc import make_uscc
from models.tables.accounts import WechatUser
from models.tables.records import PenaltyRecord
from models.tables.registry import Department, Domain, Enterprise
from models.tables.reports import ReportRequest

PAGE_BYTES = 14_000
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.50 bench"


def bare_app():
    """The baseline: a Flask endpoint answering a fixed HTML page of about the verify page's size."""
    app = Flask("bare")
    page = "<!doctype html><title>bare</title>" + "x" * PAGE_BYTES

    @app.get("/v/<token>")
    def verify(token):
        return Response(page, mimetype="text/html")

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


def issue_bench_report(env):
    """Create an enterprise with records and issue a real report through the pipeline; return its token."""
    app = create_app({"DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"]})
    with app.app_context():
        enterprise = Enterprise.create(uscc=make_uscc("91231100MA1BENCH0"), name="黑河市基准测试商贸有限公司",
                                       legal_rep="赵测", address="黑河市爱辉区", county="爱辉区")
        market = Domain.get(Domain.code == "market")
        for n in range(3):
            PenaltyRecord.create(
                subject_name=enterprise.name, uscc=enterprise.uscc, enterprise=enterprise,
                decision_no=f"黑市监罚〔2025〕{900 + n}号", violation_type="虚假宣传", category="罚款",
                content="罚款人民币5000元", fine_wan="0.5", decided_on=dt.date(2025, 3, 1 + n),
                authority="黑河市市场监督管理局", domain=market, procedure="普通程序",
                department=Department.get(Department.code == "market"))
        user = WechatUser.create(openid="o-bench-owner")
        request = ReportRequest.create(
            user=user, enterprise=enterprise, msg_key="bench", domains=[d.code for d in Domain.ordered()],
            period_start=dt.date(2023, 12, 1), period_end=dt.date(2026, 11, 27), purpose_category="金融",
            purpose="银行贷款")
        return issue_report(request, app.config).token


def drive(url, count, concurrency, new_viewer=False):
    """GET `url` `count` times with `concurrency` threads; (seconds, sorted latencies, non-2xx/404 count, bytes)."""
    local = threading.local()

    def one(i):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        agent = f"{UA} {i}" if new_viewer else UA
        started = time.perf_counter()
        response = local.session.get(url, headers={"User-Agent": agent}, timeout=30)
        return time.perf_counter() - started, response.status_code, len(response.content)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - started
    expected = 404 if "guess" in url else 200
    return elapsed, sorted(r[0] for r in results), sum(1 for r in results if r[1] != expected), results[0][2]


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_http_options(parser, 3000, 6)
    args = parser.parse_args()
    flush_redis(args)
    with tempfile.TemporaryDirectory() as tmp:
        env = prepared_env(args, tmp, VERIFY_OAUTH="0", VERIFY_MISS_LIMIT="1000000 per minute")
        token = issue_bench_report(env)
        rows = []
        bare, bare_base = start_gunicorn("bench.verify_bench:bare_app()", env, args.workers)
        try:
            rows.append(("bare Flask, fixed page", *drive(f"{bare_base}/v/{token}", args.requests, args.concurrency)))
        finally:
            bare.terminate()
            bare.wait()
        proc, base = start_gunicorn("app:create_app()", env, args.workers)
        try:
            for label, path, new_viewer in [("GET /v/<token>, repeat viewer", f"/v/{token}", False),
                                            ("GET /v/<token>, new viewer each", f"/v/{token}", True),
                                            ("GET /v/<token>/json", f"/v/{token}/json", False),
                                            ("GET /v/<guessed> (404)", "/v/guess-" + "x" * 30, False)]:
                rows.append((label, *drive(base + path, args.requests, args.concurrency, new_viewer)))
        finally:
            proc.terminate()
            proc.wait()
    flush_redis(args)
    print(f"\n{args.requests} requests per row, {args.concurrency} client threads, gunicorn {args.workers} sync "
          f"workers, database {args.database}, {os.cpu_count()} CPUs")
    print(f"{'scenario':34} {'bytes':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for label, elapsed, lat, errors, size in rows:
        print(f"{label:34} {size:7d} {len(lat) / elapsed:8.0f} {percentile(lat, 50) * 1000:8.1f} "
              f"{percentile(lat, 99) * 1000:8.1f} {lat[-1] * 1000:8.1f} {errors:7d}")


if __name__ == "__main__":
    main()
