"""Set-based loading of penalty rows on PostgreSQL: the validated rows of a chunk are COPYed into a TEMP table, then
merged by a few statements over the whole chunk, while the next chunk is read and validated.

Per chunk (`PenaltyStage.load`, on a worker thread using the load's own connection, inside its transaction):
  1. 核验: the register's entries for the chunk's USCCs in one query; each row's holds and review.
  2. `COPY` of the chunk into `penalty_chunk` (TEMP, dropped with the transaction).
  3. Duplicates of an earlier chunk, from `penalty_seen` (TEMP: the hashes of the keys loaded so far, as the
     row-by-row path's `seen` holds them, and their row numbers: the file's keys stay in the database, not in memory).
  4. Each row matched once against the stored records and compared column by column in SQL: those the same as
     stored (and trivially so: not withdrawn, of a granted domain) are counted; only those that differ, withdraw, or
     are held come back, with the new rows that correct or withdraw nothing or are held.
  5. The new rows: `INSERT … SELECT` into penalty_record and, in the same statement, their 'create' audit rows by
     `INSERT … SELECT` with the after-image built by the database (what `plain(record, blanks=False)` gives).
The main thread then applies, through `PenaltyLoader._change` (diff, save, audit, reports marked corrected), the few
rows that change a stored record, and reports the rejected and held ones exactly as the row-by-row path does.
"""

import json
import logging
import operator
from concurrent.futures import ThreadPoolExecutor

import peewee

from models.base import db, utcnow
from models.policy.ingestion.cells import Outcome, RowRejected
from models.policy.ingestion.penalties import COMPARED, stored_penalties
from models.policy.ingestion.storage import register_holds, register_lookup
from models.tables.records import ACTIVE, WITHDRAWN, PenaltyRecord, merge_holds, review_of

log = logging.getLogger(__name__)
ADD, WITHDRAW = "新增", "撤销"
NULL = "\\N"
ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
FIELDS = [f for f in PenaltyRecord._meta.sorted_fields if not f.primary_key]
COLUMNS = [f.column_name for f in FIELDS]
NAMES = [f.name for f in FIELDS]
COLUMN_LIST = ", ".join(f'"{c}"' for c in COLUMNS)
# A chunk row: the values as validated (SENT), then what the load adds (ADDED), the row number and 操作.
ADDED = ("enterprise", "domain", "status", "department", "batch", "created_at", "updated_at", "holds", "raw", "review")
SENT = [name for name in NAMES if name not in ADDED]
PICK = operator.itemgetter(*SENT)
COLUMN_OF = {f.name: f.column_name for f in FIELDS}
CHUNK_COLUMNS = ", ".join(f'"{COLUMN_OF[name]}"' for name in (*SENT, *ADDED)) + ", row_number, op, key_hash"
MATCH = "p.decision_key = c.decision_key AND p.authority_key = c.authority_key"
DIFFERS = " OR ".join(f"c.{c}::jsonb IS DISTINCT FROM p.{c}::jsonb" if c == "raw" else f"c.{c} IS DISTINCT FROM p.{c}"
                      for c in COMPARED)  # the names are the columns' (domain_id)
TRIVIAL = (f"c.op <> '{WITHDRAW}' AND p.status <> '{WITHDRAWN}' AND p.domain_id = ANY(%(granted)s) "
           f"AND NOT ({DIFFERS})")


def _after_image():
    """The 'create' audit row's after-image, built by the database from the inserted row `fresh`: blanks and NULLs
    left out, decimals and dates as text, the JSON columns nested, the timestamps as Python writes them."""
    parts = ["'id', fresh.id"]
    for field in FIELDS:
        column = f'fresh."{field.column_name}"'
        if field.name in ("created_at", "updated_at"):
            value = "%(now)s"
        elif field.name in ("holds", "raw"):
            value = f"{column}::json"
        elif isinstance(field, peewee.DecimalField):
            value = f"{column}::text"
        elif isinstance(field, peewee.DateField):
            value = f"to_char({column}, 'YYYY-MM-DD')"
        elif isinstance(field, peewee.CharField | peewee.TextField):
            value = f"NULLIF({column}, '')"
        else:
            value = column
        parts.append(f"'{field.name}', {value}")
    return f"json_strip_nulls(json_build_object({', '.join(parts)}))::text"  # json: text built, never parsed


