"""What the benches share: the product imports (all of them, here only), servers under gunicorn, databases, the
machine's load, and the figures a bench hands to `bench.run`.

Every import of the product's own modules anywhere in bench/ is in the block below, so that moving a module means
fixing one path here. The HTTP benches use the product through HTTP, the flask CLI and `devtools.stack` instead.
"""

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests

# -- the product (and its devtools) ------------------------------------------------------------------------------
from app import create_app  # noqa: F401
from bot.codec import message_xml, signed_request  # noqa: F401
from bot.codec import reply_text as read_reply  # noqa: F401  (the text of a passive reply)
from bot.flows.binding import usable_mobile  # noqa: F401
from commands.demo import ENTERPRISE_FIELDS, CopyWriter, DemoData, InsertWriter  # noqa: F401
from config import ROOT
from devtools.pg import admin  # noqa: F401
from devtools.stack import Stack, StackError, postgres_database, wait_until  # noqa: F401
from devtools.wechat_double import start_wechat_double  # noqa: F401
from jobs import pipeline  # noqa: F401
from models.base import bind_database, db, local_today, utcnow  # noqa: F401
from models.policy.ingestion import ingest  # noqa: F401
from models.policy.report import feeds, pades, rules, signing, sm2, snapshot, summary  # noqa: F401
from models.policy.report.pdf import (  # noqa: F401
    WKHTMLTOPDF_OPTIONS,
    PageStamp,
    html_to_pdf,
    render_report_html,
    seal_box,
    stamp_pages,
    wkhtmltopdf,
)
from models.policy.report.qr import qr_png  # noqa: F401
from models.policy.report.snapshot import freeze  # noqa: F401
from models.policy.uscc import make_uscc  # noqa: F401
from models.tables.accounts import Binding, WechatUser  # noqa: F401
from models.tables.outbound import OutboundMessage  # noqa: F401
from models.tables.records import PenaltyRecord  # noqa: F401
from models.tables.registry import PENALTY, SOCIAL_ARREARS, Department, Domain, Enterprise  # noqa: F401
from models.tables.reports import Report  # noqa: F401
from models.tables.requests import ReportRequest  # noqa: F401
from models.tables.schema import seed, upgrade  # noqa: F401
from webhooks.simulator import post_to_wechat  # noqa: F401

# ---------------------------------------------------------------------------------------------------------------

BENCH_DIR = Path(__file__).resolve().parent
PEERS_VENV = BENCH_DIR / ".venv-peers"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"
PRODUCT_BIN = Path(sys.executable).parent
DEFAULT_ADMIN = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
START_SECONDS = 60
STOP_SECONDS = 10
VIEW_TABLE = "view_log"
WRAPPER_SHARE = 0.9  # frames on nearly every sample (gunicorn, Flask dispatch) say nothing in a profile


