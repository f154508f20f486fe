"""Import throughput and memory: N penalty rows through `models.policy.ingestion.ingest.import_file`, beside `COPY` of
the same file in the same run, on PostgreSQL or SQLite.

    .venv/bin/python -m bench.import_bench [--sizes 20000,100000] [--database postgres|sqlite]
    .venv/bin/python -m bench.import_bench --million          # and 1,000,000 rows (opt-in: about 5 GB of free disk)

For each size: a fresh database (PostgreSQL: made and dropped; SQLite: a file), one enterprise per ten rows so the
rows pass 核验, a UTF-8 CSV in the departments' format (one row in five marked 简易程序 with a fine §51 does not
allow: held, as a real file's would be). The import runs in a child process of its own (nothing else in it), which
reports the import's seconds and its peak resident memory (getrusage; the RSS before the import is printed beside
it, so the growth shows whether memory is flat in the file's size). Then a re-import of the same file (every row
unchanged). The baselines, measured after the imports in the same database: PostgreSQL `COPY` of the file into a
scratch table of text columns (the target is ≥ 0.3× its rows/s), and the same rows `INSERT … SELECT` from there into
a table `LIKE penalty_record INCLUDING ALL` (its indexes and defaults, no foreign keys, no audit rows: the database's
own floor for writing these rows); on SQLite csv.reader + executemany into a scratch table in one transaction.

Disk: the CSV is about 350 bytes a row, the loaded database about 2.5 KB a row (the records, their indexes, the audit
rows), so 1 M rows need about 5 GB free (CSV, database, WAL, the baselines' tables); the bench prints the sizes.
"""

import argparse
import csv
import json
import os
import random
import resource
import shutil
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
    Department,
    Domain,
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


def own_cpu():
    """CPU seconds of this process so far (every thread, user and system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu():
    """CPU seconds of this connection's PostgreSQL backend so far (the server is on this machine), 0 on SQLite."""
    if not url_is_postgres():
        return 0.0
    pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def url_is_postgres():
    return not db.obj.__class__.__name__.startswith("Sqlite")


def child(url, path):
    """In the child process: import the file once; print seconds, CPU seconds (this process and the database
    backend: less at the mercy of a shared machine's load than the wall clock), the result and memory as JSON."""
    bind_database(url, pooled=False)
    db.connect()
    before = rss_kb()
    cpu, server = own_cpu(), backend_cpu()
    started = time.perf_counter()
    result = ingest.import_file(path, Path(path).name, "penalty", "market", actor="bench")
    seconds = time.perf_counter() - started
    cpu, server = own_cpu() - cpu, backend_cpu() - server
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    db.close()
    print(json.dumps({"seconds": seconds, "summary": result.summary(), "unchanged": result.unchanged,
                      "rss_before_kb": before, "peak_kb": peak, "cpu": cpu, "server_cpu": server}))