SETUP = f"""
DROP TABLE IF EXISTS pg_temp.penalty_chunk, pg_temp.penalty_seen;
CREATE TEMP TABLE penalty_chunk ON COMMIT DROP AS SELECT {COLUMN_LIST} FROM penalty_record WITH NO DATA;
ALTER TABLE penalty_chunk ADD COLUMN row_number integer, ADD COLUMN op text, ADD COLUMN key_hash bigint;
CREATE TEMP TABLE penalty_seen (key_hash bigint PRIMARY KEY, row_number integer) ON COMMIT DROP;
"""
DUPLICATES = "SELECT c.row_number, s.row_number FROM penalty_chunk c JOIN penalty_seen s USING (key_hash)"
REMEMBER = "INSERT INTO penalty_seen SELECT key_hash, row_number FROM penalty_chunk"
# Each chunk row matched once against the stored records: back come only the rows Python must see (new ones that
# correct or withdraw nothing, or are held; stored ones that change, withdraw, or are held) and the unchanged count.
CLASSIFY = f"""
WITH m AS MATERIALIZED (
    SELECT c.row_number, c.op, c.review AS sent, p.id AS record_id, p.review, p.holds, p.domain_id,
           p.id IS NOT NULL AND {TRIVIAL} AS trivial
    FROM penalty_chunk c LEFT JOIN penalty_record p ON {MATCH})
SELECT 'new', row_number, NULL, NULL FROM m WHERE record_id IS NULL AND (op <> '{ADD}' OR sent <> 'verified')
UNION ALL
SELECT CASE WHEN trivial THEN 'held' ELSE 'change' END, row_number, review, holds FROM m
    WHERE record_id IS NOT NULL AND (NOT trivial OR review <> 'verified')
UNION ALL
SELECT 'unchanged', count(*)::int, to_json(array_agg(DISTINCT domain_id))::text, NULL FROM m WHERE trivial
"""
INSERT = f"""
WITH fresh AS (
    INSERT INTO penalty_record ({COLUMN_LIST})
    SELECT {", ".join(f'c."{c}"' for c in COLUMNS)} FROM penalty_chunk c
    WHERE c.op = '{ADD}' AND NOT EXISTS (SELECT 1 FROM penalty_record p WHERE {MATCH})
    ORDER BY c.row_number
    RETURNING *
), audit AS (
    INSERT INTO record_change ("table", record_id, action, actor, batch_id, "at", before, after)
    SELECT 'penalty_record', fresh.id, 'create', %(actor)s, %(batch)s, %(at)s, NULL, {_after_image()} FROM fresh
)
SELECT count(*), array_agg(DISTINCT domain_id) FROM fresh
"""


def copy_line(values):
    """One row (a list) in COPY's text format: \\N for NULL, backslash escapes (values: str, int, date, Decimal).
    The common row, with nothing to escape, is told by counting in C: one tab per column, one backslash per NULL."""
    parts = [NULL if v is None else v if type(v) is str else str(v) for v in values]
    line = "\t".join(parts)
    if (line.count("\t") != len(parts) - 1 or line.count("\\") != values.count(None) or "\n" in line
            or "\r" in line):
        line = "\t".join(NULL if v is None else p.translate(ESCAPES) for v, p in zip(values, parts, strict=True))
    return line


class ChunkFile:
    """A file-like object over COPY lines for copy_expert, produced as it reads (no whole chunk text in memory)."""

    def __init__(self, lines):
        self.lines = lines
        self.buffer = ""

    def read(self, size=-1):
        size = 1 << 16 if size is None or size < 0 else size
        parts, length = [self.buffer], len(self.buffer)
        for line in self.lines:
            parts.append(line)
            parts.append("\n")
            length += len(line) + 1
            if length >= size:
                break
        text = "".join(parts)
        self.buffer = text[size:]
        return text[:size]



