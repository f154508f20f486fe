"""N simulated owners running whole flows at once against the real process set: lost and duplicate reports, throughput.

    .venv/bin/python -m bench.load_owners [--owners 200] [--database sqlite|postgres|URL] [--workers 2]
                                          [--web-workers 2] [--deadline 300] [--redis-db 7]

Starts the same processes as the end-to-end tests (devtools.stack: gunicorn, `flask worker` ×N, `flask scheduler`,
the WeChat, SMS and WeCom doubles; production-like safe mode), loads demo data, then every owner — one thread each —
follows, subscribe → 绑定企业 → USCC → the code from the SMS double → a one-sentence 申请报告 → 确认, and waits for
the QR image at the WeChat double. Loopback only; bounded by --owners (≤ 2000) and --deadline.

Lost: an owner whose 确认 was answered but who has no Report or no QR image within the deadline. Duplicate: more than
one Report per ReportRequest, more than one ReportRequest per confirming message (or per owner: each confirms once),
or more than one QR image delivered to an owner. Both must be 0 (exit status 1 otherwise).
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import redis
from peewee import fn

from bench.common import (
    Enterprise,
    Figures,
    Report,
    ReportRequest,
    Stack,
    StackError,
    WechatUser,
    bind_database,
    db,
    machine_load,
    postgres_database,
    usable_mobile,
    wait_until,
)

MAX_OWNERS = 2000
POLL = 1.0  # seconds between an owner's looks at the doubles (200 owners polling faster load the machine itself)
SENTENCE = "帮我开一份近三年全部领域的报告，用于银行贷款"
DEFAULT_ADMIN = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Outcome:
    openid: str
    stage: str = "start"
    confirmed_at: float | None = None
    qr_at: float | None = None
    images: int = 0
    error: str | None = None
    requests: int = 0
    timings: list = field(default_factory=list)


def run_owner(stack, openid, enterprise, deadline):
    """One owner's whole flow; never raises (the outcome says where it stopped)."""
    outcome = Outcome(openid)
    owner = stack.owner(openid)
    mobile = usable_mobile(enterprise.mobile)
    try:
        for stage, action, expect in (("subscribe", lambda: owner.event("subscribe"), "欢迎关注"),
                                      ("bind", lambda: owner.say("绑定企业"), "统一社会信用代码"),
                                      ("uscc", lambda: owner.say(enterprise.uscc), "验证码已发送")):
            outcome.stage = stage
            _expect(outcome, action, expect)
        outcome.stage = "sms"
        sms = wait_until(lambda: stack.sms(mobile), max(1, deadline - time.monotonic()), "SMS", interval=POLL)
        code = re.search(r"验证码 (\d{6})", sms[-1]["text"]).group(1)
        outcome.stage = "code"
        _expect(outcome, lambda: owner.say(code), "绑定成功")
        outcome.stage = "sentence"
        _expect(outcome, lambda: owner.say(SENTENCE), "确认")
        outcome.stage = "confirm"
        _expect(outcome, lambda: owner.say("确认"), "报告正在生成")
        outcome.confirmed_at = time.monotonic()
        outcome.stage = "qr"
        owner.wait_sent(lambda m: m["kind"] == "image", max(1, deadline - time.monotonic()), "QR", interval=POLL)
        outcome.qr_at = time.monotonic()
        outcome.stage = "done"
    except (TimeoutError, StackError, AssertionError, OSError, ValueError) as exc:
        outcome.error = f"{type(exc).__name__}: {str(exc)[:200]}"
    return outcome


def _expect(outcome, action, expected):
    started = time.monotonic()
    reply = action()
    outcome.requests += 1
    outcome.timings.append(time.monotonic() - started)
    if expected not in (reply or ""):
        raise AssertionError(f"at {outcome.stage}: expected {expected!r}, got {(reply or '')[:80]!r}")


def count_duplicates(openids):
    """(reports per request > 1, requests per confirming message > 1, requests per owner > 1) from the database."""
    per_request = (Report.select(Report.request).group_by(Report.request)
                   .having(fn.COUNT(Report.id) > 1).count())
    per_message = (ReportRequest.select(ReportRequest.user, ReportRequest.msg_key)
                   .group_by(ReportRequest.user, ReportRequest.msg_key).having(fn.COUNT(ReportRequest.id) > 1).count())
    per_owner = (ReportRequest.select(ReportRequest.user).join(WechatUser).where(WechatUser.openid.in_(openids))
                 .group_by(ReportRequest.user).having(fn.COUNT(ReportRequest.id) > 1).count())
    return per_request, per_message, per_owner


def lost_owners(outcomes):
    """Owners whose 确认 was answered but who got no QR, or whose request has no Report."""
    confirmed = [o for o in outcomes if o.confirmed_at is not None]
    with_report = {u.openid for u in WechatUser.select(WechatUser.openid).join(ReportRequest)
                   .join(Report, on=(Report.request == ReportRequest.id))}
    return [o for o in confirmed if o.qr_at is None or o.openid not in with_report]


def pick_enterprises(count):
    """`count` enterprises whose registered mobile can receive the code (one per owner: codes are rate-limited)."""
    picked = [e for e in Enterprise.select().order_by(Enterprise.id) if usable_mobile(e.mobile)][:count]
    if len(picked) < count:
        raise SystemExit(f"only {len(picked)} enterprises with a mobile; raise --enterprises")
    return picked


