"""POST /wechat under wrk, beside a bare Flask endpoint and WeRoBot 1.13 (with and without its Redis session).

    .venv/bin/python -m bench.webhook_bench [--database sqlite|postgres|URL] [--duration 10] [--connections 64]

Every server runs under gunicorn with the same settings (`--workers 2`, sync unless --web-threads, `--timeout 30`);
wrk drives each with `-t2 -c64` for a fixed duration over a pool of encrypted (safe mode) text messages built right
before the run, each with a fresh MsgId, nonce and timestamp, so no two requests are alike (a repeat is counted and
printed). Ours runs as the end-to-end stack starts it (devtools.stack: production-like settings, a generated key, the
doubles), on SQLite or on a PostgreSQL database made for the run and dropped. Each server first gets one message per
user (the users exist: steady state) and a short warm-up, and must answer one message with a reply we can decrypt.
Last: the same MsgId over and over (WeChat's retries; the cached answer). Redis: database --redis-db, flushed before
and after.
"""

import argparse
import itertools
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import redis
import requests

from bench import wrk
from bench.common import (
    Figures,
    Stack,
    add_common_options,
    database,
    database_label,
    ensure_peers,
    gunicorn,
    machine_load,
    message_xml,
    peer_env,
    post_to_wechat,
    profiled,
    ratio,
    signed_request,
    web_pid,
)

CONTENT = "帮助"
PEERS = [("bare", "bare Flask endpoint answering success", "bench.peers.bare:create()"),
         ("werobot", "WeRoBot 1.13, encrypted, no state", "bench.peers.werobot_app:create('none')"),
         ("werobot-redis", "WeRoBot 1.13, encrypted, session in Redis", "bench.peers.werobot_app:create('redis')")]
SHORT = {"bare": "bare Flask", "werobot": "WeRoBot", "werobot-redis": "WeRoBot + Redis session"}
OURS = "our /wechat, encrypted, distinct MsgIds"
REPEAT = "our /wechat, one MsgId repeated (cached answer)"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, redis_db=4)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each measured wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of wrk before each measured run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of every server")
    parser.add_argument("--web-threads", type=int, default=1,
                        help="gunicorn threads per worker of every server (1: sync workers, as the Procfile)")
    parser.add_argument("--users", type=int, default=200, help="distinct openids the messages come from")
    parser.add_argument("--max-rate", type=int, default=8000,
                        help="requests/s the warm-up pool is sized for")
    parser.add_argument("--profile", default=None, metavar="DIR",
                        help="one more run of ours under py-spy (not in the figures); its stacks are kept in DIR")
    parser.add_argument("--only", default="", help="comma-separated: bare, werobot, werobot-redis, ours, repeat")
    parser.add_argument("--rounds", type=int, default=5,
                        help="runs of WeRoBot + Redis and of ours, alternating (the order swapped each round); the "
                             "round of median req/s stands for each, every round is printed")
    return parser.parse_args(argv)


class MessagePool:
    """Encrypted text messages as WeChat posts them, each signed and sealed with its own nonce and timestamp."""

    def __init__(self, config, users, content=CONTENT):
        self.config, self.users, self.content = config, users, content
        self.msg_ids = itertools.count(secrets.randbits(40))

    def openid(self, i):
        return f"o-bench-{i % self.users:05d}"

    def fresh_xml(self, i):
        """Message i: from user i mod users, a MsgId never used before."""
        return message_xml(self.openid(i), "text", time.time(), msg_id=next(self.msg_ids), Content=self.content)

    def raw(self, xml, openid, host):
        """The raw HTTP request of one delivery of `xml` (a new nonce and timestamp each call)."""
        cfg = self.config
        args, body = signed_request(xml, cfg["WECHAT_TOKEN"], cfg["WECHAT_AES_KEY"], cfg["WECHAT_APPID"], openid)
        return wrk.http_request("POST", "/wechat?" + urlencode(args), host, [("Content-Type", "text/xml")], body)

    def write(self, path, host, count, repeat_xml=None):
        """A pool file of `count` deliveries: fresh messages, or `repeat_xml` (user 0's) delivered again each time."""
        if repeat_xml is None:
            raws = (self.raw(self.fresh_xml(i), self.openid(i), host) for i in range(count))
        else:
            raws = (self.raw(repeat_xml, self.openid(0), host) for _ in range(count))
        return wrk.write_pool(path, raws)


def prime(base, pool, session):
    """One message per user (users and sessions exist before the run); returns the first reply's text."""
    first = None
    for i in range(pool.users):
        status, reply = post_to_wechat(session, f"{base}/wechat", pool.fresh_xml(i), pool.config, pool.openid(i))
        if status != 200:
            raise RuntimeError(f"{base}/wechat answered {status} while priming user {i}")
        first = reply if first is None else first
    return first


def measure(base, pool, args, tmp, repeat_xml=None, during=None):
    """wrk on `base`/wechat over fresh deliveries (warm-up first); returns the WrkResult."""
    host = urlsplit(base).netloc
    return wrk.measure(base + "/wechat", lambda path, count: pool.write(path, host, count, repeat_xml), tmp,
                       args.threads, args.connections, args.duration, args.warmup, args.max_rate, during=during)


def profiler(stack, args, name):
    """A py-spy context for our server's measured run when --profile is given, else None."""
    if not args.profile:
        return None
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    out = Path(args.profile) / f"webhook-{name}-{args.database.split(':')[0]}.txt"
    return lambda: profiled(web_pid(stack), args.duration, out)


