"""Writing loaded rows: bulk inserts (COPY on PostgreSQL), the one diff → save → audit step (`apply_change`), the
audit trail, and 核验 against the enterprise register (which also releases held rows once the enterprise arrives)."""

import datetime as dt
import io
import operator
import re
from decimal import Decimal

from peewee import DecimalField, ForeignKeyField, Model

from models.base import JSONText, db, is_postgres, utcnow
from models.tables.listings import LISTING_MODELS
from models.tables.records import (
    HELD_NAME_MISMATCH,
    HELD_UNKNOWN_USCC,
    REGISTER_HOLDS,
    ArrearsRecord,
    PenaltyRecord,
    RecordChange,
    merge_holds,
    review_of,
)
from models.tables.registry import Enterprise, name_key

COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def record_dict(record):
    """A record's stored fields as JSON-ready values, for the audit trail."""
    out = {}
    for name, value in record.__data__.items():
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal | int | float) and isinstance(record._meta.fields.get(name), DecimalField):
            value = str(Decimal(value).quantize(Decimal(1).scaleb(-record._meta.fields[name].decimal_places)))
        out[name] = value
    return out


def audit(table, record_id, action, actor, batch, before, after):
    """Write one RecordChange row."""
    RecordChange.create(
        table=table, record_id=record_id, action=action, actor=actor, batch=batch, before=before, after=after
    )


def apply_change(record, changes, action, actor, batch=None):
    """The one way a stored record changes: set `changes`, save, and write the audit row (before and after)."""
    before = record_dict(record)
    for name, value in changes.items():
        setattr(record, name, value)
    if "updated_at" in record._meta.fields:
        record.updated_at = utcnow()
    record.save()
    audit(record._meta.table_name, record.id, action, actor, batch, before, record_dict(record))
    return record


def corrects(before, changes, ignored=("raw",)):
    """True when `changes` correct what a report may have shown: a value now differs in substance. A respelling
    (full-width forms, spaces: the text as sent replacing the folded one stored before issue 10) corrects nothing
    and leaves issued reports as they are; so does a change of the unread columns."""
    for name, value in changes.items():
        old = before[name]
        if name in ignored:
            continue
        if isinstance(old, str) and isinstance(value, str) and name_key(old) == name_key(value):
            continue
        if old != value:
            return True
    return False


def audit_created(table, records, actor, batch):
    """One 'create' RecordChange per new record."""
    now = utcnow()
    insert_rows(RecordChange, [dict(table=table, record_id=r.id, action="create", actor=actor, batch=batch, at=now,
                                    after=record_dict(r)) for r in records])


def insert_rows(model, rows):
    """Bulk insert of dicts: COPY on PostgreSQL, executemany on SQLite (peewee's SQL building is slow at scale).

    Missing fields take their defaults (a callable default is called once per call); foreign keys are written as their
    ids and JSON as text, as peewee would (the other values come validated and typed from the loaders).
    """
    if not rows:
        return
    fields = [f for f in model._meta.sorted_fields if not f.primary_key or f.name in rows[0]]
    defaults = {f.name: f.default() if callable(f.default) else f.default for f in fields}
    pick = operator.itemgetter(*[f.name for f in fields])
    keys = [i for i, f in enumerate(fields) if isinstance(f, ForeignKeyField)]
    texts = [(i, f.db_value) for i, f in enumerate(fields) if isinstance(f, JSONText)]
    values = []
    for row in rows:
        value = list(pick({**defaults, **row}))
        for i in keys:
            if isinstance(value[i], Model):
                value[i] = value[i].get_id()
        for i, convert in texts:
            value[i] = convert(value[i])
        values.append(value)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    cursor = db.cursor()
    table = model._meta.table_name
    if is_postgres():
        buffer = io.StringIO("".join("\t".join(map(copy_text, value)) + "\n" for value in values))
        cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', buffer)
    else:
        marks = ", ".join("?" for _ in fields)
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)


