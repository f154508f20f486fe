"""The report data query at scale on PostgreSQL: freezing one enterprise's snapshot (16 domains, arrears, repairs)
with 10 k, 1 M and (opt-in) 10 M penalty records in the database, beside the floor of one indexed lookup by USCC.

    .venv/bin/python -m bench.query_bench                          # 10 k and 1 M records
    .venv/bin/python -m bench.query_bench --tiers 10000            # quick
    .venv/bin/python -m bench.query_bench --tiers 10000,1000000,10000000   # the 10 M tier takes a while to load

Each tier gets its own database, filled by `flask demo-data`'s generator with COPY (one enterprise per ten
records), then VACUUM ANALYZE; the database is dropped afterwards.
"""

import argparse
import datetime as dt
import random
import statistics
import time
import uuid

from bench.import_bench import DEFAULT_ADMIN
from commands.demo import DemoData
from devtools.pg import admin
from models.base import bind_database, db, local_today, utcnow
from models.policy.report import rules
from models.policy.report.snapshot import freeze
from models.tables.registry import Domain, Enterprise
from models.tables.reports import ReportRequest
from models.tables.schema import seed, upgrade


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


def summary(values):
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def measure(samples):
    """(snapshot p50, p99), (lookup p50, p99) over `samples` random enterprises."""
    ids = [row.id for row in Enterprise.select(Enterprise.id).order_by(db.random()).limit(samples)]
    usccs = [Enterprise.get_by_id(i).uscc for i in ids]
    codes = [d.code for d in Domain.ordered()]
    rule_set = rules.get_rule_set()
    end = local_today()
    header = {"number": "HH-BENCH", "issuer": "bench", "issued_at": "", "valid_until": "", "verify": {}}

    def snapshot(i):
        request = ReportRequest(enterprise=Enterprise.get_by_id(ids[i % len(ids)]), domains=codes,
                                period_start=end - dt.timedelta(days=3 * 365), period_end=end,
                                purpose_category="金融", purpose="银行贷款", created_at=utcnow())
        freeze(request, rule_set, header, end)

    def lookup(i):
        Enterprise.get(Enterprise.uscc == usccs[i % len(usccs)])

    timings(snapshot, 5)  # warm the cache
    return summary(timings(snapshot, samples)), summary(timings(lookup, samples))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", default="10000,1000000", help="penalty record counts, comma-separated")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN)
    args = parser.parse_args()
    for tier in (int(t) for t in args.tiers.split(",")):
        name = f"hegui_qbench_{uuid.uuid4().hex[:8]}"
        admin(args.admin_url, f'CREATE DATABASE "{name}"')
        try:
            loaded = load(args.admin_url.rsplit("/", 1)[0] + "/" + name, tier)
            (s50, s99), (l50, l99) = measure(args.samples)
            print(f"\n{tier} penalty records loaded in {loaded:.1f} s")
            print(f"{'':40} {'p50 ms':>10} {'p99 ms':>10}")
            print(f"{f'lookup by USCC ({tier} records)':40} {l50:>10.3f} {l99:>10.3f}")
            print(f"{f'report snapshot ({tier} records)':40} {s50:>10.2f} {s99:>10.2f}", flush=True)
        finally:
            if not db.is_closed():
                db.close()
            admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
