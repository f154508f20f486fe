"""The corpus of owners' messages (tests/data/bot_corpus.toml) through the real bot, Redis and database: every case
is understood except those the corpus marks `known_miss`, and no known miss is understood unnoticed."""

from bench import bot_corpus


def test_the_corpus_is_understood_but_for_its_known_misses(rt):
    cases = bot_corpus.load()
    assert len(cases) >= 150 and len({c["id"] for c in cases}) == len(cases)
    outcomes = bot_corpus.run(rt, cases)
    missed = {o.case["id"]: o.problems for o in outcomes if not o.understood}
    known = {c["id"] for c in cases if c.get("known_miss")}
    unexpected = {case: problems for case, problems in missed.items() if case not in known}
    assert not unexpected, bot_corpus.summary(outcomes)
    assert set(missed) == known, f"understood now, remove known_miss: {sorted(known - set(missed))}"
    share = 1 - len(missed) / len(cases)
    assert share >= 0.95, bot_corpus.summary(outcomes)


def test_expected_periods_are_computed_independently_of_the_bot():
    import datetime as dt

    today = dt.date(2026, 3, 10)
    assert bot_corpus.expected_period("y3", today) == ["2023-03-11", "2026-03-10"]
    assert bot_corpus.expected_period("m6", today) == ["2025-09-11", "2026-03-10"]
    assert bot_corpus.expected_period("h1", today) == ["2025-01-01", "2025-06-30"]
    assert bot_corpus.expected_period("year:-1", today) == ["2025-01-01", "2025-12-31"]
    assert bot_corpus.expected_period("since_year:0", today) == ["2026-01-01", "2026-03-10"]
