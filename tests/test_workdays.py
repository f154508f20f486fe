import datetime as dt

import pytest

from models.policy.workdays import (
    CalendarError,
    add_workdays,
    is_workday,
    load_calendar,
    parse_calendar,
    seed_calendar,
    workdays_between,
)
from models.tables.cases import Holiday


def test_seed_loads_2025_and_2026_official_arrangements_once(app):
    assert Holiday.get(Holiday.day == dt.date(2026, 10, 1)).name == "国庆节"
    assert Holiday.get(Holiday.day == dt.date(2026, 10, 10)).workday is True
    assert Holiday.get(Holiday.day == dt.date(2025, 1, 26)).workday is True
    count = Holiday.select().count()
    assert seed_calendar() == (0, 0)
    assert Holiday.select().count() == count


def test_national_day_2026_and_the_weekend_workday(app):
    assert not is_workday(dt.date(2026, 10, 5))  # a Monday inside the holiday
    assert is_workday(dt.date(2026, 10, 10))  # Saturday, 调休上班
    assert not is_workday(dt.date(2026, 10, 11))  # an ordinary Sunday
    # Opened on Wednesday 30 Sept: 8 Oct, 9 Oct, Sat 10 Oct, 12 Oct, 13 Oct.
    assert add_workdays(dt.date(2026, 9, 30), 5) == dt.date(2026, 10, 13)
    assert workdays_between(dt.date(2026, 9, 30), dt.date(2026, 10, 13)) == 5
    assert workdays_between(dt.date(2026, 10, 13), dt.date(2026, 9, 30)) == -5


def test_plain_weeks_skip_weekends(app):
    assert add_workdays(dt.date(2026, 11, 27), 1) == dt.date(2026, 11, 30)  # Friday → Monday
    assert add_workdays(dt.date(2026, 11, 27), 5) == dt.date(2026, 12, 4)


def test_holidays_load_command_updates_and_reports(runner, tmp_path, app):
    path = tmp_path / "cal.csv"
    path.write_text("date,name,workday\n2027-01-01,元旦,0\n2026-10-10,国庆节调休上班,0\n", encoding="utf-8")
    result = runner.invoke(args=["holidays", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.output and "更新 1" in result.output
    assert Holiday.get(Holiday.day == dt.date(2027, 1, 1)).name == "元旦"
    assert Holiday.get(Holiday.day == dt.date(2026, 10, 10)).workday is False


def test_holidays_load_refuses_a_bad_file_and_changes_nothing(runner, tmp_path, app):
    path = tmp_path / "bad.csv"
    path.write_text("date,name,workday\n2027-01-01,元旦,0\n2027-13-01,错误,0\n", encoding="utf-8")
    result = runner.invoke(args=["holidays", "load", str(path)])
    assert result.exit_code != 0
    assert "第 3 行" in result.output
    assert Holiday.get_or_none(Holiday.day == dt.date(2027, 1, 1)) is None


def test_parse_calendar_checks_headers_and_flags():
    with pytest.raises(CalendarError):
        parse_calendar("day,name\n2026-01-01,x\n")
    with pytest.raises(CalendarError, match="workday"):
        parse_calendar("date,name,workday\n2026-01-01,x,2\n")


def test_load_without_overwrite_keeps_existing(app):
    added, changed = load_calendar([(dt.date(2026, 10, 1), "改名", False)], overwrite=False)
    assert (added, changed) == (0, 0)
    assert Holiday.get(Holiday.day == dt.date(2026, 10, 1)).name == "国庆节"
