"""models.base.Prepared: a select's SQL built once from stand-ins, run with real values."""

import datetime as dt

import pytest

from models.base import Prepared
from models.tables.registry import Domain


def test_a_prepared_select_gives_what_the_query_gives_for_each_value(app):
    by_position = Prepared(lambda low, code: Domain.select().where((Domain.position >= low) | (Domain.code == code))
                           .order_by(Domain.position), -914_000_001, "\x00code")
    for low, code in ((15, "market"), (1, ""), (99, "hrss")):
        want = Domain.select().where((Domain.position >= low) | (Domain.code == code)).order_by(Domain.position)
        assert [d.code for d in by_position(low, code)] == [d.code for d in want]
    assert by_position(99, "nothing") == []


def test_a_stand_in_the_query_changes_is_refused_not_run(app):
    doubled = Prepared(lambda low: Domain.select().where(Domain.position == low * 2), -914_000_001)
    with pytest.raises(ValueError, match="stand-ins"):
        doubled(3)


def test_an_unused_stand_in_is_harmless(app):
    first = Prepared(lambda day, code: Domain.select().where(Domain.code == code), dt.date(1001, 1, 1), "\x00c")
    assert [d.code for d in first(dt.date(2026, 1, 1), "water")] == ["water"]
