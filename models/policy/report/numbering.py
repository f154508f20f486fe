"""Report numbers (HH-20261127-000123) from the database, unique across processes; the random 查验码."""

import secrets

from peewee import IntegrityError

from models.base import db, is_postgres
from models.tables.reports import ReportSequence

# No 0/O, 1/I/L: a verifier types the check code from paper.
CHECK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CHECK_CODE_LENGTH = 10
INSERT_ATTEMPTS = 5


class NumberingError(RuntimeError):
    """The day's sequence row could not be created or advanced."""


def write_transaction():
    """A transaction that holds the write lock from its first statement (SQLite: BEGIN IMMEDIATE)."""
    if is_postgres() or db.in_transaction():
        return db.atomic()
    return db.atomic(lock_type="IMMEDIATE")


def format_number(region, day, sequence):
    """`HH-20261127-000123`."""
    return f"{region}-{day:%Y%m%d}-{sequence:06d}"


def next_sequence(region, day):
    """Advance and return the day's sequence for `region`; atomic across processes."""
    with write_transaction():
        for _ in range(INSERT_ATTEMPTS):
            value = _increment(region, day)
            if value is not None:
                return value
            try:
                with db.atomic():
                    ReportSequence.create(region=region, day=day, last=1)
                return 1
            except IntegrityError:
                continue  # another process made the first number of the day: advance theirs
    raise NumberingError(f"could not advance the sequence for {region} {day}")


def _increment(region, day):
    """UPDATE … SET last = last + 1 … RETURNING last; None when the day has no row yet."""
    cursor = (
        ReportSequence.update(last=ReportSequence.last + 1)
        .where((ReportSequence.region == region) & (ReportSequence.day == day))
        .returning(ReportSequence.last)
        .execute()
    )
    rows = list(cursor)
    return rows[0].last if rows else None


def next_number(region, day):
    """The next report number for `region` on local date `day`."""
    return format_number(region, day, next_sequence(region, day))


def new_check_code(length=CHECK_CODE_LENGTH):
    """A random 查验码 from an alphabet without look-alike characters."""
    return "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(length))
