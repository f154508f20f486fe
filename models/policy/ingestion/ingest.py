"""Ingestion: one validation path for the `flask import` commands, the departments' API and the staff console upload.

`import_file(...)` reads a CSV/XLSX file (its header found below any title rows), `import_items(...)` takes the API's
JSON items (keys are the same Chinese column names as the files, in any of their spellings). Both validate every row,
reject bad rows one by one (row number, column, reason) without stopping good rows, count held rows (stored, waiting
for staff) and skipped rows (natural persons: never written anywhere), upsert in chunks, write the audit trail,
record the batch and its lines, and update FeedStatus (see models/policy/report/feeds.py for what 数据截至 means).
The whole load is one transaction: a file that turns out unreadable half-way changes nothing, and the batch says so.
A second occurrence of a key inside the same load is rejected ("与第N行重复").
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import InvalidOperation

from peewee import DataError, IntegrityError

from models.base import db, is_postgres, local_today, utcnow
from models.policy import departments
from models.policy.ingestion.arrears import ArrearsLoader
from models.policy.ingestion.cells import RowRejected, RowSkipped
from models.policy.ingestion.enterprises import EnterpriseLoader
from models.policy.ingestion.formats import NO_LIMITS, UnreadableFile, open_binary, read_rows
from models.policy.ingestion.listings import CriminalLoader, DishonestLoader, EnforcementLoader
from models.policy.ingestion.penalties import PenaltyLoader
from models.policy.ingestion.repairs import RepairLoader
from models.policy.ingestion.review import ReleaseRefused, recheck, release_held
from models.policy.ingestion.staging import PenaltyStage
from models.policy.ingestion.storage import insert_rows
from models.policy.report import feeds
from models.tables.records import DONE, FAILED, HELD, RUNNING, UNREADABLE, ImportBatch, RejectedRow
from models.tables.registry import (
    ARREARS_KINDS,
    CREDIT_OFFICE,
    CRIMINAL,
    DATA_KINDS,
    DISHONEST_LIST,
    DOMAIN_KINDS,
    ENFORCEMENT,
    ENTERPRISE,
    FUND_ARREARS,
    PENALTY,
    REPAIR,
    SOCIAL_ARREARS,
)

log = logging.getLogger(__name__)

CHUNK = 5000  # rows validated, then written together (COPY / executemany, one merge on PostgreSQL)
HEADER_SCAN = 10  # non-empty rows searched for the header (title and note rows above it)
ARREARS = "arrears"
KINDS = (ENTERPRISE, PENALTY, ARREARS, SOCIAL_ARREARS, FUND_ARREARS, REPAIR, ENFORCEMENT, DISHONEST_LIST, CRIMINAL)
LOADERS = {ENTERPRISE: EnterpriseLoader, PENALTY: PenaltyLoader, ARREARS: ArrearsLoader, REPAIR: RepairLoader,
           ENFORCEMENT: EnforcementLoader, DISHONEST_LIST: DishonestLoader, CRIMINAL: CriminalLoader}
CELL_FAULTS = (ValueError, TypeError, ArithmeticError, InvalidOperation, OverflowError)

__all__ = [
    "ImportResult", "ReleaseRefused", "RowError", "UnreadableFile", "check_door", "import_file", "import_items",
    "recheck", "release_held",
]


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
    errors: list = field(default_factory=list)  # RowError of rejected rows
    held_rows: list = field(default_factory=list)  # (row, reason): stored, held for staff review
    skipped_rows: list = field(default_factory=list)  # (row, reason): natural persons, never written
    as_of: dt.date | None = None
    outbound: list = field(default_factory=list)  # OutboundMessage ids the caller hands to the delivery job
    unit: str = "行"

    @property
    def held(self):
        return len(self.held_rows)

    @property
    def skipped(self):
        return len(self.skipped_rows)

    def summary(self):
        """The contract's summary line (docs/CONTRACT.md §4)."""
        return f"imported {self.imported}, updated {self.updated}, rejected {self.rejected}"

    def counts(self):
        """The further counts, printed after the summary line."""
        return f"held {self.held}, skipped {self.skipped}, unchanged {self.unchanged}"

    def lines(self):
        """One line per rejected, held or skipped row, in row order."""
        found = [(e.row, 0, e.line()) for e in self.errors]
        found += [(row, 1, f"第{row}{self.unit} [待核验] {reason}") for row, reason in self.held_rows]
        found += [(row, 2, f"第{row}{self.unit} [已跳过] {reason}") for row, reason in self.skipped_rows]
        return [line for _row, _order, line in sorted(found)]


