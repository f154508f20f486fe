"""Run every bench in `bench/` and print each figure beside its baseline in one table.

    .venv/bin/python -m bench.run                # quick sizes (a few minutes)
    .venv/bin/python -m bench.run --full         # each bench's big tier (long)
    .venv/bin/python -m bench.run --only webhook,load_owners

Each bench runs as its own subprocess with its own arguments (they are not rewritten here); its figures are read
back from its printed table. A bench's baseline is the row it measures for comparison in the same run (a bare Flask
app, bare wkhtmltopdf, PostgreSQL COPY); the load driver's lost and duplicate counts have the target 0.
"""

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass

from config import ROOT

NUMBERS = re.compile(r"^(?P<label>\S.*?)\s+(?P<nums>(?:-?[\d,]+(?:\.\d+)?\s+)+-?[\d,]+(?:\.\d+)?)$")
COLUMNS = re.compile(r"p\d\d ms|max ms|req/s|rows/s|seconds|bytes|errors")
SHOWN = ("req/s", "p50 ms", "p99 ms", "rows/s", "seconds")
TIMEOUT = 3600


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    quick: tuple
    full: tuple
    baseline: str | None  # the label (start) of the baseline row


BENCHES = [
    Bench("webhook", "bench.webhook_bench", ("--requests", "400"), (), "bare"),
    Bench("verify", "bench.verify_bench", ("--requests", "400"), (), "bare"),
    Bench("report", "bench.report_bench", ("--latency-runs", "3", "--reports", "10", "--workers", "1,2"), (),
          "bare wkhtmltopdf"),
    Bench("import", "bench.import_bench", ("--rows", "20000"), ("--rows", "1000000"), "COPY"),
    Bench("query", "bench.query_bench", ("--tiers", "10000", "--samples", "100"),
          ("--tiers", "10000,1000000,10000000"), "lookup"),
    Bench("load_owners", "bench.load_owners", ("--owners", "50"), ("--owners", "200"), None),
]
ZERO_TARGET = ("lost", "duplicate", "more than one")


def parse(output, baseline):
    """[(figure, value, baseline value)] from a bench's printed lines."""
    figures, columns, base_row, pending = [], [], None, []
    for line in output.splitlines():
        text = line.rstrip()
        if COLUMNS.search(text) and not NUMBERS.match(text):
            columns = COLUMNS.findall(text)
            continue
        summary = re.match(r"^(?P<label>[^:]+):\s+(?P<value>median .*)$", text)
        if summary:
            pending.append((summary["label"].strip(), " ".join(summary["value"].split()), None))
            continue
        rate = re.match(r"^(\d+) worker\(s\):\s+([\d.]+ reports/min)", text)
        if rate:
            figures.append((f"{rate[1]} RQ worker(s)", rate[2], "—"))
            continue
        pair = re.split(r"\s{2,}", text.strip())
        if len(pair) == 2 and not columns and re.search(r"\d", pair[1]):
            target = "0" if any(word in pair[0] for word in ZERO_TARGET) else "—"
            figures.append((pair[0], pair[1], target))
            continue
        row = NUMBERS.match(text)
        if row and columns:
            values = dict(zip(columns, row["nums"].split(), strict=False))
            if baseline and row["label"].startswith(baseline):
                base_row = values  # a bench with tiers prints each tier's baseline before that tier's figures
            pending.append((row["label"], values, base_row))
    base_summary = next((v for label, v, _ in pending if baseline and label.startswith(baseline)), None)
    for label, values, row_base in pending:
        if baseline and label.startswith(baseline):
            continue
        if isinstance(values, str):
            figures.append((label, values, base_summary or "—"))
            continue
        for column in SHOWN:
            if column in values:
                row_base = row_base or base_row  # a baseline printed after the figures serves them all
                base = f"{row_base[column]} {column}" if row_base and column in row_base else "—"
                figures.append((f"{label} [{column}]", f"{values[column]} {column}", base))
    return figures


def run_bench(bench, full, extra):
    """Run one bench; return (exit status, output, seconds)."""
    argv = [sys.executable, "-m", bench.module, *(bench.full if full else bench.quick), *extra]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        return 124, f"timed out after {TIMEOUT} s\n{exc.stdout or ''}", time.monotonic() - started
    return done.returncode, done.stdout + ("\n" + done.stderr if done.returncode else ""), time.monotonic() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the big tiers (1 M import rows, 200 owners …)")
    parser.add_argument("--only", default="", help="comma-separated bench names: " +
                        ", ".join(b.name for b in BENCHES))
    parser.add_argument("--show-output", action="store_true", help="print each bench's own output too")
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown bench: {', '.join(sorted(unknown))}")
    rows, failed = [], []
    for bench in BENCHES:
        if wanted and bench.name not in wanted:
            continue
        print(f"running {bench.name} …", file=sys.stderr, flush=True)
        status, output, seconds = run_bench(bench, args.full, [])
        if args.show_output:
            print(output)
        if status != 0:
            failed.append(bench.name)
            rows.append((bench.name, f"FAILED (exit {status}, {seconds:.0f} s)", output.strip()[-300:], ""))
            continue
        for figure, value, base in parse(output, bench.baseline):
            rows.append((bench.name, figure, value, base))
    print_table(rows)
    return 1 if failed else 0


def print_table(rows):
    """One table: bench, figure, value, baseline."""
    width = max([len(r[1]) for r in rows] + [10])
    print(f"\n{'bench':12} {'figure':{width}}  {'value':>22}  baseline")
    for name, figure, value, base in rows:
        print(f"{name:12} {figure:{width}}  {value:>22}  {base}")


if __name__ == "__main__":
    sys.exit(main())
