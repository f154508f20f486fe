"""Import throughput on PostgreSQL: N penalty rows through `models.ingest.import_file`, beside plain COPY.

    .venv/bin/python -m bench.import_bench                 # 100 000 rows
    .venv/bin/python -m bench.import_bench --rows 1000000

Creates its own database (and drops it), registers one enterprise per ten rows so the rows pass 核验, writes a UTF-8
CSV in the departments' format, then measures: the first import, a re-import of the same file (every row unchanged),
and PostgreSQL COPY of the same file into a scratch table of text columns (the floor: parsing and writing only).
"""

import argparse
import csv
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

from commands.demo import ENTERPRISE_FIELDS, CopyWriter, DemoData
from devtools.pg import admin
from models.base import bind_database, db, local_today
from models.policy.ingestion import ingest
from models.tables.registry import Enterprise
from models.tables.schema import seed, upgrade

HEADERS = ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
           "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关", "数据来源单位", "领域", "程序类型"]
DEFAULT_ADMIN = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def register_enterprises(count, rng):
    """COPY `count` demo enterprises; return [(uscc, name)]."""
    generator = DemoData(rng, local_today())
    with db.atomic():
        CopyWriter().write(Enterprise, ENTERPRISE_FIELDS, generator.enterprise_rows(count, 1))
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


def timed(func):
    """(result, seconds)."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def copy_scratch(path):
    """COPY the CSV into a scratch table of text columns; return the row count."""
    cursor = db.connection().cursor()
    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    cursor.execute(f"CREATE TABLE bench_scratch ({columns})")
    with open(path, encoding="utf-8") as handle:
        cursor.copy_expert("COPY bench_scratch FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
    db.commit()
    cursor.execute("SELECT count(*) FROM bench_scratch")
    return cursor.fetchone()[0]


def run(rows, admin_url):
    """Create the database, measure, print the table, drop the database."""
    name = f"hegui_bench_{uuid.uuid4().hex[:8]}"
    admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        bind_database(admin_url.rsplit("/", 1)[0] + "/" + name)
        db.connect()
        upgrade()
        seed()
        rng = random.Random(1)
        enterprises = register_enterprises(max(1, rows // 10), rng)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "records.csv"
            write_csv(path, rows, enterprises, rng)
            size_mb = path.stat().st_size / 1e6
            first, t_first = timed(lambda: ingest.import_file(path, path.name, "penalty", "market", actor="bench"))
            again, t_again = timed(lambda: ingest.import_file(path, path.name, "penalty", "market", actor="bench"))
            copied, t_copy = timed(lambda: copy_scratch(path))
        print(f"\n{rows} penalty rows, CSV {size_mb:.1f} MB, PostgreSQL ({name})")
        print(f"{'path':<44}{'seconds':>10}{'rows/s':>12}")
        for label, seconds, count in [
            (f"import_file, first load ({first.summary()})", t_first, rows),
            (f"import_file, re-import (unchanged {again.unchanged})", t_again, rows),
            (f"COPY into a scratch table ({copied} rows)", t_copy, rows),
        ]:
            print(f"{label:<44}{seconds:>10.1f}{count / seconds:>12,.0f}")
    finally:
        if not db.is_closed():
            db.close()
        admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg-admin", default=DEFAULT_ADMIN, help="URL of a database where CREATE DATABASE may run")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that `finally` drops the database
    run(args.rows, args.pg_admin)


if __name__ == "__main__":
    main()
