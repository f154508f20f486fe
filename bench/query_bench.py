"""The report data query at scale: freezing one enterprise's snapshot (16 domains, arrears, repairs, objections and,
under ndrc-2025, the three 565号 sections) with 10 k, 1 M and (opt-in) 10 M penalty records in the database, beside
the floor it rests on, one indexed lookup of an enterprise by USCC, measured in the same run.

    .venv/bin/python -m bench.query_bench                          # PostgreSQL, 10 k and 1 M records
    .venv/bin/python -m bench.query_bench --tiers 10000            # quick
    .venv/bin/python -m bench.query_bench --tiers 10000,1000000,10000000   # 1 M enterprises / 10 M records
    .venv/bin/python -m bench.query_bench --tiers 10000 --explain  # and EXPLAIN ANALYZE of each distinct statement
    .venv/bin/python -m bench.query_bench --database sqlite --tiers 10000
    .venv/bin/python -m bench.query_bench --tiers 1000000 --keep   # keep the loaded database (its name is printed)
    .venv/bin/python -m bench.query_bench --reuse hegui_qbench_…   # measure a kept database again

Each tier gets its own database, filled by `flask demo-data`'s generator (one enterprise per ten records, a quarter
of them with records): on PostgreSQL with COPY, the secondary indexes dropped during the load and built after it and
foreign-key triggers off (the generator's rows are consistent); on SQLite with batched inserts. Then, by INSERT …
SELECT, 行政强制 for one record in ten, 严重失信主体名单 for one enterprise in fifty, 刑事 for one in two hundred and an
open objection for one record in a hundred; then ANALYZE. The database is dropped afterwards (unless --keep).

Timed: `freeze` for random enterprises with records (under heihe-2024 and under ndrc-2025, which asks for the 565号
sections too), each beside the USCC lookup; p50 / p95 / p99. Counted: the SQL statements of one snapshot for the
enterprise with the most records, and how many distinct ones. Every distinct statement's plan is checked for a
sequential scan of a big table (PostgreSQL EXPLAIN; SQLite EXPLAIN QUERY PLAN); --explain prints EXPLAIN ANALYZE of
each.
"""

