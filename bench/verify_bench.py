"""GET /v/<token> under wrk, served as the Procfile serves it (gunicorn, 4 sync workers), beside a bare Flask
endpoint answering the same bytes under the same gunicorn.

    .venv/bin/python -m bench.verify_bench [--database sqlite|postgres|URL] [--duration 10] [--connections 64]

The report is a real one, issued through the product: `flask demo-data`, then one owner's whole conversation over
HTTP on the end-to-end stack (subscribe → 绑定企业 → USCC → the SMS code → 申请报告 → 确认), an RQ worker builds it,
and its link is read from the message the WeChat double received. Scenarios: a new viewer each request (a distinct
User-Agent: the view dedup keys on IP, User-Agent and openid, so each is logged), one repeat viewer (deduplicated),
and the signed JSON; the bare app answers the bytes our page and JSON answered. After the new-viewer run the bench
counts the ViewLog rows it added against wrk's completed requests (waiting for deferred writes to land).
"""

import argparse
import re
import sys
import tempfile
import time
import types
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests

from bench import wrk
from bench.common import (
    VIEW_TABLE,
    Figures,
    Stack,
    add_common_options,
    database,
    database_label,
    ensure_peers,
    gunicorn,
    machine_load,
    peer_env,
    profiled,
    ratio,
    sql_rows,
    sql_scalar,
    usable_mobile,
    web_pid,
)
from bench.load_owners import run_owner

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.50 bench"
LINK = re.compile(r"/v/([A-Za-z0-9_-]{8,64})")
ISSUE_DEADLINE = 180
SETTLE_SECONDS = 12.0  # longer than two periods of the scheduler's view flush (5 s)
SETTLE_LIMIT = 60.0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, redis_db=4)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the Procfile's WEB_CONCURRENCY)")
    parser.add_argument("--profile", default=None, metavar="DIR",
                        help="one more new-viewer run under py-spy (not in the figures); its stacks are kept in DIR")
    parser.add_argument("--max-rate", type=int, default=8000, help="requests/s the warm-up pool is sized for")
    return parser.parse_args(argv)


def issue_report(stack):
    """Demo data, then one owner's conversation until the QR arrives; returns the report's token."""
    stack.flask("demo-data", "--enterprises", "300", "--records", "1200", check=True)
    rows = sql_rows(stack.database_url, "SELECT uscc, mobile FROM enterprise WHERE mobile <> '' ORDER BY id LIMIT 50")
    uscc, mobile = next((u, m) for u, m in rows if usable_mobile(m))
    openid = "o-verify-bench-owner"
    outcome = run_owner(stack, openid, types.SimpleNamespace(uscc=uscc, mobile=mobile),
                        time.monotonic() + ISSUE_DEADLINE)
    if outcome.stage != "done":
        raise RuntimeError(f"the report was not issued: stopped at {outcome.stage}: {outcome.error}\n{stack.logs()}")
    links = [LINK.search(m.get("text") or str(m)) for m in stack.owner(openid).sent()]
    token = next(m[1] for m in links if m)
    _wait_pdf(stack.base_url, token)
    return token


def _wait_pdf(base, token):
    """Until the PDF is stored (the page then shows its download link, as a verifier sees it later)."""
    deadline = time.monotonic() + ISSUE_DEADLINE
    while requests.get(f"{base}/v/{token}/pdf", timeout=30).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the report's PDF was not ready in time")
        time.sleep(0.5)


def get_pool(host, path, agents):
    """A writer of pools of GET `path`: a distinct User-Agent per request (`agents`), or the same one."""
    def write(pool_path, count):
        raws = (wrk.http_request("GET", path, host, [("User-Agent", f"{UA} viewer-{i}" if agents else UA)])
                for i in range(count))
        return wrk.write_pool(pool_path, raws)
    return write


def views(url):
    return sql_scalar(url, f"SELECT count(*) FROM {VIEW_TABLE}")


def settled_views(url):
    """The ViewLog count once it has stopped growing for SETTLE_SECONDS (a deferred write may still land)."""
    deadline = time.monotonic() + SETTLE_LIMIT
    last, since = views(url), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = views(url)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= SETTLE_SECONDS:
            break
    return last


