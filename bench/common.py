"""Helpers shared by the HTTP benches: their options, the app's environment, a free port, gunicorn on it."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
import requests

from config import ROOT

START_SECONDS = 60


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target, env, workers):
    """gunicorn serving `target` on a free port; returns (process, base URL) once it answers /healthz (any status)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning", target],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/healthz", timeout=5)
            return proc, base
        except requests.RequestException:
            time.sleep(0.1)
    proc.terminate()
    proc.wait()
    raise RuntimeError(f"gunicorn {target} did not start")


def add_http_options(parser, requests_default, redis_db_default):
    """The options every HTTP bench takes."""
    parser.add_argument("--requests", type=int, default=requests_default)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL URL (created beforehand)")
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", str(redis_db_default))))


def flush_redis(args):
    """Empty the bench's Redis database (before and after a run)."""
    redis.Redis.from_url(f"redis://127.0.0.1:6379/{args.redis_db}").flushdb()


def prepared_env(args, tmp, **extra):
    """The environment of the served app (no WeChat or SMS settings of the caller's), its schema created."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "SMS_"))}
    database = args.database if args.database != "sqlite" else f"sqlite:///{Path(tmp) / 'bench.db'}"
    env.update(DATABASE_URL=database, REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}", RQ_QUEUE="bench",
               PYTHONPATH=str(ROOT), FLASK_APP="app", HEGUI_ENV="development", **extra)
    subprocess.run([sys.executable, "-m", "flask", "init-db"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return env