import argparse
import datetime as dt
import random
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import (
    DEFAULT_ADMIN,
    DemoData,
    Domain,
    Enterprise,
    Figures,
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
from models.base import is_postgres

SPACES = re.compile(r"\s+")
BIG_TABLES = ("penalty_record", "enterprise", "arrears_record", "credit_repair", "case", "enforcement_record",
              "dishonest_listing", "criminal_judgment")
RULE_SETS = ("heihe-2024", "ndrc-2025")
ALIASES = re.compile(r'(?:FROM|JOIN) "(\w+)" AS "(\w+)"')


# ---- loading ----------------------------------------------------------------------------------------------------

def load(url, records, seed_value=7, progress=None):
    """A fresh schema, then `records` penalty rows for records/10 enterprises and the extras; seconds taken."""
    bind_database(url, pooled=False)
    db.connect()
    upgrade()
    seed()
    started = time.perf_counter()
    generator = DemoData(random.Random(seed_value), local_today())
    with db.atomic():
        dropped = _drop_indexes() if is_postgres() else []
        if is_postgres():
            db.execute_sql("SET LOCAL session_replication_role = replica")  # no FK triggers while loading
        generator.write(max(records // 10, 10), records, is_postgres(), progress or _quiet)
        if dropped:
            _say(progress, f"{len(dropped)} secondary indexes")
        for _name, definition in dropped:
            db.execute_sql(definition)
    extras()
    analyze()
    return time.perf_counter() - started


def _quiet(message):
    """Progress of the loader: left out of the figures."""


def _say(progress, message):
    (progress or _quiet)(message)


def _drop_indexes():
    """Drop the big tables' secondary indexes (PostgreSQL); their (name, definition) to build them again."""
    tables = ", ".join(f"'{t}'" for t in BIG_TABLES)
    found = db.execute_sql(f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename "
                           f"IN ({tables}) AND indexname NOT LIKE '%%\\_pkey'").fetchall()
    for name, _definition in found:
        db.execute_sql(f'DROP INDEX "{name}"')
    return found


def extras():
    """行政强制, 严重失信主体名单, 刑事 and open objections derived from the loaded rows (once)."""
    if db.execute_sql('SELECT COUNT(*) FROM "enforcement_record"').fetchone()[0]:
        return
    today = local_today()
    listed, judged, deadline = (today - dt.timedelta(days=400)).isoformat(), (today - dt.timedelta(days=200)
                                                                                ).isoformat(), today.isoformat()
    office = db.execute_sql("SELECT id FROM department WHERE code = 'credit_office'").fetchone()[0]
    court = db.execute_sql("SELECT id FROM department WHERE code = 'court'").fetchone()[0]
    common = "subject_class, source_unit, source_unit_code, remark, status, review, created_at, updated_at"
    mod = "%%" if is_postgres() else "%"  # psycopg2 formats the text; sqlite3 does not
    with db.atomic():
        db.execute_sql(
            f'INSERT INTO "enforcement_record" (subject_name, uscc, enterprise_id, department_id, {common}, '
            "decision_no, decision_key, category, method, reason, basis, target, amount_wan, decided_on, authority, "
            "authority_key, authority_code, domain_id) "
            "SELECT subject_name, uscc, enterprise_id, department_id, '', authority, '', '', 'active', review, "
            "created_at, updated_at, '强' || decision_no, '强' || decision_key, '行政强制措施', '查封', "
            "violation_type, basis, '涉案物品', fine_wan, decided_on, authority, authority_key, '', domain_id "
            f'FROM "penalty_record" WHERE id {mod} 10 = 0')
        db.execute_sql(
            f'INSERT INTO "dishonest_listing" (subject_name, uscc, enterprise_id, department_id, {common}, list_name, '
            "list_key, decision_no, reason, basis, unit, unit_code, listed_on, removal_reason) "
            f"SELECT name, uscc, id, {office}, '', '信用办', '', '', 'active', 'verified', created_at, updated_at, "
            "'拖欠农民工工资失信联合惩戒对象名单', '拖欠农民工工资失信联合惩戒对象名单', '', '拖欠工资', '', "
            f"'黑河市人力资源和社会保障局', '', '{listed}', '' FROM \"enterprise\" WHERE id {mod} 50 = 0")
        db.execute_sql(
            f'INSERT INTO "criminal_judgment" (subject_name, uscc, enterprise_id, department_id, {common}, case_no, '
            "case_key, cause, procedure, court, court_key, court_code, judged_on, result) "
            f"SELECT name, uscc, id, {court}, '', '法院', '', '', 'active', 'verified', created_at, updated_at, "
            "'（2025）黑11刑初' || id || '号', '（2025）黑11刑初' || id || '号', '单位行贿罪', '一审', "
            f"'黑河市中级人民法院', '黑河市中级人民法院', '', '{judged}', '判处罚金' "
            f'FROM "enterprise" WHERE id {mod} 200 = 7')
        db.execute_sql(
            'INSERT INTO "case" (number, kind, enterprise_id, record_id, department_id, reason, status, deadline, '
            "created_at) SELECT 'YY-' || id, 'objection', enterprise_id, id, department_id, '处罚对象有误', "
            f"'submitted', '{deadline}', created_at FROM \"penalty_record\" "
            f"WHERE id {mod} 100 = 3 AND enterprise_id IS NOT NULL")


def analyze():
    db.execute_sql("VACUUM ANALYZE" if is_postgres() else "ANALYZE")


# ---- measuring --------------------------------------------------------------------------------------------------

def timings(func, samples):
    """Milliseconds of each call of func(i) for i in range(samples)."""
    result = []
    for i in range(samples):
        start = time.perf_counter()
        func(i)
        result.append((time.perf_counter() - start) * 1000)
    return result


def snapshot_of(enterprise_id, codes, rule_set, end):
    """Freeze one report's snapshot for `enterprise_id` (the request is not saved; the enterprise is fetched as the
    worker fetches it)."""
    header = {"number": "HH-BENCH", "issuer": "bench", "issued_at": "", "valid_until": "", "verify": {}}
    request = ReportRequest(enterprise=enterprise_id, domains=codes,
                            period_start=end - dt.timedelta(days=3 * 365), period_end=end,
                            purpose_category="金融", purpose="银行贷款", created_at=utcnow())
    return freeze(request, rule_set, header, end)


def offenders(samples):
    """Ids of `samples` random enterprises with penalty records."""
    rows = db.execute_sql('SELECT DISTINCT enterprise_id FROM "penalty_record" WHERE enterprise_id IS NOT NULL'
                          ).fetchall()
    rng = random.Random(11)
    return rng.sample([r[0] for r in rows], min(samples, len(rows)))


def measure(samples):
    """{label: ms list}: the lookup, then one snapshot per rule set, interleaved call by call over the same
    enterprises (so a load spike on the shared machine hits all of them alike)."""
    ids = offenders(samples)
    usccs = [u for (u,) in db.execute_sql(
        f'SELECT uscc FROM "enterprise" WHERE id IN ({", ".join(str(i) for i in ids)})').fetchall()]
    codes = [d.code for d in Domain.ordered()]
    end = local_today()
    calls = {"lookup": lambda i: Enterprise.get(Enterprise.uscc == usccs[i % len(usccs)])}
    for version in RULE_SETS:
        rule_set = rules.get_rule_set(version)
        calls[version] = lambda i, r=rule_set: snapshot_of(ids[i % len(ids)], codes, r, end)
    for func in calls.values():
        timings(func, 5)  # warm the caches
    result = {label: [] for label in calls}
    for i in range(len(ids)):
        for label, func in calls.items():
            result[label] += timings(lambda _i, f=func, n=i: f(n), 1)
    return result


def busiest():
    """(enterprise id, its records) of the enterprise with the most records."""
    return db.execute_sql('SELECT enterprise_id, COUNT(*) FROM "penalty_record" WHERE enterprise_id IS NOT NULL '
                          "GROUP BY enterprise_id ORDER BY COUNT(*) DESC, enterprise_id LIMIT 1").fetchone()


def statements_of_one_snapshot(enterprise_id, version):
    """[(sql, params)] of one freeze for the enterprise."""
    codes, end = [d.code for d in Domain.ordered()], local_today()
    with captured_sql() as statements:
        snapshot_of(enterprise_id, codes, rules.get_rule_set(version), end)
    return statements


def distinct(statements):
    """The distinct statements (by text), each with its first parameters and how often it ran."""
    seen = {}
    for sql, params in statements:
        key = SPACES.sub(" ", sql).strip()
        if key in seen:
            seen[key][2] += 1
        else:
            seen[key] = [sql, params, 1]
    return list(seen.values())


def plan(sql, params, analyze_it=False):
    """The plan's lines (PostgreSQL EXPLAIN [ANALYZE, BUFFERS]; SQLite EXPLAIN QUERY PLAN)."""
    if is_postgres():
        head = "EXPLAIN (ANALYZE, BUFFERS) " if analyze_it else "EXPLAIN "
        return [line for (line,) in db.execute_sql(head + sql, params).fetchall()]
    return [row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def full_scans(sql, lines):
    """The big tables a plan reads whole: `Seq Scan on` (PostgreSQL), `SCAN` without an index (SQLite)."""
    found = set()
    tables = dict((alias, table) for table, alias in ALIASES.findall(sql))
    for line in lines:
        pg = re.search(r"Seq Scan on \"?(\w+)\"?", line)
        lite = re.match(r"\s*SCAN (\w+)(?! USING (?:COVERING )?INDEX)", line)
        table = pg.group(1) if pg else tables.get(lite.group(1), lite.group(1)) if lite else None
        if table in BIG_TABLES:
            found.add(table)
    return sorted(found)


def rows_of(table):
    """About how many rows `table` holds (a planner may rightly scan a small table whole)."""
    if is_postgres():
        return int(db.execute_sql("SELECT reltuples FROM pg_class WHERE relname = %s", (table,)).fetchone()[0])
    return db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


def check_plans(statements, show):
    """{statement number: big tables scanned whole} over the distinct reads; with `show`, EXPLAIN ANALYZE of each."""
    scans = {}
    for n, (sql, params, times) in enumerate(distinct(statements), start=1):
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue  # never explain a write: ANALYZE would run it (a snapshot only reads)
        whole = full_scans(sql, plan(sql, params))
        if whole:
            scans[n] = [f"{table} ({rows_of(table):,} rows)" for table in whole]
        if show:
            print(f"\n-- statement {n} (ran {times}×): {sql}\n   params: {params}")
            for line in plan(sql, params, analyze_it=True):
                print("   " + line)
    return scans


# ---- one tier ---------------------------------------------------------------------------------------------------

def report_tier(label, args, figures, loaded=None):
    """Measure the bound database (already loaded) and print and record its figures."""
    records = db.execute_sql('SELECT COUNT(*) FROM "penalty_record"').fetchone()[0]
    enterprises = db.execute_sql('SELECT COUNT(*) FROM "enterprise"').fetchone()[0]
    timed = measure(args.samples)
    enterprise_id, most = busiest()
    size = (f"database {db.execute_sql('SELECT pg_database_size(current_database())').fetchone()[0] / 1e6:,.0f} MB"
            if is_postgres() else f"database {Path(db.obj.database).stat().st_size / 1e6:,.0f} MB")
    how = f"loaded in {loaded:.0f} s, " if loaded is not None else "reused, "
    print(f"\n{label}: {records:,} penalty records, {enterprises:,} enterprises ({how}{size}) · {machine_load()}")
    print(f"{'':52} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
    look = timed["lookup"]
    l50, l95, l99 = median(look), percentile(look, 95), percentile(look, 99)
    print(f"{'lookup by USCC (the baseline)':52} {l50:>9.3f} {l95:>9.3f} {l99:>9.3f}")
    tier = label
    for version in RULE_SETS:
        snap = timed[version]
        s50, s95, s99 = median(snap), percentile(snap, 95), percentile(snap, 99)
        print(f"{f'report snapshot, {version}':52} {s50:>9.2f} {s95:>9.2f} {s99:>9.2f}   ({s50 / l50:.1f}× the lookup)")
        statements = statements_of_one_snapshot(enterprise_id, version)
        kinds = distinct(statements)
        scans = check_plans(statements, args.explain and version == RULE_SETS[-1])
        print(f"  statements in one {version} snapshot (enterprise {enterprise_id}, {most} records): "
              f"{len(statements)} ({len(kinds)} distinct); big tables scanned whole: "
              f"{scans or 'none'}", flush=True)
        figures.add(f"query: one report snapshot ({version}), {tier} (p50 / p95)", f"{s50:.2f} / {s95:.2f} ms",
                    f"lookup by USCC: {l50:.3f} / {l95:.3f} ms ({s50 / l50:.1f}×)")
        figures.add(f"query: SQL statements in one snapshot ({version}), {tier}",
                    f"{len(statements)} ({len(kinds)} distinct) for {most} records; seq scans of big tables: "
                    f"{scans or 'none'}", "a handful (target), none")


def run_tier(tier, args, figures):
    """Load one tier into its own database, measure it, drop the database (unless --keep)."""
    if args.database == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="hegui_qbench_"))
        url, drop = f"sqlite:///{folder / 'bench.db'}", None
    else:
        name = f"hegui_qbench_{uuid.uuid4().hex[:8]}"
        admin(args.pg_admin, f'CREATE DATABASE "{name}"')
        url, drop = args.pg_admin.rsplit("/", 1)[0] + "/" + name, name
    try:
        loaded = load(url, tier, progress=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
        report_tier(f"{tier:,} records", args, figures, loaded)
        if args.keep:
            print(f"kept: {url}")
    finally:
        if not db.is_closed():
            db.close()
        if drop and not args.keep:
            admin(args.pg_admin, f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


def reuse(target, args, figures):
    """Measure a database kept by an earlier run (a PostgreSQL name on --pg-admin's server, or a sqlite:/// URL)."""
    url = target if "://" in target else args.pg_admin.rsplit("/", 1)[0] + "/" + target
    bind_database(url, pooled=False)
    db.connect()
    try:
        upgrade()
        extras()
        analyze()
        records = db.execute_sql('SELECT COUNT(*) FROM "penalty_record"').fetchone()[0]
        print(f"reusing {target}")
        report_tier(f"{records:,} records", args, figures)
    finally:
        db.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", default="10000,1000000", help="penalty record counts, comma-separated")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each distinct statement")
    parser.add_argument("--database", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--keep", action="store_true", help="keep each tier's database and print where it is")
    parser.add_argument("--reuse", default="", help="measure kept databases instead (names or URLs, comma-separated)")
    parser.add_argument("--pg-admin", "--admin-url", dest="pg_admin", default=DEFAULT_ADMIN)
    parser.add_argument("--figures", default=None, help="also write the figures as JSON here (bench.run reads it)")
    args = parser.parse_args(argv)
    load_start = machine_load()
    print(f"start: {load_start}")
    figures = Figures("query", args.database, args.figures)
    if args.reuse:
        for target in args.reuse.split(","):
            reuse(target.strip(), args, figures)
    else:
        for tier in (int(t) for t in args.tiers.split(",")):
            run_tier(tier, args, figures)
    load_end = machine_load()
    print(f"end: {load_end}")
    figures.save(load_start, load_end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
