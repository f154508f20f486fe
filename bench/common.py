"""Helpers shared by the HTTP benches: a free loopback port and gunicorn started on it."""

import socket
import subprocess
import sys
import time

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