def import_file(fileobj_or_path, filename, kind, department_code, source="cli", actor="", as_of=None, progress=None,
                limits=NO_LIMITS, batch=None):
    """Load a department's CSV/XLSX file; raise UnreadableFile (nothing changed) when it cannot be read.

    `fileobj_or_path` is a path or a binary file object; `source` the door (cli / api / staff); `kind` one of
    KINDS ('arrears' takes both kinds by the 欠缴类型 column; 'enterprise' ignores `as_of`, and `department_code`
    None means the operator acting for the register's keeper, the credit office); `progress(n)` gets the number of
    rows done after each chunk; `limits` bound what the file may cost; `batch` is a queued upload's batch.
    Returns an ImportResult; per-row problems are in it, never raised.
    """
    department, loader_kind = check_door(kind, department_code)
    as_of = _check_as_of(as_of)
    binary = open_binary(fileobj_or_path)
    rows = read_rows(binary, filename, limits)
    batch = batch or _start_batch(department, kind, source, filename, actor)
    try:
        loader = _loader(loader_kind, kind, department, batch, actor)
        try:
            layout = _find_header(rows, loader)
        except UnreadableFile as exc:
            batch.mark(UNREADABLE, exc.message)
            raise
        records = ((n, layout.row(values)) for n, values in rows)
        return _run(loader, records, batch, as_of, progress, limits=limits)
    finally:
        rows.close()
        if binary is not fileobj_or_path:
            binary.close()


def import_items(items, kind, department, source="api", actor="", as_of=None):
    """Load API items (dicts keyed by the Chinese column names); rows are the items' 0-based indexes."""
    department, loader_kind = check_door(kind, department.code)
    as_of = _check_as_of(as_of)
    batch = _start_batch(department, kind, source, "", actor)
    loader = _loader(loader_kind, kind, department, batch, actor)
    layouts_by_keys = {}

    def rows():
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                yield index, item
                continue
            keys = tuple(item)
            layout = layouts_by_keys.get(keys) or layouts_by_keys.setdefault(keys, loader.layout(keys))
            yield index, layout.row(list(item.values()))

    return _run(loader, rows(), batch, as_of, None, unit="项")


def check_door(kind, department_code):
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
                                  filename=(filename or "")[:255], actor=actor[:80], status=RUNNING)


def _find_header(rows, loader):
    """The Layout of the header row: the first of the first HEADER_SCAN non-empty rows holding every required
    column (rows above it are titles); UnreadableFile naming the missing columns otherwise."""
    best = None
    for _ in range(HEADER_SCAN):
        found = next(rows, None)
        if found is None:
            break
        layout = loader.layout(found[1])
        missing = loader.missing_headers(layout)
        if not missing:
            return layout
        if best is None or len(missing) < len(best):
            best = missing
    if best is None:
        raise UnreadableFile("文件为空，没有表头和数据")
    raise UnreadableFile("表头缺少以下列：" + "、".join(best) + "（请使用标准模板的表头）")


def _run(loader, records, batch, as_of, progress, unit="行", limits=NO_LIMITS):
    """Validate and load every row in one transaction, then record the batch and the feeds."""
    result = ImportResult(batch_id=batch.id, kind=batch.kind, as_of=as_of, unit=unit)
    blocked, scopes = set(), set()
    try:
        with db.atomic():
            if is_postgres():
                # Key lookups by IN-lists of 500: with the table's statistics stale (a big load in progress, or a
                # fresh table) the planner's default selectivity makes them full scans, quadratic over a file.
                # And no JIT: those plans' costs would have every chunk's statements compiled, for seconds each.
                db.execute_sql("SET LOCAL enable_seqscan = off; SET LOCAL jit = off")
            sink = _Sink(loader, result, blocked, scopes, unit)
            try:
                chunk, done = [], 0
                for number, row in records:
                    chunk.append(_validated(loader, number, row, sink.seen, result, blocked, unit))
                    if len(chunk) >= CHUNK:
                        done += sink.flush(chunk)
                        chunk = []
                        limits.check_time()
                        if progress:
                            progress(done)
                done += sink.flush(chunk)
                sink.finish()
            finally:
                sink.close()
            if progress:
                progress(done)
            _finish(batch, result, loader, as_of, scopes, blocked)
    except UnreadableFile as exc:
        batch.mark(UNREADABLE, exc.message)
        raise
    except IntegrityError as exc:
        log.exception("import batch %s hit a conflict", batch.id)
        raise _unreadable(batch, "导入时与同时进行的另一次报送发生冲突，本次未作任何更改，请稍后重试") from exc
    except DataError as exc:
        log.exception("import batch %s holds data the database refused", batch.id)
        raise _unreadable(batch, "文件中有无法保存的内容（如控制字符），本次未作任何更改，请检查后重新导出") from exc
    except BaseException:
        batch.mark(FAILED, "导入中断，本次未作任何更改，请重新上传")
        raise
    return result