def import_in_child(url, path):
    """Run one import in a child process of its own; its JSON report."""
    done = subprocess.run([sys.executable, "-m", "bench.import_bench", "--child", url, str(path)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the import child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def copy_scratch(path):
    """PostgreSQL: COPY the CSV into a scratch table of text columns; (rows, seconds)."""
    cpu, server = own_cpu(), backend_cpu()
    started = time.perf_counter()
    cursor = db.connection().cursor()
    cursor.execute(f"CREATE TABLE bench_scratch ({', '.join(f'c{i} text' for i in range(len(HEADERS)))})")
    with open(path, encoding="utf-8") as handle:
        cursor.copy_expert("COPY bench_scratch FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
    db.commit()
    seconds = time.perf_counter() - started
    cpu, server = own_cpu() - cpu, backend_cpu() - server
    cursor.execute("SELECT count(*) FROM bench_scratch")
    return cursor.fetchone()[0], seconds, cpu + server


def indexed_floor():
    """PostgreSQL: the scratch table's rows INSERT … SELECT into a table LIKE penalty_record INCLUDING ALL; seconds."""
    domain = Domain.get(Domain.code == "market").id
    department = Department.get(Department.code == "market").id
    started = time.perf_counter()
    cursor = db.connection().cursor()
    cursor.execute("CREATE TABLE bench_indexed (LIKE penalty_record INCLUDING ALL)")
    cursor.execute(
        "INSERT INTO bench_indexed (subject_name, uscc, decision_no, decision_key, violation_type, facts, basis, "
        "category, content, fine_wan, decided_on, authority, authority_key, source_unit, domain_id, procedure, "
        "department_id, status, review, created_at, updated_at, subject_class, licence, authority_code, "
        "source_unit_code, remark) "
        "SELECT c0, c1, c2, c2, c3, c4, c5, c6, c7, c8::numeric, c9::date, c10, c10, c11, %s, c13, %s, 'active', "
        "'verified', now(), now(), '', '', '', '', '' FROM bench_scratch", (domain, department))
    db.commit()
    return time.perf_counter() - started


def database_mb(url, sqlite_path):
    """The database's size on disk (MB)."""
    if url.startswith("sqlite"):
        return sqlite_path.stat().st_size / 1e6
    cursor = db.connection().cursor()
    cursor.execute("SELECT pg_database_size(current_database())")
    return cursor.fetchone()[0] / 1e6


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
    return count, seconds, None


def run_size(rows, args, tmp):
    """One size in a fresh database: a dict of the CSV's and database's sizes, the two imports and the baselines."""
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
        out = {"csv_mb": path.stat().st_size / 1e6, "first": import_in_child(url, path),
               "again": import_in_child(url, path)}
        db.connect()
        out["database_mb"] = database_mb(url, sqlite_path)
        if postgres:
            out["floor"] = copy_scratch(path)
            out["indexed"] = indexed_floor()
        else:
            db.close()
            out["floor"] = executemany_scratch(sqlite_path, path)
        return out
    finally:
        if not db.is_closed():
            db.close()
        if postgres:
            admin(args.pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        Path(tmp, f"records-{rows}.csv").unlink(missing_ok=True)
        sqlite_path.unlink(missing_ok=True)


def report(rows, found, args, figures):
    """Print one size's rows: seconds, rows/s, the ratio to the floor, CPU, memory; the baselines beside them."""
    floor_rows, floor_seconds, floor_cpu = found["floor"]
    floor_rate = rows / floor_seconds
    postgres = args.database == "postgres"
    floor_label = "COPY into a scratch table" if postgres else "executemany into a scratch table"
    print(f"\n{rows:,} penalty rows, CSV {found['csv_mb']:.1f} MB, database {found['database_mb']:.0f} MB, "
          f"{database_label(args.database)} · {machine_load()}")
    print(f"{'path':<62}{'seconds':>8}{'rows/s':>9}{'× floor':>8}{'CPU µs/row':>16}{'× floor':>8}"
          f"{'RSS MB':>7}{'peak':>6}")
    for label, part in ((f"import_file, first load ({found['first']['summary']})", found["first"]),
                        (f"import_file, re-import (unchanged {found['again']['unchanged']})", found["again"])):
        rate, cpu = rows / part["seconds"], part["cpu"] + part["server_cpu"]
        split = f"{part['cpu'] / rows * 1e6:.0f}+{part['server_cpu'] / rows * 1e6:.0f}" if postgres else \
            f"{part['cpu'] / rows * 1e6:.0f}"
        print(f"{label:<62}{part['seconds']:>8.1f}{rate:>9,.0f}{ratio(rate, floor_rate):>8}{split:>16}"
              f"{ratio(floor_cpu, cpu) if floor_cpu else '':>8}{part['rss_before_kb'] / 1024:>7.0f}"
              f"{part['peak_kb'] / 1024:>6.0f}")
    cpu_text = f"{floor_cpu / rows * 1e6:>16.0f}" if floor_cpu else ""
    print(f"{f'{floor_label} ({floor_rows} rows)':<62}{floor_seconds:>8.1f}{floor_rate:>9,.0f}{'1.00×':>8}{cpu_text}")
    if postgres:
        print("(CPU µs/row: this process + the PostgreSQL backend; × floor: the floor's CPU over the import's)")
    base = f"{floor_label}: {floor_rate:,.0f} rows/s ({floor_seconds:.1f} s)"
    if postgres:
        indexed = found["indexed"]
        print(f"{'  then INSERT … SELECT into a table LIKE penalty_record (indexes)':<62}{indexed:>8.1f}"
              f"{rows / indexed:>9,.0f}{ratio(rows / indexed, floor_rate):>8}")
        base += f"; INSERT … SELECT into a table like penalty_record: {rows / indexed:,.0f} rows/s"
    for label, part in (("first load", found["first"]), ("re-import", found["again"])):
        rate = rows / part["seconds"]
        cpu = (f"; CPU {(part['cpu'] + part['server_cpu']) / rows * 1e6:.0f} µs/row "
               f"({ratio(floor_cpu, part['cpu'] + part['server_cpu'])} COPY's)") if floor_cpu else ""
        figures.add(f"import: {rows:,} rows, {label}",
                    f"{rate:,.0f} rows/s ({part['seconds']:.1f} s, {ratio(rate, floor_rate)} the floor){cpu}; "
                    f"peak RSS {part['peak_kb'] / 1024:.0f} MB (before {part['rss_before_kb'] / 1024:.0f} MB)", base)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", "--rows", dest="sizes", default="20000,100000", help="row counts, comma-separated")
    parser.add_argument("--million", action="store_true",
                        help="also 1,000,000 rows (about 5 GB of free disk, tens of minutes)")
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
    sizes = [int(size) for size in args.sizes.split(",")] + ([1_000_000] if args.million else [])
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        print(f"free disk in {tmp}: {shutil.disk_usage(tmp).free / 1e9:.1f} GB")
        for rows in sizes:
            found = run_size(rows, args, tmp)
            report(rows, found, args, figures)
            peaks.append((rows, found["first"]["peak_kb"] - found["first"]["rss_before_kb"]))
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
