"""Import throughput and memory: N penalty rows through `models.policy.ingestion.ingest.import_file`, beside the plain
load of the same file, for two file sizes, on PostgreSQL or SQLite.

    .venv/bin/python -m bench.import_bench [--sizes 20000,80000] [--database postgres|sqlite]
    .venv/bin/python -m bench.import_bench --sizes 250000,1000000                  # the big tier

For each size: a fresh database (PostgreSQL: made and dropped; SQLite: a file), one enterprise per ten rows so the
rows pass 核验, a UTF-8 CSV in the departments' format. The import runs in a child process of its own (nothing else
in it), which reports the import's seconds and its peak resident memory (getrusage; the RSS before the import is
printed beside it, so the growth shows whether memory is flat in the file's size). Then a re-import of the same file
(every row unchanged), and the floor: PostgreSQL COPY of the file into a scratch table of text columns, or on SQLite
csv.reader + executemany into one in one transaction (parsing and writing only).
"""

import argparse
import csv
import json
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import (
    DEFAULT_ADMIN,
    ENTERPRISE_FIELDS,
    ROOT,
    CopyWriter,
    DemoData,
    Enterprise,
    Figures,
    InsertWriter,
    admin,
    bind_database,
    database_label,
    db,
    ingest,
    local_today,
    machine_load,
    ratio,
    rss_kb,
    seed,
    upgrade,
)

HEADERS = ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
           "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关", "数据来源单位", "领域", "程序类型"]


def register_enterprises(count, rng, postgres):
    """Write `count` demo enterprises (COPY on PostgreSQL); return [(uscc, name)]."""
    generator = DemoData(rng, local_today())
    writer = CopyWriter() if postgres else InsertWriter()
    with db.atomic():
        writer.write(Enterprise, ENTERPRISE_FIELDS, generator.enterprise_rows(count, 1))
        writer.finish()
    return [(code, name) for _, code, name in generator.codes]


