"""The report data query at scale on PostgreSQL: freezing one enterprise's snapshot (16 domains, arrears, repairs)
with 10 k, 1 M and (opt-in) 10 M penalty records in the database, beside the floor of one indexed lookup by USCC.

    .venv/bin/python -m bench.query_bench                          # 10 k and 1 M records
    .venv/bin/python -m bench.query_bench --tiers 10000            # quick
    .venv/bin/python -m bench.query_bench --tiers 10000,1000000,10000000   # the 10 M tier takes a while to load
    .venv/bin/python -m bench.query_bench --tiers 10000 --explain  # and EXPLAIN ANALYZE of each distinct statement

Each tier gets its own database, filled by `flask demo-data`'s generator with COPY (one enterprise per ten
records), then VACUUM ANALYZE; the database is dropped afterwards. Besides the timings it counts the SQL statements
one `freeze` executes (for the enterprise with the most records), and how many distinct ones.
"""

import argparse
import datetime as dt
import random
import re
import sys
import time
import uuid

from bench.common import (
    DEFAULT_ADMIN,
    DemoData,
    Domain,
    Enterprise,
    Figures,
    PenaltyRecord,
    ReportRequest,
    admin,
    bind_database,
    captured_sql,
    db,
    freeze,
    local_today,
    machine_load,
    median,
    percentile,
    rules,
    seed,
    upgrade,
    utcnow,
)

PLACEHOLDERS = re.compile(r"\s+")


def load(url, records, seed_value=7):
    """A fresh schema, then `records` penalty rows for records/10 enterprises, bulk-loaded with COPY."""
    bind_database(url, pooled=False)
    db.connect()
    upgrade()
    seed()
    started = time.perf_counter()
    with db.atomic():
        DemoData(random.Random(seed_value), local_today()).write(max(records // 10, 10), records, True, _quiet)
    db.execute_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def _quiet(message):
    """Progress of the loader: left out of the figures."""


def timings(func, samples):
    """Milliseconds of each call of func(i) for i in range(samples)."""
    result = []
    for i in range(samples):
        start = time.perf_counter()
        func(i)
        result.append((time.perf_counter() - start) * 1000)
    return result


def snapshot_of(enterprise_id, codes, rule_set, end):
    """Freeze one report's snapshot for `enterprise_id` (the request is not saved)."""
    header = {"number": "HH-BENCH", "issuer": "bench", "issued_at": "", "valid_until": "", "verify": {}}
    request = ReportRequest(enterprise=Enterprise.get_by_id(enterprise_id), domains=codes,
                            period_start=end - dt.timedelta(days=3 * 365), period_end=end,
                            purpose_category="金融", purpose="银行贷款", created_at=utcnow())
    return freeze(request, rule_set, header, end)


def measure(samples):
    """(snapshot ms list, lookup ms list) over `samples` random enterprises."""
    ids = [row.id for row in Enterprise.select(Enterprise.id).order_by(db.random()).limit(samples)]
    usccs = [Enterprise.get_by_id(i).uscc for i in ids]
    codes = [d.code for d in Domain.ordered()]
    rule_set, end = rules.get_rule_set(), local_today()

    def lookup(i):
        Enterprise.get(Enterprise.uscc == usccs[i % len(usccs)])

    timings(lambda i: snapshot_of(ids[i % len(ids)], codes, rule_set, end), 5)  # warm the cache
    return timings(lambda i: snapshot_of(ids[i % len(ids)], codes, rule_set, end), samples), timings(lookup, samples)


def statements_of_one_snapshot():
    """(enterprise id, its records, [(sql, params)]) of one freeze for the enterprise with the most records."""
    from peewee import fn
    busiest = (PenaltyRecord.select(PenaltyRecord.enterprise, fn.COUNT(PenaltyRecord.id).alias("n"))
               .where(PenaltyRecord.enterprise.is_null(False)).group_by(PenaltyRecord.enterprise)
               .order_by(fn.COUNT(PenaltyRecord.id).desc()).limit(1).first())
    enterprise_id, count = busiest.enterprise_id, busiest.n
    codes = [d.code for d in Domain.ordered()]
    rule_set, end = rules.get_rule_set(), local_today()
    with captured_sql() as statements:
        snapshot_of(enterprise_id, codes, rule_set, end)
    return enterprise_id, count, statements


def distinct(statements):
    """The distinct statements (by text), each with its first parameters and how often it ran."""
    seen = {}
    for sql, params in statements:
        key = PLACEHOLDERS.sub(" ", sql).strip()
        if key in seen:
            seen[key][2] += 1
        else:
            seen[key] = [sql, params, 1]
    return list(seen.values())


def explain(statements):
    """EXPLAIN ANALYZE of each distinct read statement (writes are never explained: ANALYZE would run them)."""
    cursor = db.connection().cursor()
    for n, (sql, params, times) in enumerate(distinct(statements), start=1):
        print(f"\n-- statement {n} (ran {times}×): {sql}\n   params: {params}")
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            print("   (not a read: not explained)")
            continue
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        for (line,) in cursor.fetchall():
            print("   " + line)
    db.rollback()


def run_tier(tier, args, figures):
    """Load one tier into its own database, measure it, print it, drop the database."""
    name = f"hegui_qbench_{uuid.uuid4().hex[:8]}"
    admin(args.pg_admin, f'CREATE DATABASE "{name}"')
    try:
        loaded = load(args.pg_admin.rsplit("/", 1)[0] + "/" + name, tier)
        snap, look = measure(args.samples)
        enterprise_id, records, statements = statements_of_one_snapshot()
        kinds = distinct(statements)
        s50, s99, l50, l99 = median(snap), percentile(snap, 99), median(look), percentile(look, 99)
        size = db.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0]
        print(f"\n{tier:,} penalty records loaded in {loaded:.1f} s, database {size / 1e6:,.0f} MB · {machine_load()}")
        print(f"{'':44} {'p50 ms':>10} {'p99 ms':>10}")
        print(f"{f'lookup by USCC ({tier} records)':44} {l50:>10.3f} {l99:>10.3f}")
        print(f"{f'report snapshot ({tier} records)':44} {s50:>10.2f} {s99:>10.2f}   ({s50 / l50:.0f}× the lookup)")
        print(f"SQL statements in one snapshot (enterprise {enterprise_id}, {records} records): {len(statements)} "
              f"({len(kinds)} distinct)", flush=True)
        figures.add(f"query: one report snapshot, {tier:,} records (p50 / p99)", f"{s50:.2f} / {s99:.2f} ms",
                    f"lookup by USCC: {l50:.3f} / {l99:.3f} ms ({s50 / l50:.0f}×)")
        figures.add(f"query: SQL statements in one snapshot, {tier:,} records",
                    f"{len(statements)} ({len(kinds)} distinct) for {records} records", "a handful (target)")
        if args.explain:
            explain(statements)
    finally:
        if not db.is_closed():
            db.close()
        admin(args.pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", default="10000,1000000", help="penalty record counts, comma-separated")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each distinct statement")
    parser.add_argument("--pg-admin", "--admin-url", dest="pg_admin", default=DEFAULT_ADMIN)
    parser.add_argument("--figures", default=None, help="also write the figures as JSON here (bench.run reads it)")
    args = parser.parse_args(argv)
    load_start = machine_load()
    print(f"start: {load_start}")
    figures = Figures("query", "postgres", args.figures)
    for tier in (int(t) for t in args.tiers.split(",")):
        run_tier(tier, args, figures)
    load_end = machine_load()
    print(f"end: {load_end}")
    figures.save(load_start, load_end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