def run_bench(args, tmp, redis_url):
    """Issue the report, measure the bare app and ours; returns (results, views logged, new-viewer requests)."""
    results = {}
    with database(args.database, tmp, args.pg_admin) as url, \
            Stack(url, redis_url, Path(tmp) / "stack", workers=1, web_workers=args.workers, web_threads=1,
                  scheduler=True, extra_env={"VERIFY_OAUTH": "0"}) as stack:  # the scheduler flushes the views
        token = issue_report(stack)
        page, document = Path(tmp) / "page.html", Path(tmp) / "report.json"
        page.write_bytes(_ok(requests.get(f"{stack.base_url}/v/{token}", headers={"User-Agent": UA}, timeout=30)))
        document.write_bytes(_ok(requests.get(f"{stack.base_url}/v/{token}/json", timeout=30)))
        env = peer_env(stack.env, BARE_PAGE=page, BARE_JSON=document)
        with gunicorn("bench.peers.bare:create()", env, args.workers, Path(tmp) / "bare.log") as bare:
            for key, path in (("bare page", f"/v/{token}"), ("bare json", f"/v/{token}/json")):
                results[key] = _measure(bare, path, False, args, tmp)
        base = stack.base_url
        results["repeat viewer"] = _measure(base, f"/v/{token}", False, args, tmp)
        before = settled_views(url)
        results["new viewer"] = _measure(base, f"/v/{token}", True, args, tmp)
        logged = settled_views(url) - before
        results["json"] = _measure(base, f"/v/{token}/json", False, args, tmp)
        if args.profile:  # an extra run: the sampling slows the server, so its figures are not reported
            out = Path(args.profile) / f"verify-new-viewer-{args.database.split(':')[0]}.txt"
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            with profiled(web_pid(stack), args.duration, out):
                _measure(base, f"/v/{token}", True, args, tmp)
        sizes = {"page": page.stat().st_size, "json": document.stat().st_size}
    return results, logged, sizes


def _ok(response):
    response.raise_for_status()
    return response.content


def _measure(base, path, agents, args, tmp):
    return wrk.measure(base + path, get_pool(urlsplit(base).netloc, path, agents), tmp, args.threads,
                       args.connections, args.duration, args.warmup, args.max_rate)


def report(results, logged, sizes, args, figures):
    """Print every scenario beside its same-bytes baseline, and the views logged against the requests."""
    print(f"\nverify · {database_label(args.database)} · gunicorn --workers {args.workers} (sync, as the Procfile) · "
          f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s · page {sizes['page']:,} bytes, "
          f"JSON {sizes['json']:,} bytes")
    print(f"{'scenario':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} {'vs bare':>8}")
    pairs = [("bare page", "bare Flask, same page bytes", None), ("bare json", "bare Flask, same JSON bytes", None),
             ("new viewer", "GET /v/<token>, a new viewer each", "bare page"),
             ("repeat viewer", "GET /v/<token>, one repeat viewer", "bare page"),
             ("json", "GET /v/<token>/json", "bare json")]
    for key, label, base_key in pairs:
        r = results[key]
        base = results[base_key] if base_key else None
        print(f"{label:40} {r.rps:8.0f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {r.max_ms:8.1f} {r.errors:7d} "
              f"{ratio(r.rps, base.rps) if base else '':>8}")
        baseline = (f"bare Flask, same bytes: {base.rps:,.0f} req/s, p99 {base.p99_ms:.0f} ms "
                    f"({ratio(r.rps, base.rps)})") if base else ""
        figures.add(f"verify: {label}", r.summary(), baseline)
    new = results["new viewer"]
    lost = max(0, new.requests - new.non2xx - logged)
    print(f"views logged during the new-viewer run: {logged} ViewLog rows for {new.requests} completed requests "
          f"({new.sent} sent, the rest in flight when wrk stopped; {new.repeated} repeated User-Agents); "
          f"lost: {lost}")
    figures.add("verify: ViewLog rows added for new-viewer requests completed (sent)",
                f"{logged} for {new.requests} ({new.sent}); lost {lost}", "lost 0")


def main(argv=None):
    args = parse_args(argv)
    wrk.ensure_wrk()
    ensure_peers()
    load_start = machine_load()
    print(f"start: {load_start}", flush=True)
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    figures = Figures("verify", args.database, args.figures)
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        try:
            results, logged, sizes = run_bench(args, tmp, redis_url)
        finally:
            redis.Redis.from_url(redis_url).flushdb()
    load_end = machine_load()
    report(results, logged, sizes, args, figures)
    print(f"end: {load_end}")
    figures.save(load_start, load_end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