def write_csv(path, rows, enterprises, rng):
    """The departments' CSV with `rows` penalty rows of the market domain."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADERS)
        for n in range(rows):
            code, name = enterprises[n % len(enterprises)]
            out.writerow([name, code, f"黑市监罚〔2025〕{n + 1}号", "虚假宣传", "经查，当事人在网店发布虚假宣传。",
                          "《中华人民共和国反不正当竞争法》第二十条", "罚款", "罚款人民币5000元", "0.5",
                          f"2025-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}", "黑河市市场监督管理局",
                          "黑河市市场监督管理局", "市场监管", "普通程序" if n % 5 else "简易程序"])


def child(url, path):
    """In the child process: import the file once; print seconds, the result and memory as JSON."""
    bind_database(url, pooled=False)
    db.connect()
    before = rss_kb()
    started = time.perf_counter()
    result = ingest.import_file(path, Path(path).name, "penalty", "market", actor="bench")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    db.close()
    print(json.dumps({"seconds": seconds, "summary": result.summary(), "unchanged": result.unchanged,
                      "rss_before_kb": before, "peak_kb": peak}))


def import_in_child(url, path):
    """Run one import in a child process of its own; its JSON report."""
    done = subprocess.run([sys.executable, "-m", "bench.import_bench", "--child", url, str(path)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the import child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def copy_scratch(path):
    """PostgreSQL: COPY the CSV into a scratch table of text columns; (rows, seconds)."""
    started = time.perf_counter()
    cursor = db.connection().cursor()
    cursor.execute(f"CREATE TABLE bench_scratch ({', '.join(f'c{i} text' for i in range(len(HEADERS)))})")
    with open(path, encoding="utf-8") as handle:
        cursor.copy_expert("COPY bench_scratch FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
    db.commit()
    seconds = time.perf_counter() - started
    cursor.execute("SELECT count(*) FROM bench_scratch")
    return cursor.fetchone()[0], seconds


def executemany_scratch(sqlite_path, path):
    """SQLite: csv.reader + executemany into a scratch table of text columns, one transaction; (rows, seconds)."""
    started = time.perf_counter()
    conn = sqlite3.connect(sqlite_path)
    with conn, open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        conn.execute(f"CREATE TABLE bench_scratch ({', '.join(f'c{i} text' for i in range(len(HEADERS)))})")
        conn.executemany(f"INSERT INTO bench_scratch VALUES ({', '.join('?' * len(HEADERS))})", reader)
    seconds = time.perf_counter() - started
    count = conn.execute("SELECT count(*) FROM bench_scratch").fetchone()[0]
    conn.close()
    return count, seconds


def run_size(rows, args, tmp):
    """One size in a fresh database: (csv MB, first import, re-import, (floor rows, floor seconds))."""
    postgres = args.database == "postgres"
    name = f"hegui_ibench_{uuid.uuid4().hex[:8]}"
    sqlite_path = Path(tmp) / f"import-{rows}.db"
    url = args.pg_admin.rsplit("/", 1)[0] + "/" + name if postgres else f"sqlite:///{sqlite_path}"
    if postgres:
        admin(args.pg_admin, f'CREATE DATABASE "{name}"')
    try:
        bind_database(url, pooled=False)
        db.connect()
        upgrade()
        seed()
        rng = random.Random(1)
        enterprises = register_enterprises(max(1, rows // 10), rng, postgres)
        path = Path(tmp) / f"records-{rows}.csv"
        write_csv(path, rows, enterprises, rng)
        db.close()
        first = import_in_child(url, path)
        again = import_in_child(url, path)
        if postgres:
            db.connect()
            floor = copy_scratch(path)
        else:
            floor = executemany_scratch(sqlite_path, path)
        return path.stat().st_size / 1e6, first, again, floor
    finally:
        if not db.is_closed():
            db.close()
        if postgres:
            admin(args.pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(rows, size_mb, first, again, floor, args, figures):
    """Print one size's rows: seconds, rows/s, memory; the floor beside them."""
    floor_rows, floor_seconds = floor
    floor_label = "COPY into a scratch table" if args.database == "postgres" else "executemany into a scratch table"
    print(f"\n{rows:,} penalty rows, CSV {size_mb:.1f} MB, {database_label(args.database)} · {machine_load()}")
    print(f"{'path':<64}{'seconds':>10}{'rows/s':>12}{'RSS before MB':>15}{'peak MB':>10}")
    for label, part in ((f"import_file, first load ({first['summary']})", first),
                        (f"import_file, re-import (unchanged {again['unchanged']})", again)):
        print(f"{label:<64}{part['seconds']:>10.1f}{rows / part['seconds']:>12,.0f}"
              f"{part['rss_before_kb'] / 1024:>15.0f}{part['peak_kb'] / 1024:>10.0f}")
    print(f"{f'{floor_label} ({floor_rows} rows)':<64}{floor_seconds:>10.1f}{rows / floor_seconds:>12,.0f}")
    base = f"{floor_label}: {rows / floor_seconds:,.0f} rows/s ({floor_seconds:.1f} s)"
    for label, part in (("first load", first), ("re-import", again)):
        rate = rows / part["seconds"]
        figures.add(f"import: {rows:,} rows, {label}",
                    f"{rate:,.0f} rows/s ({part['seconds']:.1f} s, {ratio(rate, rows / floor_seconds)}); "
                    f"peak RSS {part['peak_kb'] / 1024:.0f} MB (before {part['rss_before_kb'] / 1024:.0f} MB)", base)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", "--rows", dest="sizes", default="20000,80000", help="row counts, comma-separated")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN, help="URL of a database where CREATE DATABASE may run")
    parser.add_argument("--figures", default=None, help="also write the figures as JSON here (bench.run reads it)")
    parser.add_argument("--child", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that `finally` drops the database
    load_start = machine_load()
    print(f"start: {load_start}")
    figures = Figures("import", args.database, args.figures)
    peaks = []
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        for rows in (int(s) for s in args.sizes.split(",")):
            size_mb, first, again, floor = run_size(rows, args, tmp)
            report(rows, size_mb, first, again, floor, args, figures)
            peaks.append((rows, first["peak_kb"] - first["rss_before_kb"]))
    if len(peaks) > 1:
        (small, grow_small), (big, grow_big) = peaks[0], peaks[-1]
        print(f"memory growth during the first load: {grow_small / 1024:.0f} MB at {small:,} rows, "
              f"{grow_big / 1024:.0f} MB at {big:,} rows ({big / small:.0f}× the rows, "
              f"{ratio(grow_big, grow_small)} the growth)")
        figures.add(f"import: memory growth of the first load, {small:,} → {big:,} rows",
                    f"{grow_small / 1024:.0f} MB → {grow_big / 1024:.0f} MB ({ratio(grow_big, grow_small)})",
                    "flat: about 1×")
    load_end = machine_load()
    print(f"end: {load_end}")
    figures.save(load_start, load_end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
