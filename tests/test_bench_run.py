"""bench/run.py: the README table from a run's figures, and its replacement between the two markers."""

import pytest

from bench import run

ROWS = [
    {"bench": "webhook", "database": "SQLite", "figure": "webhook: ours", "value": "286 req/s", "baseline": "bare 1"},
    {"bench": "webhook", "database": "PostgreSQL", "figure": "webhook: ours", "value": "368 req/s",
     "baseline": "bare 2"},
    {"bench": "query", "database": "PostgreSQL", "figure": "query: GET /v/<t> | x", "value": "33 ms",
     "baseline": "lookup"},
]


def test_one_row_per_figure_with_a_column_per_database():
    table = run.readme_table(ROWS, ("loadavg 1", "loadavg 2"), "python -m bench.run").splitlines()
    assert "loadavg 1" in table[0] and "loadavg 2" in table[0]
    assert "| webhook: ours | 286 req/s | 368 req/s | SQLite: bare 1; PostgreSQL: bare 2 |" in table
    assert "| query: GET /v/&lt;t&gt; \\| x |  | 33 ms | lookup |" in table


def test_write_readme_replaces_only_the_text_between_the_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{run.TABLE_START}\nold table\n{run.TABLE_END}\nafter\n", encoding="utf-8")
    monkeypatch.setattr(run, "README", readme)
    run.write_readme("new table")
    assert readme.read_text(encoding="utf-8") == f"before\n{run.TABLE_START}\nnew table\n{run.TABLE_END}\nafter\n"


def test_write_readme_refuses_a_readme_without_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    monkeypatch.setattr(run, "README", readme)
    with pytest.raises(SystemExit):
        run.write_readme("new table")
    assert readme.read_text(encoding="utf-8") == "no markers\n"


def test_the_repository_readme_has_the_markers():
    text = run.README.read_text(encoding="utf-8")
    assert text.index(run.TABLE_START) < text.index(run.TABLE_END)


def test_the_query_bench_runs_on_both_databases_sqlite_without_the_10m_tier():
    query = next(b for b in run.BENCHES if b.name == "query")
    assert query.databases == ("sqlite", "postgres")
    lite, pg = run.argv_for(query, "sqlite", True, "f.json"), run.argv_for(query, "postgres", True, "f.json")
    assert lite[lite.index("--tiers") + 1] == "10000,1000000" and lite[lite.index("--database") + 1] == "sqlite"
    assert pg[pg.index("--tiers") + 1] == "10000,1000000,10000000" and pg[pg.index("--database") + 1] == "postgres"
    quick = run.argv_for(query, "sqlite", False, "f.json")
    assert quick[quick.index("--tiers") + 1] == "10000" and "--redis-db" not in quick
