"""Ingestion: one validation path for the `flask import` commands, the departments' API and the staff console upload.

`import_file(...)` reads a CSV/XLSX file, `import_items(...)` takes the API's JSON items (keys are the same Chinese
column names as the files). Both validate every row, reject bad rows one by one (row number, column, reason) without
stopping good rows, upsert in chunks with `insert_many`, write the audit trail, record the batch and its rejected rows,
and update FeedStatus (see models/feeds.py for what 数据截至 means). The whole load is one transaction: a file that
turns out unreadable half-way changes nothing. A second occurrence of a key inside the same load is rejected
("与第N行重复").
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from peewee import DataError, IntegrityError

from models.base import db, is_postgres, local_today, utcnow
from models.policy import departments
from models.policy.ingestion.formats import UnreadableFile, normalise_header, open_binary, read_rows
from models.policy.ingestion.loaders import LOADERS, RowRejected, audit, record_dict, register_lookup, review_for
from models.policy.report import feeds
from models.tables.records import VERIFIED, ImportBatch, RejectedRow
from models.tables.registry import (
    ARREARS_KINDS,
    CREDIT_OFFICE,
    DATA_KINDS,
    ENTERPRISE,
    FUND_ARREARS,
    PENALTY,
    REPAIR,
    SOCIAL_ARREARS,
)

log = logging.getLogger(__name__)

CHUNK = 2000
ARREARS = "arrears"
KINDS = (ENTERPRISE, PENALTY, ARREARS, SOCIAL_ARREARS, FUND_ARREARS, REPAIR)

__all__ = [
    "ImportResult", "ReleaseRefused", "RowError", "UnreadableFile", "import_file", "import_items", "release_held",
]


class ReleaseRefused(Exception):
    """A held record cannot be released; `message` says why, in Chinese."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def line(self):
        """`第N行 [列名] 原因`."""
        return f"第{self.row}行 [{self.column}] {self.reason}"


@dataclass
class ImportResult:
    batch_id: int
    kind: str
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    held: int = 0
    errors: list = field(default_factory=list)
    as_of: dt.date | None = None
    outbound: list = field(default_factory=list)  # OutboundMessage ids the caller hands to the delivery job

    def summary(self):
        """The contract's summary line."""
        return f"imported {self.imported}, updated {self.updated}, rejected {self.rejected}"


def import_file(fileobj_or_path, filename, kind, department_code, source="cli", actor="", as_of=None, progress=None):
    """Load a department's CSV/XLSX file; raise UnreadableFile (nothing changed) when it cannot be read.

    `fileobj_or_path` is a path or a binary file object; `source` the door (cli / api / staff); `kind` one of
    KINDS ('arrears' takes both kinds by the 欠缴类型 column; 'enterprise' ignores `as_of`, and `department_code`
    None means the operator acting for the register's keeper, the credit office); `progress(n)` gets the number of
    rows done after each chunk.
    Returns an ImportResult; per-row problems are in `.errors`, never raised.
    """
    department, loader_kind = _resolve(kind, department_code)
    as_of = _check_as_of(as_of)
    binary = open_binary(fileobj_or_path)
    rows = read_rows(binary, filename)
    try:
        header_row = next(rows, None)
        if header_row is None:
            raise UnreadableFile("文件为空，没有表头和数据")
        batch = _start_batch(department, kind, source, filename, actor)
        loader = _loader(loader_kind, kind, department, batch, actor)
        try:
            headers = _map_headers(header_row[1], loader)
            records = ((n, _row_dict(headers, values)) for n, values in rows)
            return _run(loader, records, batch, as_of, progress)
        except UnreadableFile as exc:
            _fail_batch(batch, exc.message)
            raise
    finally:
        rows.close()
        if binary is not fileobj_or_path:
            binary.close()