def run_peer(key, label, target, pool, args, tmp, redis_url):
    """Measure one peer under gunicorn; checks that it answers (WeRoBot: a text reply we decrypt)."""
    cfg = pool.config
    env = peer_env(dict(os.environ), WECHAT_TOKEN=cfg["WECHAT_TOKEN"],
                   WECHAT_AES_KEY=cfg["WECHAT_AES_KEY"], WECHAT_APPID=cfg["WECHAT_APPID"], REDIS_URL=redis_url)
    with gunicorn(target, env, args.workers, Path(tmp) / f"{key}.log", threads=args.web_threads) as base:
        reply = prime(base, pool, requests.Session())
        if key != "bare" and not reply:
            raise RuntimeError(f"{label} gave no text reply we could decrypt")
        return measure(base, pool, args, tmp)


def run_ours(stack, pool, args, tmp, wanted):
    """Our webhook on the stack: fresh messages, then one message delivered again and again."""
    results = {}
    session = requests.Session()
    reply = prime(stack.base_url, pool, session)
    if not reply:
        raise RuntimeError("our /wechat gave no text reply we could decrypt")
    if "ours" in wanted:
        results["ours"] = measure(stack.base_url, pool, args, tmp)
        if args.profile:  # an extra run: the sampling slows the server, so its figures are not reported
            measure(stack.base_url, pool, args, tmp, during=profiler(stack, args, "fresh"))
    if "repeat" in wanted:
        xml = pool.fresh_xml(0)
        status, first = post_to_wechat(session, f"{stack.base_url}/wechat", xml, pool.config, pool.openid(0))
        if status != 200 or not first:
            raise RuntimeError(f"the message to repeat was answered {status} {first!r}")
        results["repeat"] = measure(stack.base_url, pool, args, tmp, repeat_xml=xml)
    return results


def more_rounds(stack, pool, args, tmp, redis_url, results):
    """Rounds 2…N of WeRoBot + Redis against ours, alternating which goes first; `results` then holds each one's
    median round (by req/s). Returns {key: [WrkResult per round]}."""
    pair = [key for key in ("werobot-redis", "ours") if key in results]
    rounds = {key: [results[key]] for key in pair}
    if len(pair) < 2:
        return rounds
    peer = next(p for p in PEERS if p[0] == "werobot-redis")
    for n in range(1, args.rounds):
        for key in (pair if n % 2 == 0 else reversed(pair)):
            rounds[key].append(run_peer(*peer, pool, args, tmp, redis_url) if key == "werobot-redis"
                               else measure(stack.base_url, pool, args, tmp))
    for key, runs in rounds.items():
        results[key] = sorted(runs, key=lambda r: r.rps)[len(runs) // 2]
    return rounds


def report(results, args, figures, rounds=None):
    """Print each server's figures, ours with its ratio to every baseline from this run."""
    labels = {key: label for key, label, _ in PEERS} | {"ours": OURS, "repeat": REPEAT}
    kind = "sync" if args.web_threads == 1 else f"gthread, --threads {args.web_threads}"
    print(f"\nwebhook · {database_label(args.database)} · gunicorn --workers {args.workers} ({kind}) for every server"
          " · "
          f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s · {args.users} users · text {CONTENT!r}")
    print(f"{'server':48} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non-2xx':>8} {'errors':>7} "
          f"{'repeats':>8}")
    for key, result in results.items():
        print(f"{labels[key]:48} {result.rps:8.0f} {result.p50_ms:8.1f} {result.p99_ms:8.1f} {result.max_ms:8.1f} "
              f"{result.non2xx:8d} {result.errors:7d} {result.repeated:8d}")
    baselines = [(k, labels[k], results[k]) for k, _, _ in PEERS if k in results]
    for key, runs in (rounds or {}).items():
        if len(runs) > 1:
            print(f"{labels[key]}, {len(runs)} rounds (median stands above): "
                  + "; ".join(f"{r.rps:,.0f} req/s p99 {r.p99_ms:.0f} ms" for r in runs))
    for key in ("ours", "repeat"):
        if key in results:
            mine = results[key]
            print(f"{labels[key]}: " + ", ".join(f"{ratio(mine.rps, r.rps)} the req/s of {k}" for k, _, r in baselines))
    for key, result in results.items():
        value = result.summary() + (f"; {result.repeated} requests repeated (pool too small)" if result.repeated
                                    and key != "repeat" else "")
        base = "; ".join(f"{SHORT[k]} {r.rps:,.0f} req/s, p99 {r.p99_ms:.0f} ms ({ratio(result.rps, r.rps)})"
                         for k, _, r in baselines if k != key) if key in ("ours", "repeat") else ""
        figures.add(f"webhook: {labels[key]}", value, base)


def main(argv=None):
    args = parse_args(argv)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()} or {k for k, _, _ in PEERS} | {"ours", "repeat"}
    wrk.ensure_wrk()
    ensure_peers()
    load_start = machine_load()
    print(f"start: {load_start}", flush=True)
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    figures = Figures("webhook", args.database, args.figures)
    results = {}
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        try:
            with database(args.database, tmp, args.pg_admin) as url, \
                    Stack(url, redis_url, Path(tmp) / "stack", workers=0, web_workers=args.workers,
                          web_threads=args.web_threads, scheduler=False) as stack:
                pool = MessagePool(stack.config, args.users)
                for key, label, target in PEERS:
                    if key in wanted:
                        results[key] = run_peer(key, label, target, pool, args, tmp, redis_url)
                results.update(run_ours(stack, pool, args, tmp, wanted))
                rounds = more_rounds(stack, pool, args, tmp, redis_url, results)
        finally:
            redis.Redis.from_url(redis_url).flushdb()
    load_end = machine_load()
    report(results, args, figures, rounds)
    print(f"end: {load_end}")
    figures.save(load_start, load_end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
