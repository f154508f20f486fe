"""POST /wechat under concurrent load, served by gunicorn, beside a bare Flask endpoint served the same way.

    .venv/bin/python -m bench.webhook_bench [--requests 2000] [--concurrency 16] [--workers 4] [--database sqlite|URL]

Starts gunicorn twice on free loopback ports (the app, then a bare Flask app), drives each with a thread pool of
`requests` sessions over pre-built, pre-signed bodies (distinct MsgIds, 50 users), and prints requests/s and latency
percentiles. Redis: database BENCH_REDIS_DB (default 12), flushed before and after. Needs no WeChat double: the
webhook makes no outbound call.
"""

import argparse
import hashlib
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import xmltodict
from flask import Flask, Response, request
from wechatpy.crypto import WeChatCrypto

from bench.common import add_http_options, flush_redis, prepared_env, start_gunicorn
from config import DEV_WECHAT_APPID, DEV_WECHAT_TOKEN

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
USERS = 50


def bare_app():
    """The baseline: a Flask endpoint that reads the body and answers `success`."""
    app = Flask("bare")

    @app.post("/wechat")
    def wechat():
        request.get_data()
        return Response("success", mimetype="text/plain")

    return app


def signed_args(timestamp, nonce):
    signature = hashlib.sha1("".join(sorted([DEV_WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"timestamp": timestamp, "nonce": nonce, "signature": signature}


def text_body(i, content, msg_id):
    return xmltodict.unparse({"xml": {"ToUserName": "gh_bench", "FromUserName": f"o_bench_{i % USERS}",
                                      "CreateTime": str(int(time.time())), "MsgType": "text",
                                      "Content": content, "MsgId": str(msg_id)}})


def build_requests(kind, count, run_id):
    """(query args, body bytes) pairs for one scenario, signed (and encrypted) ahead of the timing."""
    crypto = WeChatCrypto(DEV_WECHAT_TOKEN, AES_KEY, DEV_WECHAT_APPID)
    prepared = []
    for i in range(count):
        msg_id = 9_000_000_000 + run_id * 10_000_000 + i if kind != "repeat" else 8_000_000_000 + run_id
        content = "帮助" if kind in ("help", "repeat", "encrypted") else f"你好，第{i}条"
        xml = text_body(i if kind != "repeat" else 0, content, msg_id)
        timestamp, nonce = str(int(time.time())), str(100000 + i)
        if kind == "encrypted":
            envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            args = {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes",
                    "msg_signature": envelope["MsgSignature"]}
            xml = xmltodict.unparse({"xml": {"ToUserName": "gh_bench", "Encrypt": envelope["Encrypt"]}})
        else:
            args = signed_args(timestamp, nonce)
        prepared.append((args, xml.encode()))
    return prepared


def drive(base, prepared, concurrency):
    """Send every prepared request with `concurrency` threads; (seconds, latencies, errors)."""
    local = threading.local()

    def one(item):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        session = local.session
        started = time.perf_counter()
        response = session.post(base + "/wechat", params=item[0], data=item[1],
                                headers={"Content-Type": "text/xml"}, timeout=30)
        return time.perf_counter() - started, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, prepared))
    elapsed = time.perf_counter() - started
    return elapsed, sorted(r[0] for r in results), sum(1 for r in results if r[1] != 200)


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_http_options(parser, 2000, 12)
    args = parser.parse_args()
    flush_redis(args)
    with tempfile.TemporaryDirectory() as tmp:
        env = prepared_env(args, tmp, WECHAT_AES_KEY=AES_KEY, WECHAT_ACCEPT_PLAINTEXT="1")  # both kinds measured
        rows = []
        bare, bare_base = start_gunicorn("bench.webhook_bench:bare_app()", env, args.workers)
        try:
            rows.append(("bare Flask endpoint", *drive(bare_base, build_requests("plain", args.requests, 0),
                                                       args.concurrency)))
        finally:
            bare.terminate()
            bare.wait()
        proc, base = start_gunicorn("app:create_app()", env, args.workers)
        try:
            for run_id, (label, kind) in enumerate([("POST /wechat plaintext, distinct MsgIds", "plain"),
                                                    ("POST /wechat plaintext 帮助", "help"),
                                                    ("POST /wechat encrypted 帮助", "encrypted"),
                                                    ("POST /wechat same MsgId (retries)", "repeat")], start=1):
                rows.append((label, *drive(base, build_requests(kind, args.requests, run_id), args.concurrency)))
        finally:
            proc.terminate()
            proc.wait()
    flush_redis(args)
    print(f"\n{args.requests} requests per row, {args.concurrency} client threads, gunicorn {args.workers} sync "
          f"workers, database {args.database}, {os.cpu_count()} CPUs")
    print(f"{'scenario':44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for label, elapsed, lat, errors in rows:
        print(f"{label:44} {len(lat) / elapsed:8.0f} {percentile(lat, 50) * 1000:8.1f} "
              f"{percentile(lat, 99) * 1000:8.1f} {lat[-1] * 1000:8.1f} {errors:7d}")


if __name__ == "__main__":
    main()