def import_items(items, kind, department, source="api", actor="", as_of=None):
    """Load API items (dicts keyed by the Chinese column names); errors carry the item's index as `row`."""
    department, loader_kind = _resolve(kind, department.code)
    as_of = _check_as_of(as_of)
    batch = _start_batch(department, kind, source, "", actor)
    loader = _loader(loader_kind, kind, department, batch, actor)
    return _run(loader, enumerate(items), batch, as_of, None, unit="项")


def _resolve(kind, department_code):
    """(department, loader kind) for a load; UnreadableFile when the department may not send `kind`.

    Only the register's keeper writes enterprises: the credit office (no department code: the operator acting for
    it), or a department explicitly granted `enterprise`. Anyone else could change a registered mobile and take
    over the enterprise's binding.
    """
    if kind not in KINDS:
        raise UnreadableFile(f"未知的数据类型“{kind}”")
    if department_code is None and kind != ENTERPRISE:
        raise UnreadableFile("请指定数据提供单位")
    department = departments.find_department(department_code or CREDIT_OFFICE)
    if department is None:
        raise UnreadableFile(f"数据提供单位“{department_code}”不存在或已停用")
    if kind == ARREARS:
        allowed = any(departments.has_kind(department, k) for k in ARREARS_KINDS)
    else:
        allowed = departments.has_kind(department, kind)
    if not allowed:
        label = "欠缴" if kind == ARREARS else DATA_KINDS[kind]
        raise UnreadableFile(f"{department.name}无权报送{label}数据")
    return department, ARREARS if kind in ARREARS_KINDS else kind


def _check_as_of(as_of):
    as_of = as_of or local_today()
    if as_of > local_today():
        raise UnreadableFile(f"数据截至日期{as_of.isoformat()}晚于今天")
    return as_of


def _loader(loader_kind, kind, department, batch, actor):
    cls = LOADERS[loader_kind]
    return cls(department, batch, actor, kind) if loader_kind == ARREARS else cls(department, batch, actor)


def _start_batch(department, kind, source, filename, actor):
    with db.atomic():
        return ImportBatch.create(department=department, kind=kind, source=source[:10],
                                  filename=(filename or "")[:255], actor=actor[:80])


def _fail_batch(batch, message):
    batch.status = "unreadable"
    batch.error = message
    batch.finished_at = utcnow()
    batch.save()


def _map_headers(header_values, loader):
    """Column index → canonical column name; UnreadableFile naming the missing required columns."""
    known = {normalise_header(c): c for c in loader.columns}
    headers = [known.get(normalise_header(v)) for v in header_values]
    missing = [c for c in loader.required_headers() if c not in headers]
    if missing:
        raise UnreadableFile("表头缺少以下列：" + "、".join(missing) + "（请使用标准模板的表头）")
    return headers


def _row_dict(headers, values):
    return {name: values[i] for i, name in enumerate(headers) if name and i < len(values)}


def _run(loader, records, batch, as_of, progress, unit="行"):
    """Validate and load every row in one transaction, then record the batch and the feeds."""
    result = ImportResult(batch_id=batch.id, kind=batch.kind, as_of=as_of)
    blocked, scopes = set(), set()
    try:
        with db.atomic():
            if is_postgres():
                # Key lookups by IN-lists of 500: with the table's statistics stale (a big load in progress, or a
                # fresh table) the planner's default selectivity makes them full scans, quadratic over a file.
                db.execute_sql("SET LOCAL enable_seqscan = off")
            seen, chunk, done = {}, [], 0
            for number, row in records:
                chunk.append(_validated(loader, number, row, seen, result, blocked, unit))
                if len(chunk) >= CHUNK:
                    done += _flush(loader, chunk, result, blocked, scopes)
                    chunk = []
                    if progress:
                        progress(done)
            done += _flush(loader, chunk, result, blocked, scopes)
            if progress:
                progress(done)
            _finish(batch, result, loader, as_of, scopes, blocked)
    except IntegrityError as exc:
        log.exception("import batch %s hit a conflict", batch.id)
        _fail_batch(batch, str(exc))
        raise UnreadableFile("导入时与同时进行的另一次报送发生冲突，本次未作任何更改，请稍后重试") from exc
    except DataError as exc:
        log.exception("import batch %s holds data the database refused", batch.id)
        _fail_batch(batch, str(exc))
        raise UnreadableFile("文件中有无法保存的内容（如控制字符），本次未作任何更改，请检查后重新导出") from exc
    return result