def _unreadable(batch, message):
    batch.mark(UNREADABLE, message)
    return UnreadableFile(message)


def _validated(loader, number, row, seen, result, blocked, unit):
    """(number, values) for a valid row, or None after recording the rejection or the skip."""
    if not isinstance(row, dict):
        return _reject(result, blocked, number, "", "数据项应为对象（键为列名）", None)
    try:
        values = loader.validate(row)
    except RowSkipped as exc:
        result.skipped_rows.append((number, exc.reason))
        return None
    except RowRejected as exc:
        return _reject(result, blocked, number, exc.column, exc.reason, exc.scope)
    except CELL_FAULTS:
        log.warning("batch %s: %s %s could not be read", loader.batch.id, unit, number, exc_info=True)
        return _reject(result, blocked, number, "", "该行含有无法识别的内容", None)
    key = hash(loader.key(values))
    if key in seen:
        scope = values.get("domain_id") or values.get("kind")
        return _reject(result, blocked, number, loader.key_column, f"与第{_shown(seen[key], unit)}{unit}重复", scope)
    seen[key] = number
    return number, values


def _shown(number, unit):
    """A row as a person counts it: items are numbered from 1 in Chinese text (their `index` stays 0-based)."""
    return number + 1 if unit == "项" else number


def _reject(result, blocked, number, column, reason, scope):
    result.errors.append(RowError(number, column, reason))
    result.rejected += 1
    blocked.add(scope)
    return None


class _Sink:
    """Where validated chunks go: on PostgreSQL a penalty load is staged and merged set-based on a worker thread
    while the next chunk is validated (models/policy/ingestion/staging.py; in-file duplicates of earlier chunks are
    found there, so `seen` holds one chunk's keys); otherwise each chunk is flushed by its loader (one transaction,
    executemany / COPY in chunks) and `seen` holds the file's keys."""

    def __init__(self, loader, result, blocked, scopes, unit):
        self.loader, self.result, self.blocked, self.scopes = loader, result, blocked, scopes
        self.seen = {}
        self.stage = PenaltyStage(loader, self.absorb, unit) if isinstance(loader, PenaltyLoader) and is_postgres() \
            else None

    def flush(self, chunk):
        rows = [item for item in chunk if item is not None]
        if self.stage is not None:
            self.seen.clear()
            self.stage.submit(rows)
        elif rows:
            self.absorb(self.loader.flush(rows))
        return len(chunk)

    def finish(self):
        if self.stage is not None:
            self.stage.finish()

    def close(self):
        if self.stage is not None:
            self.stage.close()

    def absorb(self, outcome):
        result = self.result
        result.imported += outcome.imported
        result.updated += outcome.updated
        result.unchanged += outcome.unchanged
        result.held_rows += outcome.held
        result.outbound += outcome.outbound
        self.scopes.update(outcome.scopes)
        for number, column, reason, scope in outcome.rejected:
            _reject(result, self.blocked, number, column, reason, scope)


def _finish(batch, result, loader, as_of, scopes, blocked):
    result.errors.sort(key=lambda e: e.row)
    lines = [dict(batch=batch, row_number=e.row, column=e.column[:40], reason=e.reason) for e in result.errors]
    lines += [dict(batch=batch, row_number=row, column="", reason=reason, outcome=HELD)
              for row, reason in result.held_rows]
    insert_rows(RejectedRow, lines)
    ImportBatch.update(imported=result.imported, updated=result.updated, unchanged=result.unchanged,
                       rejected=result.rejected, held=result.held, skipped=result.skipped, status=DONE,
                       as_of=as_of, finished_at=utcnow()).where(ImportBatch.id == batch.id).execute()
    batch.status = DONE
    if loader.kind != ENTERPRISE:
        _record_feeds(loader, as_of, blocked)


def _record_feeds(loader, as_of, blocked):
    """Advance 数据截至 for every granted scope of the load except those with rejected rows (see feeds.py)."""
    department = loader.department
    if loader.kind in DOMAIN_KINDS:
        granted = departments.granted_domains(department, loader.kind)
        stopped = granted if None in blocked else granted & blocked
        feeds.record_load(department, loader.kind, sorted(granted - stopped), as_of)
        feeds.touch_load(department, loader.kind, sorted(stopped))
        return
    kinds = [loader.kind]
    if loader.kind == ARREARS:
        kinds = [loader.fixed_kind] if loader.fixed_kind else [k for k in ARREARS_KINDS if k in loader.allowed]
    for kind in kinds:
        if kind in blocked or None in blocked:
            feeds.touch_load(department, kind, [None])
        else:
            feeds.record_load(department, kind, [None], as_of)