def images_per_owner(stack, openids):
    """How many QR images the WeChat double delivered to each owner."""
    counts = dict.fromkeys(openids, 0)
    for message in stack.owner("bench-reader").session.get(f"{stack.wechat_url}/_double/sent", timeout=30).json():
        if message["kind"] == "image" and message["touser"] in counts:
            counts[message["touser"]] += 1
    return counts


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def drive(stack, owners, deadline_s):
    """Run every owner's flow at once; return (outcomes, wall seconds)."""
    enterprises = pick_enterprises(owners)
    openids = [f"o-load-{n:05d}" for n in range(owners)]
    deadline = time.monotonic() + deadline_s
    started = time.monotonic()
    gate = threading.Barrier(owners)

    def one(index):
        gate.wait()
        return run_owner(stack, openids[index], enterprises[index], deadline)

    with ThreadPoolExecutor(max_workers=owners) as pool:
        outcomes = list(pool.map(one, range(owners)))
    return outcomes, time.monotonic() - started


def report(stack, outcomes, wall, args):
    """Print the figures; return the exit status (0 when nothing was lost or duplicated)."""
    openids = [o.openid for o in outcomes]
    lost = lost_owners(outcomes)
    dup_reports, dup_messages, dup_owners = count_duplicates(openids)
    images = images_per_owner(stack, openids)
    dup_images = sum(1 for n in images.values() if n > 1)
    done = [o for o in outcomes if o.stage == "done"]
    failed = [o for o in outcomes if o.stage != "done"]
    latencies = [o.qr_at - o.confirmed_at for o in done]
    replies = [t for o in outcomes for t in o.timings]
    requests_sent = sum(o.requests for o in outcomes)
    print(f"\nowners: {len(outcomes)}, database: {args.database}, RQ workers: {args.workers}, "
          f"gunicorn {args.web_workers}×{args.web_threads} threads, cores: {os.cpu_count()}")
    print(f"{'figure':44} {'value':>12}")
    rows = [
        ("flows completed (QR received)", f"{len(done)}/{len(outcomes)}"),
        ("lost (confirmed, no report/QR by deadline)", f"{len(lost)}"),
        ("duplicate reports per request", f"{dup_reports}"),
        ("duplicate requests per confirming message", f"{dup_messages}"),
        ("owners with more than one request", f"{dup_owners}"),
        ("owners with more than one QR image", f"{dup_images}"),
        ("wall time, all flows (s)", f"{wall:.1f}"),
        ("whole flows per minute", f"{len(done) / wall * 60:.0f}"),
        ("/wechat messages answered per second", f"{requests_sent / wall:.1f}"),
        ("passive reply p50 / p99 (ms)",
         f"{percentile(replies, 50) * 1000:.0f} / {percentile(replies, 99) * 1000:.0f}"),
        ("confirm → QR p50 / p95 (s)", f"{percentile(latencies, 50):.1f} / {percentile(latencies, 95):.1f}"),
        ("confirm → QR max (s)", f"{max(latencies):.1f}" if latencies else "n/a"),
    ]
    figures = Figures("load_owners", args.database, args.figures)
    for label, value in rows:
        print(f"{label:44} {value:>12}")
        zero = label.startswith(("lost", "duplicate", "owners with more"))
        figures.add(f"load ({len(outcomes)} owners): {label}", value, "target 0" if zero else "")
    figures.save(args.load_start, machine_load())
    for outcome in failed[:10]:
        print(f"  not done: {outcome.openid} at {outcome.stage}: {outcome.error}")
    if latencies:
        print(f"confirm → QR mean {statistics.mean(latencies):.1f} s")
    bad = len(lost) + dup_reports + dup_messages + dup_owners + dup_images
    return 1 if bad else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=200)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a fresh database), or a URL")
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN)
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for all flows to finish")
    parser.add_argument("--enterprises", type=int, default=None, help="demo enterprises (default: 2 × owners, ≥ 300)")
    parser.add_argument("--logs", default=None, help="keep the processes' logs in this directory")
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "7")))
    parser.add_argument("--figures", default=None, help="also write the figures as JSON here (bench.run reads it)")
    args = parser.parse_args(argv)
    args.load_start = machine_load()
    print(f"start: {args.load_start}", flush=True)
    if not 1 <= args.owners <= MAX_OWNERS:
        parser.error(f"--owners must be between 1 and {MAX_OWNERS}")
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    with tempfile.TemporaryDirectory(prefix="load-owners-") as tmp:
        try:
            if args.database == "postgres":
                with postgres_database(args.pg_admin) as url:
                    return run(args, url, redis_url, tmp)
            url = f"sqlite:///{tmp}/load.db" if args.database == "sqlite" else args.database
            return run(args, url, redis_url, tmp)
        finally:
            redis.Redis.from_url(redis_url).flushdb()


def run(args, database_url, redis_url, tmp):
    """Start the stack, load data, drive the owners, print the figures."""
    enterprises = args.enterprises or max(300, 2 * args.owners)
    with Stack(database_url, redis_url, args.logs or f"{tmp}/stack", workers=args.workers, web_workers=args.web_workers,
               web_threads=args.web_threads) as stack:
        stack.flask("demo-data", "--enterprises", str(enterprises), "--records", str(enterprises * 4), check=True)
        bind_database(database_url)
        db.connect(reuse_if_open=True)
        try:
            outcomes, wall = drive(stack, args.owners, args.deadline)
            return report(stack, outcomes, wall, args)
        finally:
            db.close()


if __name__ == "__main__":
    sys.exit(main())