def _validated(loader, number, row, seen, result, blocked, unit):
    """(number, values) for a valid row, or None after recording the rejection."""
    if not isinstance(row, dict):
        return _reject(result, blocked, number, "", "数据项应为对象（键为列名）", None)
    try:
        values = loader.validate(row)
    except RowRejected as exc:
        return _reject(result, blocked, number, exc.column, exc.reason, exc.scope)
    key = hash(loader.key(values))
    if key in seen:
        scope = values.get("domain_id") or values.get("kind")
        return _reject(result, blocked, number, loader.key_column, f"与第{seen[key]}{unit}重复", scope)
    seen[key] = number
    return number, values


def _reject(result, blocked, number, column, reason, scope):
    result.errors.append(RowError(number, column, reason))
    result.rejected += 1
    blocked.add(scope)
    return None


def _flush(loader, chunk, result, blocked, scopes):
    rows = [item for item in chunk if item is not None]
    if not rows:
        return len(chunk)
    outcome = loader.flush(rows)
    result.imported += outcome.imported
    result.updated += outcome.updated
    result.unchanged += outcome.unchanged
    result.held += outcome.held
    result.outbound += outcome.outbound
    scopes.update(outcome.scopes)
    for number, column, reason, scope in outcome.rejected:
        _reject(result, blocked, number, column, reason, scope)
    return len(chunk)


def _finish(batch, result, loader, as_of, scopes, blocked):
    result.errors.sort(key=lambda e: e.row)
    for start in range(0, len(result.errors), 1000):
        RejectedRow.insert_many(
            [dict(batch=batch, row_number=e.row, column=e.column[:40], reason=e.reason)
             for e in result.errors[start:start + 1000]]
        ).execute()
    batch.imported, batch.updated, batch.rejected, batch.held = (
        result.imported, result.updated, result.rejected, result.held)
    batch.status = "done"
    batch.finished_at = utcnow()
    batch.save()
    if loader.kind != ENTERPRISE:
        _record_feeds(loader, as_of, scopes, blocked)


def _record_feeds(loader, as_of, scopes, blocked):
    """Advance 数据截至 for every granted scope of the load except those with rejected rows (see models/feeds.py)."""
    department = loader.department
    if loader.kind == ARREARS:
        granted = {k for k in ARREARS_KINDS if departments.may_write(department, k)}
        if loader.fixed_kind:
            granted = {loader.fixed_kind}
        for kind in granted:
            if kind in blocked or None in blocked:
                feeds.touch_load(department, kind, [None])
            else:
                feeds.record_load(department, kind, [None], as_of)
        return
    granted = departments.granted_domains(department, loader.kind)
    stopped = granted if None in blocked else granted & blocked
    feeds.record_load(department, loader.kind, sorted(granted - stopped), as_of)
    feeds.touch_load(department, loader.kind, sorted(stopped))


def release_held(record, actor):
    """Staff confirm a record held for 核验: link it to the registered enterprise and count it; return the record.

    A record whose USCC is still not registered cannot be released (ReleaseRefused).
    """
    found = register_lookup([record.uscc]).get(record.uscc)
    if found is None:
        raise ReleaseRefused("该统一社会信用代码尚未登记在企业名录中，请先导入企业信息")
    table = record._meta.table_name
    with db.atomic():
        before = record_dict(record)
        record.enterprise = found[0]
        record.review = VERIFIED
        record.updated_at = utcnow()
        record.save()
        audit(table, record.id, "release", actor, None, before, record_dict(record))
    return record


def recheck(record):
    """The review a record would get now from the register (for staff screens)."""
    return review_for(register_lookup([record.uscc]), record.uscc, record.subject_name)[1]