class PenaltyStage:
    """The PostgreSQL set-based path of one PenaltyLoader's load: `submit(rows)` hands a chunk's validated rows
    ([(number, values)]) to the worker thread and absorbs the previous chunk's outcome; `finish()` the last."""

    def __init__(self, loader, absorb, unit):
        self.loader = loader
        self.absorb = absorb  # absorb(outcome) of ingest: the counts, lines and rejections of a chunk
        self.unit = unit
        self.connection = db.connection()
        self.pending = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-stage")
        self.granted = sorted(loader.granted)
        self._execute(SETUP)

    # -- the main thread --------------------------------------------------------------------------------------

    def submit(self, rows):
        self.finish()
        if rows:
            self.pending = (rows, self.executor.submit(self._load, rows, utcnow()))

    def finish(self):
        if self.pending is None:
            return
        rows, future = self.pending
        self.pending = None
        self.absorb(self._outcome(rows, future.result()))

    def close(self):
        """Wait for the worker (the connection is not to be used by two threads) and stop it; an error it raised
        is the caller's to see through `finish`; one raised while the caller was failing already is logged."""
        if self.pending is not None:
            _rows, future = self.pending
            self.pending = None
            failed = future.exception()
            if failed is not None:
                log.warning("batch %s: the chunk being merged failed too", self.loader.batch.id, exc_info=failed)
        self.executor.shutdown(wait=True)

    def _outcome(self, rows, found):
        """The Outcome of a chunk from what the database found: rejections, holds and the rows that change."""
        loader = self.loader
        by_number = dict(rows)
        out = Outcome()
        out.imported, out.unchanged = found["inserted"], found["unchanged"]
        out.scopes.update(found["scopes"])
        for number, first in found["duplicates"]:
            values = by_number[number]
            shown = first + 1 if self.unit == "项" else first
            out.reject(number, loader.key_column, f"与第{shown}{self.unit}重复", values.get("domain_id"))
        for number, _review, _holds in found["new"]:
            values = by_number[number]
            try:
                loader.check_new(values)
            except RowRejected as exc:
                out.reject(number, exc.column, exc.reason, exc.scope)
                continue
            out.hold(number, values["review"], values["record_holds"])
        for number, review, holds in found["held"]:
            out.hold(number, review, json.loads(holds) if holds else None)
        changing = [(number, by_number[number]) for number, _review, _holds in found["change"]]
        if changing:
            existing = stored_penalties({loader.key(v) for _, v in changing})
            registry = register_lookup(v["uscc"] for _, v in changing if "uscc" in v)
            for number, values in changing:
                try:
                    loader._change(existing[loader.key(values)], values, registry, out, number)
                except RowRejected as exc:
                    out.reject(number, exc.column, exc.reason, exc.scope)
        out.held.sort()
        return out

    # -- the worker thread --------------------------------------------------------------------------------------

    def _execute(self, sql, params=None):
        with peewee.__exception_wrapper__, self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def _load(self, rows, now):
        loader = self.loader
        registry = register_lookup(v["uscc"] for _, v in rows if "uscc" in v)
        with peewee.__exception_wrapper__, self.connection.cursor() as cursor:
            cursor.execute("TRUNCATE penalty_chunk")
            lines = (copy_line(self._record(number, values, registry, now)) for number, values in rows)
            cursor.copy_expert(f"COPY penalty_chunk ({CHUNK_COLUMNS}) FROM STDIN",
                               ChunkFile(lines), size=1 << 16)
        duplicates = self._execute(DUPLICATES)
        if duplicates:
            self._execute("DELETE FROM penalty_chunk WHERE row_number = ANY(%s)", ([n for n, _ in duplicates],))
        self._execute(REMEMBER)
        classified = {"new": [], "held": [], "change": []}
        for kind, number, review, holds in self._execute(CLASSIFY, {"granted": self.granted}):
            if kind == "unchanged":
                unchanged, kept = number, json.loads(review or "[]")
            else:
                classified[kind].append((number, review, holds))
        [(inserted, added)] = self._execute(INSERT, {"actor": loader.actor, "batch": loader.batch.id,
                                                     "at": now, "now": now.isoformat()})
        return {"duplicates": duplicates, "unchanged": unchanged, "inserted": inserted, **classified,
                "scopes": {d for d in kept + (added or []) if d is not None}}

    def _record(self, number, values, registry, now):
        """The chunk row of `values` (in CHUNK_COLUMNS' order): the record as it would be inserted (核验 done), its
        row number and 操作."""
        loader = self.loader
        if "uscc" in values:
            enterprise, found = register_holds(registry, values["uscc"], values["subject_name"])
            holds = merge_holds(values["holds"], (), found) if found or values["holds"] else None
            sent = list(PICK(values))
        else:  # a withdrawal carries its key only
            enterprise, holds = None, None
            sent = [values.get(name) for name in SENT]
        review = review_of(holds)
        values["record_holds"], values["review"] = holds, review
        raw = values.get("raw")
        sent += (enterprise, values.get("domain_id"), ACTIVE, loader.department.id, loader.batch.id, now, now,
                 _json(holds), None if raw is None else _json(raw), review, number, values["op"],
                 hash(loader.key(values)))
        return sent


def _json(value):
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