def ensure_peers():
    """The peers' Python (bench/.venv-peers), made by bench/setup.sh when missing."""
    if not PEERS_PYTHON.exists() or not (PEERS_VENV / ".requirements.sha").exists():
        subprocess.run(["bash", str(BENCH_DIR / "setup.sh")], check=True)
    return PEERS_PYTHON


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_argv(python, target, port, workers, threads=1):
    """The gunicorn command line every served app gets (as the Procfile: --timeout 30; sync workers, or gthread
    ones with `threads` > 1, as devtools.stack starts ours)."""
    return [str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--threads", str(threads), "--timeout", "30", target]


@contextlib.contextmanager
def gunicorn(target, env, workers, log_path, python=None, threads=1):
    """gunicorn serving `target` (in the peers' environment unless `python`); yields its base URL once it answers."""
    port = free_port()
    with open(log_path, "ab") as log:
        argv = gunicorn_argv(python or ensure_peers(), target, port, workers, threads)
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(base, proc, log_path)
        yield base
    finally:
        stop_group(proc)


def _wait_http(base, proc, log_path):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{Path(log_path).read_text()[-2000:]}")
        try:
            requests.get(base + "/healthz", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn at {base} did not answer within {START_SECONDS} s")


def stop_group(proc):
    """SIGTERM the process group `proc` leads, SIGKILL after STOP_SECONDS."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peer_env(base_env, **settings):
    """The environment of a peer process: the caller's, less the product's settings, plus BENCH_* settings."""
    env = {k: v for k, v in base_env.items() if not k.startswith(("WECHAT_", "DATABASE_", "SIGNING_", "SMS_"))}
    env.update({f"BENCH_{k}": str(v) for k, v in settings.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


@contextlib.contextmanager
def database(kind, tmp, admin_url=DEFAULT_ADMIN):
    """A database URL for one run: `sqlite` (a file in `tmp`), `postgres` (created here and dropped), or a URL."""
    if kind == "postgres":
        with postgres_database(admin_url) as url:
            yield url
    elif kind == "sqlite":
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"
    else:
        yield kind


def sql_rows(database_url, sql):
    """The rows of raw SQL on `database_url` (sqlite:/// or postgresql://), without the product's models."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            return conn.execute(sql).fetchall()
    with contextlib.closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def sql_scalar(database_url, sql):
    """The first value of raw SQL's first row."""
    return sql_rows(database_url, sql)[0][0]


def database_label(kind):
    return "PostgreSQL" if kind == "postgres" or kind.startswith("postgres") else "SQLite"


def machine_load():
    """`loadavg 1.02 0.88 0.61, 2 cores` now."""
    one, five, fifteen = os.getloadavg()
    return f"loadavg {one:.2f} {five:.2f} {fifteen:.2f}, {os.cpu_count()} cores"


def add_common_options(parser, redis_db=4):
    """--database, --pg-admin, --redis-db and --figures, which every bench takes."""
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a database made and dropped), or a URL")
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN, help="where CREATE DATABASE may run")
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", str(redis_db))))
    parser.add_argument("--figures", default=None, help="also write the figures as JSON here (bench.run reads it)")


class Figures:
    """The figures of one bench run, each with its baseline from the same run; saved as JSON for bench.run."""

    def __init__(self, bench, database_kind, path=None):
        self.bench, self.database, self.path = bench, database_label(database_kind), path
        self.rows = []

    def add(self, figure, value, baseline=""):
        self.rows.append({"bench": self.bench, "database": self.database, "figure": figure, "value": value,
                          "baseline": baseline})

    def save(self, load_start, load_end):
        if self.path:
            Path(self.path).write_text(json.dumps({"figures": self.rows, "load_start": load_start,
                                                   "load_end": load_end}, ensure_ascii=False, indent=1))


def ratio(value, base):
    """`0.42×` (or `n/a` without a baseline)."""
    return f"{value / base:.2f}×" if base else "n/a"


@contextlib.contextmanager
def captured_sql():
    """Every (sql, params) the bound database executes inside the block, by wrapping its execute_sql."""
    database, statements = db.obj, []
    original = database.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        statements.append((sql, tuple(params or ())))
        return original(sql, params, *args, **kwargs)

    database.execute_sql = recording
    try:
        yield statements
    finally:
        del database.execute_sql


def rss_kb(pid="self"):
    """Resident memory of a process now (kB), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def process_tree(pid):
    """`pid` and all its descendants (from /proc/*/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@contextlib.contextmanager
def profiled(pid, seconds, out_path, top=25):
    """py-spy (from the peers' environment) samples `pid` and its children for `seconds` inside the block; then the
    functions of the repository with the largest share of the samples (inclusive) are printed and the raw
    collapsed stacks kept at `out_path` (a flamegraph tool reads them)."""
    spy = PEERS_VENV / "bin" / "py-spy"
    proc = subprocess.Popen([str(spy), "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate",
                             "200", "--duration", str(int(seconds)), "--nonblocking", "-o", str(out_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield
    finally:
        _, err = proc.communicate(timeout=seconds + 60)
    if proc.returncode != 0 or not Path(out_path).exists():
        print(f"py-spy failed ({proc.returncode}): {err[-500:]}")
        return
    print(f"\nprofile of pid {pid} (py-spy, {seconds:g} s; raw stacks in {out_path}): share of samples, inclusive")
    for share, frame in profile_summary(Path(out_path).read_text(), top):
        print(f"  {share:6.1%}  {frame}")


def profile_summary(collapsed, top=25):
    """[(share, 'function (path)')] of py-spy's collapsed stacks: each frame counted once per stack it is on."""
    totals, samples = {}, 0
    root = str(ROOT) + "/"
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples += int(count)
        seen = set()
        for frame in stack.split(";"):
            name = re.sub(r":\d+\)$", ")", frame.strip())
            if name not in seen:
                seen.add(name)
                totals[name] = totals.get(name, 0) + int(count)
    named = [(n / samples, re.sub(r"\S*/site-packages/", "", f.replace(root, ""))) for f, n in totals.items()
             if not f.startswith("process ") and n / samples < WRAPPER_SHARE]
    return sorted(named, reverse=True)[:top] if samples else []


def web_pid(stack):
    """The gunicorn master's pid of a devtools Stack."""
    return next(proc.pid for name, proc, _log in stack.procs if name == "web")
