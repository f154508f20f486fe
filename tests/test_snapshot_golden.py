"""The snapshot's bytes, pinned: `freeze` over a rich fixed-date world (tests/golden_world.py) gives exactly the
canonical JSON in tests/data/golden/, on SQLite and on PostgreSQL; and the SQL statements one snapshot executes do not
grow with the number of domains or records.

The golden files were written by the per-domain, per-record code this replaced; to write them anew after a change
meant to alter the output, run these tests with GOLDEN_WRITE=1 and read the diff.
"""

import json
import os
from contextlib import contextmanager, nullcontext
from pathlib import Path

import golden_world
import pytest

from models.base import db
from models.policy.report import rules, signing, snapshot
from models.tables.registry import Domain
from models.tables.requests import ReportRequest

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
CASES = {
    "rich-heihe-all": ("e", "heihe-2024", None),
    "rich-ndrc-all": ("e", "ndrc-2025", None),
    "rich-ndrc-three": ("e", "ndrc-2025", ["transport", "market", "ecology"]),
    "plain-ndrc-all": ("f", "ndrc-2025", None),
    "plain-heihe-all": ("f", "heihe-2024", None),
    "clean-heihe-all": ("g", "heihe-2024", None),
}


def _freeze(world, who, version, domains, counted=None):
    request = golden_world.request(world, getattr(world, who), domains)
    request = ReportRequest.get_by_id(request.id)  # as the worker loads it: the enterprise not yet fetched
    with counted_sql() if counted is not None else nullcontext([]) as statements:
        frozen = snapshot.freeze(request, rules.get_rule_set(version), golden_world.HEADER, golden_world.TODAY)
    if counted is not None:
        counted.extend(statements)
    return frozen


def _golden_bytes(frozen):
    """The snapshot's canonical JSON (what is signed), then the links the report keeps, one line each."""
    links = {"record_ids": frozen.record_ids, "arrears_ids": frozen.arrears_ids,
             "items": [list(item) for item in frozen.items]}
    return signing.canonical_json(frozen.data) + b"\n" + signing.canonical_json(links) + b"\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_snapshot_bytes_are_the_golden_ones(app, case):
    world = golden_world.build()
    got = _golden_bytes(_freeze(world, *CASES[case]))
    path = GOLDEN / f"{case}.json"
    if os.environ.get("GOLDEN_WRITE") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got)
    want = path.read_bytes()
    got_lines, want_lines = got.split(b"\n"), want.split(b"\n")
    assert json.loads(got_lines[0]) == json.loads(want_lines[0])  # a readable diff first
    assert json.loads(got_lines[1]) == json.loads(want_lines[1])
    assert got == want


def test_golden_world_shows_what_it_is_for(app):
    """The fixture exercises what the golden files pin (so a thinner world cannot pass unnoticed)."""
    world = golden_world.build()
    data = _freeze(world, "e", "ndrc-2025", None).data
    statements = {d["code"]: d["statement"] for d in data["domains"]}
    assert "正在核验" in statements["market"] and "正在核验" in statements["fire"]
    assert "异议处理中1条" in statements["health"] and "其中已完成信用修复3条" in statements["ecology"]
    assert "数据未归集" in statements["urban"] and "数据未归集" in statements["water"]
    assert "数据未归集" in statements["transport"] and "数据截至" in statements["landscaping"]
    assert len(data["repairs"]) == 4 and [len(a["items"]) for a in data["arrears"]] == [4, 1]
    assert {s["kind"]: len(s["items"]) for s in data["sections"]} == {
        "enforcement": 2, "dishonest_list": 2, "criminal": 1}
    assert all("正在核验" in s["statement"] for s in data["sections"])


@contextmanager
def counted_sql():
    """The SQL statements the bound database executes inside the block."""
    database, statements = db.obj, []
    original = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return original(sql, params, *args, **kwargs)

    database.execute_sql = counting
    try:
        yield statements
    finally:
        del database.execute_sql


def _statements(world, who, version, domains):
    statements = []
    _freeze(world, who, version, domains, statements)
    return statements


@pytest.mark.parametrize("version", ["heihe-2024", "ndrc-2025"])
def test_statements_per_snapshot_do_not_grow_with_domains_or_records(app, version):
    world = golden_world.build()
    every = [d.code for d in Domain.ordered()]
    one = _statements(world, "e", version, ["market"])
    assert one and all(s.lstrip().upper().startswith("SELECT") for s in one)  # a snapshot only reads
    assert len(one) <= 9, one  # a handful: domains, feeds, penalties, repairs, arrears (and the three sections)
    assert len(_statements(world, "e", version, every)) == len(one)
    assert len(_statements(world, "g", version, every)) <= len(one)  # nothing found: nothing more asked
    golden_world.scaled(world.e, 4, every)
    assert len(_statements(world, "e", version, every)) == len(one)