def copy_text(value):
    """One value in COPY's text format (faster than CSV for JSON-heavy rows): \\N for NULL, backslash escapes."""
    kind = type(value)
    if kind is str:
        return value.translate(COPY_ESCAPES) if COPY_SPECIAL.search(value) else value
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    return str(value)


def reserve_ids(model, count):
    """`count` ids from the table's sequence (PostgreSQL): COPY writes them, so nothing is read back."""
    cursor = db.execute_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (model._meta.table_name, count),
    )
    return [row[0] for row in cursor.fetchall()]


def plain(values, blanks=True):
    """A row dict as JSON-ready values (models as their ids), for the audit trail of bulk-inserted records; without
    `blanks`, the empty and None values (the columns' defaults) are left out, keeping a wide record's row short."""
    out = {}
    for name, value in values.items():
        kind = type(value)
        if kind is str or kind is int or kind is list or kind is dict:
            if blanks or value != "":
                out[name] = value
        elif value is None:
            if blanks:
                out[name] = None
        elif kind is dt.date or kind is dt.datetime:
            out[name] = value.isoformat()
        elif kind is Decimal:
            out[name] = str(value)
        else:
            out[name] = value.get_id() if hasattr(value, "_meta") else value
    return out


# ---- 核验 against the register ---------------------------------------------------------------------------------------

def same_name(a, b):
    """Names compared as people mean them: full/half width, spaces and bracket styles ignored."""
    return name_key(a) == name_key(b)


def register_holds(registry, code, name):
    """(enterprise id or None, the register's holds) for a row naming `code` and `name` (核验)."""
    found = registry.get(code)
    if found is None:
        return None, [{"code": HELD_UNKNOWN_USCC, "reason": "统一社会信用代码未在企业名录中登记（核验）"}]
    if not same_name(found[1], name):
        return found[0], [{"code": HELD_NAME_MISMATCH,
                           "reason": f"名称与企业名录登记名称“{found[1]}”不一致（核验）"}]
    return found[0], []


def review_for(registry, code, name):
    """(enterprise id or None, review) for a row naming `code` and `name`."""
    enterprise, holds = register_holds(registry, code, name)
    return enterprise, review_of(holds)


def register_lookup(codes):
    """{uscc: (enterprise id, name)} for the registered ones among `codes` (raw SQL: this is the hot path)."""
    codes = list(set(codes))
    found = {}
    for start in range(0, len(codes), 500):
        part = codes[start:start + 500]
        marks = ", ".join(db.obj.param for _ in part)
        cursor = db.execute_sql(f'SELECT id, uscc, name FROM "enterprise" WHERE uscc IN ({marks})', part)
        for ent_id, code, name in cursor.fetchall():
            found[code] = (ent_id, name)
    return found


def enterprises_by_uscc(codes):
    """Enterprise rows for a set of USCCs, keyed by USCC."""
    codes = list(codes)
    found = {}
    for start in range(0, len(codes), 500):
        for ent in Enterprise.select().where(Enterprise.uscc.in_(codes[start:start + 500])):
            found[ent.uscc] = ent
    return found


def with_register(record_holds, registry, code, name):
    """(enterprise id, holds, review): a record's other holds kept, the register's decided again."""
    enterprise, found = register_holds(registry, code, name)
    holds = merge_holds(record_holds, REGISTER_HOLDS, found)
    return enterprise, holds, review_of(holds)


def recheck_held(codes, actor, batch):
    """Records held for an unknown USCC are checked again once the enterprise is registered."""
    registry = register_lookup(codes)
    if not registry:
        return
    for model in (PenaltyRecord, ArrearsRecord, *LISTING_MODELS.values()):
        held = model.select().where(model.uscc.in_(list(registry)) & (model.review == HELD_UNKNOWN_USCC))
        for record in held:
            enterprise, holds, review = with_register(record.holds, registry, record.uscc, record.subject_name)
            apply_change(record, {"enterprise": enterprise, "holds": holds, "review": review}, "recheck", actor,
                         batch)
