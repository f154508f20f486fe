"""Working days under the national holiday calendar, kept as data in the `Holiday` table (rest days, 调休 days)."""

import csv
import datetime as dt
import io
from pathlib import Path

from models.base import db
from models.refusals import Refusal
from models.tables.cases import Holiday

DEFAULT_CALENDAR = Path(__file__).resolve().parents[1] / "data" / "holidays-cn.csv"  # models/data
HEADERS = ("date", "name", "workday")


class CalendarError(Refusal, ValueError):
    """A holiday file that cannot be read; `message` names the line and the problem."""


def parse_calendar(text):
    """Rows `(date, name, workday)` of a calendar CSV (`date,name,workday`; workday 1 = 调休上班)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != HEADERS:
        raise CalendarError(f"表头应为 {','.join(HEADERS)}")
    rows = []
    for line, row in enumerate(reader, start=2):
        try:
            day = dt.date.fromisoformat(row["date"].strip())
        except ValueError as exc:
            raise CalendarError(f"第 {line} 行：日期格式应为 YYYY-MM-DD") from exc
        flag = row["workday"].strip()
        if flag not in ("0", "1"):
            raise CalendarError(f"第 {line} 行：workday 应为 0（放假）或 1（调休上班）")
        rows.append((day, row["name"].strip() or "节假日", flag == "1"))
    return rows


def load_calendar(rows, overwrite=True):
    """Store calendar rows; `overwrite=False` only adds missing days (the seed). Return (added, changed)."""
    added = changed = 0
    with db.atomic():
        for day, name, workday in rows:
            existing = Holiday.get_or_none(Holiday.day == day)
            if existing is None:
                Holiday.create(day=day, name=name, workday=workday)
                added += 1
            elif overwrite and (existing.name, existing.workday) != (name, workday):
                existing.name, existing.workday = name, workday
                existing.save()
                changed += 1
    return added, changed


def seed_calendar():
    """Add the bundled 2025–2026 official arrangements where missing (called by `flask init-db`)."""
    return load_calendar(parse_calendar(DEFAULT_CALENDAR.read_text(encoding="utf-8")), overwrite=False)


def _exceptions(start, end):
    """{day: workday?} for calendar entries between start and end inclusive."""
    query = Holiday.select(Holiday.day, Holiday.workday).where(Holiday.day.between(start, end))
    return {row.day: row.workday for row in query}


def is_workday(day, exceptions=None):
    """True when `day` is a working day: a weekday that is not a holiday, or a 调休 weekend day."""
    exceptions = _exceptions(day, day) if exceptions is None else exceptions
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_workdays(start, days):
    """The `days`-th working day after `start` (the start day itself is not counted)."""
    exceptions = _exceptions(start, start + dt.timedelta(days=days * 3 + 40))
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_workday(day, exceptions):
            counted += 1
    return day


def workdays_between(start, end):
    """Working days after `start` up to and including `end` (negative when end is before start)."""
    if end < start:
        return -workdays_between(end, start)
    exceptions = _exceptions(start, end)
    return sum(1 for n in range(1, (end - start).days + 1) if is_workday(start + dt.timedelta(days=n), exceptions))
