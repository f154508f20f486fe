"""wrk, the load generator of the HTTP benches: pools of pre-built raw requests, one run, its output parsed.

The benches build every request (signed, encrypted) before the clock starts and write them to a pool file that
`bench/pool.lua` cycles through inside wrk, so the client costs a table lookup per request and the server, not the
load generator, is what is measured. No product code here.
"""

import contextlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
LUA = BENCH_DIR / "pool.lua"
SETUP = BENCH_DIR / "setup.sh"
BENCH_LINE = re.compile(r"^BENCH (?P<fields>.+)$", re.M)
REQUESTS_PER_SEC = re.compile(r"^Requests/sec:\s+(?P<value>[\d.]+)", re.M)
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(?P<value>\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkError(RuntimeError):
    """wrk failed, or printed no result line."""


def http_request(method, target, host, headers=(), body=b""):
    """One raw HTTP/1.1 request: `target` is the path with its query; `headers` (name, value) pairs."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def write_pool(path, requests):
    """Write raw requests as `<length>\\n<bytes>` records (the format pool.lua reads); return how many."""
    count = 0
    with open(path, "wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)
            count += 1
    if not count:
        raise ValueError("an empty request pool")
    return count


def read_pool(path):
    """The raw requests of a pool file, in order (the inverse of write_pool)."""
    data, pos, out = Path(path).read_bytes(), 0, []
    while pos < len(data):
        newline = data.index(b"\n", pos)
        length = int(data[pos:newline])
        out.append(data[newline + 1:newline + 1 + length])
        pos = newline + 1 + length
    return out


def thread_slices(requests, threads):
    """Which requests each wrk thread sends, as pool.lua splits them (thread k: k, k+threads, …)."""
    return [requests[k::threads] for k in range(threads)]


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: completed requests, latency (ms), every kind of failure, and how often the pool was reused."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    statuses: dict = field(default_factory=dict)
    connect_errors: int = 0
    read_errors: int = 0
    write_errors: int = 0
    timeouts: int = 0
    sent: int = 0
    pool: int = 0
    repeated: int = 0

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self):
        """Non-2xx answers plus socket errors and timeouts: the count whose target is 0."""
        return self.non2xx + self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    def summary(self):
        """`1,234 req/s, p50 12.3 ms, p99 45.6 ms, errors 0` (with what the errors were)."""
        text = f"{self.rps:,.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, errors {self.errors}"
        details = [f"HTTP {code}×{n}" for code, n in sorted(self.statuses.items())]
        details += [f"{name} {n}" for name, n in (("connect", self.connect_errors), ("read", self.read_errors),
                                                   ("write", self.write_errors), ("timeout", self.timeouts)) if n]
        return text + (f" ({', '.join(details)})" if details else "")


def parse(output):
    """The WrkResult of wrk's output with pool.lua's BENCH line; WrkError when it is missing."""
    match = BENCH_LINE.search(output)
    if not match:
        raise WrkError(f"no BENCH line in wrk's output:\n{output[-2000:]}")
    values = dict(part.split("=", 1) for part in match["fields"].split())
    statuses = {}
    if values["statuses"] != "-":
        statuses = {int(code): int(n) for code, n in (item.split(":") for item in values["statuses"].split(","))}
    result = WrkResult(
        requests=int(values["requests"]), seconds=int(values["duration_us"]) / 1e6,
        p50_ms=int(values["p50_us"]) / 1000, p90_ms=int(values["p90_us"]) / 1000,
        p99_ms=int(values["p99_us"]) / 1000, max_ms=int(values["max_us"]) / 1000,
        non2xx=int(values["non2xx"]), statuses=statuses, connect_errors=int(values["connect"]),
        read_errors=int(values["read"]), write_errors=int(values["write"]), timeouts=int(values["timeout"]),
        sent=int(values["sent"]), pool=int(values["pool"]), repeated=int(values["repeated"]),
    )
    _cross_check(output, result)
    return result


def _cross_check(output, result):
    """wrk's own summary must agree with the script's counts (statuses ≥ 400 are a subset of non-2xx)."""
    own = WRK_NON2XX.search(output)
    if own and int(own["value"]) > result.non2xx:
        raise WrkError(f"wrk counted {own['value']} failed statuses, the script {result.non2xx}")
    socket = WRK_SOCKET.search(output)
    if socket and [int(n) for n in socket.groups()] != [result.connect_errors, result.read_errors,
                                                         result.write_errors, result.timeouts]:
        raise WrkError("wrk's socket error line disagrees with the script's summary")


def ensure_wrk():
    """The path of wrk, installing it (and the peers' environment) with bench/setup.sh when it is missing."""
    if shutil.which("wrk") is None:
        subprocess.run(["bash", str(SETUP)], check=True)
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk is not installed and bench/setup.sh could not install it")
    return path


def run(url, pool_path, threads=2, connections=64, duration=10.0, timeout=10.0):
    """One wrk run against `url` cycling through the pool; returns its WrkResult."""
    argv = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", f"--timeout={timeout:g}s",
            "--latency", "-s", str(LUA), url, "--", str(pool_path), str(threads)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + timeout + 120, check=False)
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return parse(done.stdout)


def measure(url, write, workdir, threads=2, connections=64, duration=10.0, warmup=2.0, max_rate=8000,
            max_pool=400_000, during=None):
    """A warm-up run, then the measured one, each over a pool `write(path, count)` builds right before it.

    The measured pool holds twice what the warm-up's rate would send in the run (max_rate × duration without a
    warm-up), so that no request need go twice; pool.lua counts any that did (WrkResult.repeated). `during`, when
    given, is a context manager factory wrapped around the measured run only (a profiler)."""
    rate = max_rate
    if warmup > 0:
        warm = Path(workdir) / "warmup.pool"
        write(warm, max(200, int(max_rate * warmup)))
        rate = 2 * run(url, warm, threads, connections, warmup).rps
    path = Path(workdir) / "run.pool"
    write(path, min(max_pool, max(1000, int(rate * duration))))
    with during() if during else contextlib.nullcontext():
        return run(url, path, threads, connections, duration)
