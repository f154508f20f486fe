"""One row's cells: the typed readings every loader shares, and what a row's outcome can be (rejected, skipped)."""

import functools
import time
from dataclasses import dataclass, field

from models.base import local_today
from models.policy import uscc
from models.policy.ingestion.formats import CellError, parse_date, parse_decimal, text, verbatim
from models.tables.records import HOLD_LABELS, VERIFIED
from models.tables.registry import SEVERITIES

OP_ADD, OP_CORRECT, OP_WITHDRAW = "新增", "更正", "撤销"
OPERATIONS = {"": OP_ADD, OP_ADD: OP_ADD, OP_CORRECT: OP_CORRECT, OP_WITHDRAW: OP_WITHDRAW}
SEVERITY_WORDS = {**{s: s for s in SEVERITIES}, "minor": "轻微", "general": "一般", "serious": "严重",
                  "较轻": "轻微", "较重": "严重"}
USCC_COLUMN = "统一社会信用代码"


class RowRejected(Exception):
    """One row cannot be accepted: the column and the Chinese reason."""

    def __init__(self, column, reason, scope=None):
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.scope = scope  # the domain id or kind the row was meant for, when known


class RowSkipped(Exception):
    """A row out of scope (a natural person's): counted with its reason, never written anywhere."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Outcome:
    """What a chunk did; `scopes` are the domain ids / kinds the accepted rows were for."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    held: list = field(default_factory=list)  # (row, reason) of rows stored but held for staff review
    rejected: list = field(default_factory=list)  # (row, column, reason, scope)
    scopes: set = field(default_factory=set)
    outbound: list = field(default_factory=list)  # OutboundMessage ids for the delivery job (owners told of a change)

    def reject(self, row, column, reason, scope=None):
        self.rejected.append((row, column, reason, scope))

    def hold(self, row, review, holds):
        """Count row `row` as held when its record's `review` is not verified, with the reasons of its `holds`."""
        if review != VERIFIED:
            reasons = "；".join(h["reason"] for h in holds or ()) or HOLD_LABELS.get(review, review)
            self.held.append((row, reasons))


def required(row, column, max_length=None, official=False):
    """The cell's text; RowRejected when it is blank. `official` keeps it as sent (never normalised)."""
    value = (verbatim if official else text)(row.get(column))
    if not value:
        raise RowRejected(column, "不能为空")
    return limited(value, column, max_length)


def optional(row, column, max_length=None, official=False):
    value = row.get(column)
    if value is None or value == "":  # the common case: a column the layout lacks, or a blank cell
        return ""
    return limited((verbatim if official else text)(value), column, max_length)


def limited(value, column, max_length):
    if max_length and len(value) > max_length:
        raise RowRejected(column, f"超过{max_length}个字符")
    return value


def uscc_cell(row, column=USCC_COLUMN):
    raw = row.get(column)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise RowRejected(column, "统一社会信用代码被Excel存成了数字（会丢失位数），请将该列设为文本后重新填写")
    raw = text(raw)
    if raw == "":
        raise RowRejected(column, "统一社会信用代码为空")
    code, reason = _checked_uscc(raw)
    if reason:
        raise RowRejected(column, reason)
    return code


@functools.lru_cache(maxsize=8192)
def _checked_uscc(raw):
    """(code, None) or (None, reason): a file names the same subjects again and again, so each is checked once."""
    try:
        return uscc.validate(raw), None
    except uscc.InvalidUSCC as exc:
        return None, exc.message


def date_cell(row, column, needed=True, not_future=True):
    raw = row.get(column)
    if raw is None or raw == "":
        value, reason = None, None
    elif type(raw) is str:
        value, reason = _date_text(raw)
    else:
        value, reason = _date_value(raw)
    if reason is not None:
        raise RowRejected(column, reason)
    if value is None:
        if needed:
            raise RowRejected(column, "不能为空")
        return None
    if not_future and value > today():
        raise RowRejected(column, f"日期{value.isoformat()}晚于今天")
    return value


@functools.lru_cache(maxsize=8192)
def _date_text(raw):
    """(date or None when blank, None) or (None, reason): a file's dates repeat, each spelling is read once."""
    return _date_value(raw)


def _date_value(raw):
    if text(raw) == "":
        return None, None
    try:
        return parse_date(raw), None
    except CellError as exc:
        return None, str(exc)


_today = [float("-inf"), None]


def today():
    """local_today(), read at most once a second (a file's every row asks)."""
    moment = time.monotonic()
    if moment - _today[0] > 1:
        _today[:] = [moment, local_today()]
    return _today[1]


def decimal_cell(row, column, places, maximum):
    raw = row.get(column)
    if raw is None:
        return None
    value, reason = _decimal_text(raw, places) if type(raw) is str else _decimal_value(raw, places)
    if reason is not None:
        raise RowRejected(column, reason)
    if value is not None and value > maximum:
        raise RowRejected(column, "金额过大，请核对单位")
    return value


@functools.lru_cache(maxsize=8192)
def _decimal_text(raw, places):
    return _decimal_value(raw, places)


def _decimal_value(raw, places):
    try:
        return parse_decimal(raw, places), None
    except CellError as exc:
        return None, str(exc)


def operation(row):
    raw = text(row.get("操作"))
    if raw not in OPERATIONS:
        raise RowRejected("操作", f"“{raw}”无法识别，应为新增、更正或撤销")
    return OPERATIONS[raw]


def severity_cell(row, column="失信程度"):
    """The department's own class (轻微 / 一般 / 严重), or None when blank."""
    if row.get(column) is None:
        return None
    raw = text(row.get(column))
    if not raw:
        return None
    value = SEVERITY_WORDS.get(raw) or SEVERITY_WORDS.get(raw.lower())
    if value is None:
        raise RowRejected(column, f"“{raw}”无法识别，应为轻微、一般或严重")
    return value
