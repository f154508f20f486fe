"""One loader per data kind: the columns, the validation of one row, and the bulk upsert of a chunk of valid rows.

Natural keys (re-importing never duplicates):
  enterprise  统一社会信用代码
  penalty     行政处罚决定书文号 + 处罚机关
  arrears     欠缴类型 + 统一社会信用代码 + 欠缴起始月份 + the department
  repair      the penalty (文号 + 机关) + 修复决定文号
A row whose key already exists updates the stored record when a field differs (counted as updated), else it is
unchanged. `操作` = 更正 requires the record to exist; 撤销 withdraws it.
核验: a penalty or arrears row whose USCC is not in the enterprise register, or whose name disagrees with the
register, is stored but held for staff review.
"""

import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from peewee import DecimalField, ForeignKeyField

from models.base import JSONText, db, is_postgres, local_today, to_local, utcnow
from models.policy import departments, uscc
from models.policy.ingestion.formats import CellError, month_end, parse_date, parse_decimal, parse_month, text
from models.policy.report.corrections import mark_reports_corrected, mark_reports_corrected_for_arrears
from models.tables.accounts import Binding
from models.tables.records import (
    ACTIVE,
    HELD_NAME_MISMATCH,
    HELD_UNKNOWN_USCC,
    ORDINARY,
    REPAIRED,
    SIMPLIFIED,
    VERIFIED,
    WITHDRAWN,
    ArrearsRecord,
    CreditRepair,
    PenaltyRecord,
    RecordChange,
)
from models.tables.registry import (
    ARREARS_KINDS,
    DATA_KINDS,
    FUND_ARREARS,
    PENALTY,
    REPAIR,
    SOCIAL_ARREARS,
    Domain,
    Enterprise,
)
from models.tables.reports import OutboundMessage

OP_ADD, OP_CORRECT, OP_WITHDRAW = "新增", "更正", "撤销"
OPERATIONS = {"": OP_ADD, OP_ADD: OP_ADD, OP_CORRECT: OP_CORRECT, OP_WITHDRAW: OP_WITHDRAW}
ARREARS_LABELS = {
    "社保": SOCIAL_ARREARS, "社会保险": SOCIAL_ARREARS, "社会保险费": SOCIAL_ARREARS, "社保欠缴": SOCIAL_ARREARS,
    "公积金": FUND_ARREARS, "住房公积金": FUND_ARREARS, "公积金欠缴": FUND_ARREARS,
}
YES = {"是", "已补缴", "Y", "YES", "TRUE", "1"}
NO = {"", "否", "未补缴", "N", "NO", "FALSE", "0"}
MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_FINE_WAN = Decimal("9999999999")
MAX_AMOUNT = Decimal("999999999999")
COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class RowRejected(Exception):
    """One row cannot be accepted: the column and the Chinese reason."""

    def __init__(self, column, reason, scope=None):
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.scope = scope  # the domain id or arrears kind the row was meant for, when known


@dataclass
class Outcome:
    """What a chunk did; `scopes` are the domain ids / arrears kinds the accepted rows were for."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    held: int = 0
    rejected: list = field(default_factory=list)  # (row, column, reason, scope)
    scopes: set = field(default_factory=set)
    outbound: list = field(default_factory=list)  # OutboundMessage ids for the delivery job (owners told of a change)

    def reject(self, row, column, reason, scope=None):
        self.rejected.append((row, column, reason, scope))


def same_name(a, b):
    """Names compared as people mean them: full/half width, spaces and bracket styles ignored."""
    def fold(s):
        return unicodedata.normalize("NFKC", s or "").replace(" ", "")

    return fold(a) == fold(b)


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


def insert_rows(model, rows):
    """Bulk insert of dicts: COPY on PostgreSQL, executemany on SQLite (peewee's SQL building is slow at scale).

    Missing fields take their defaults; foreign keys and JSON are converted by their field, as peewee would (the
    other values come validated and typed from the loaders).
    """
    if not rows:
        return
    fields = [f for f in model._meta.sorted_fields if not f.primary_key or f.name in rows[0]]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    plan = [(f.name, f.db_value if isinstance(f, ForeignKeyField | JSONText) else None, f.default) for f in fields]
    values = [tuple(_value(row, name, convert, default) for name, convert, default in plan) for row in rows]
    cursor = db.cursor()
    table = model._meta.table_name
    if is_postgres():
        buffer = io.StringIO("".join("\t".join(map(copy_text, row)) + "\n" for row in values))
        cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', buffer)
    else:
        marks = ", ".join("?" for _ in fields)
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)


def reserve_ids(model, count):
    """`count` ids from the table's sequence (PostgreSQL): COPY writes them, so nothing is read back."""
    cursor = db.execute_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (model._meta.table_name, count),
    )
    return [row[0] for row in cursor.fetchall()]


def _value(row, name, convert, default):
    value = row[name] if name in row else _default(default)
    return convert(value) if convert else value


def _default(default):
    return default() if callable(default) else default


def copy_text(value):
    """One value in COPY's text format: \\N for NULL, backslash escapes for the separators."""
    kind = type(value)
    if kind is str:
        return value.translate(COPY_ESCAPES) if COPY_SPECIAL.search(value) else value
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    return str(value)


def plain(values):
    """A row dict as JSON-ready values (models as their ids), for the audit trail of bulk-inserted records."""
    out = {}
    for name, value in values.items():
        kind = type(value)
        if kind is str or kind is int or value is None:
            out[name] = value
        elif kind is dt.date or kind is dt.datetime:
            out[name] = value.isoformat()
        elif kind is Decimal:
            out[name] = str(value)
        else:
            out[name] = value.get_id() if hasattr(value, "_meta") else value
    return out


def audit(table, record_id, action, actor, batch, before, after):
    """Write one RecordChange row."""
    RecordChange.create(
        table=table, record_id=record_id, action=action, actor=actor, batch=batch, before=before, after=after
    )


def review_for(registry, code, name):
    """(enterprise id or None, review) for a row naming `code` and `name`; `registry` from register_lookup (核验)."""
    found = registry.get(code)
    if found is None:
        return None, HELD_UNKNOWN_USCC
    if not same_name(found[1], name):
        return found[0], HELD_NAME_MISMATCH
    return found[0], VERIFIED


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


# ---- cell helpers -------------------------------------------------------------------------------------------------

def required(row, column, max_length=None):
    value = text(row.get(column))
    if not value:
        raise RowRejected(column, "不能为空")
    return limited(value, column, max_length)


def optional(row, column, max_length=None):
    return limited(text(row.get(column)), column, max_length)


def limited(value, column, max_length):
    if max_length and len(value) > max_length:
        raise RowRejected(column, f"超过{max_length}个字符")
    return value


def uscc_cell(row, column="统一社会信用代码"):
    raw = row.get(column)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise RowRejected(column, "统一社会信用代码被Excel存成了数字（会丢失位数），请将该列设为文本后重新填写")
    try:
        return uscc.validate(raw)
    except uscc.InvalidUSCC as exc:
        raise RowRejected(column, exc.message) from None


def date_cell(row, column, needed=True, not_future=True):
    raw = row.get(column)
    if text(raw) == "":
        if needed:
            raise RowRejected(column, "不能为空")
        return None
    try:
        value = parse_date(raw)
    except CellError as exc:
        raise RowRejected(column, str(exc)) from None
    if not_future and value > local_today():
        raise RowRejected(column, f"日期{value.isoformat()}晚于今天")
    return value


def decimal_cell(row, column, places, maximum):
    try:
        value = parse_decimal(row.get(column), places)
    except CellError as exc:
        raise RowRejected(column, str(exc)) from None
    if value is not None and value > maximum:
        raise RowRejected(column, "金额过大，请核对单位")
    return value


def operation(row):
    raw = text(row.get("操作"))
    if raw not in OPERATIONS:
        raise RowRejected("操作", f"“{raw}”无法识别，应为新增、更正或撤销")
    return OPERATIONS[raw]


# ---- loaders -------------------------------------------------------------------------------------------------------

class Loader:
    """Base: `columns` (header → required?), `validate(row)` → dict or RowRejected, `flush(rows)` → Outcome."""

    kind = ""
    table = ""
    key_column = ""
    columns = {}

    def __init__(self, department, batch, actor):
        self.department = department
        self.batch = batch
        self.actor = actor

    def required_headers(self):
        return [c for c, needed in self.columns.items() if needed]

    def key(self, values):
        raise NotImplementedError

    def upsert(self, rows, existing, registry, scope_of):
        """New rows inserted together, known ones changed; a rejected row (its scope from `scope_of(exc, values)`)
        never stops the others."""
        out, fresh = Outcome(), []
        for number, values in rows:
            record = existing.get(self.key(values))
            try:
                if record is None:
                    fresh.append(self._new(values, registry))
                else:
                    self._change(record, values, registry, out)
            except RowRejected as exc:
                out.reject(number, exc.column, exc.reason, scope_of(exc, values))
        self._insert(fresh, out)
        return out

    def audit_created(self, records):
        """One 'create' RecordChange per new record."""
        now = utcnow()
        insert_rows(RecordChange, [dict(table=self.table, record_id=r.id, action="create", actor=self.actor,
                                        batch=self.batch, at=now, after=record_dict(r)) for r in records])


class EnterpriseLoader(Loader):
    kind = "enterprise"
    table = "enterprise"
    key_column = "统一社会信用代码"
    columns = {"企业名称": True, "统一社会信用代码": True, "法定代表人": False, "联系电话": False,
               "注册地址": False, "所属区县": False}
    fields = ("name", "legal_rep", "mobile", "address", "county")

    def validate(self, row):
        values = {
            "name": required(row, "企业名称", 200),
            "uscc": uscc_cell(row),
            "legal_rep": optional(row, "法定代表人", 100),
            "mobile": optional(row, "联系电话", 20).replace("-", "").replace(" ", ""),
            "address": optional(row, "注册地址", 2000),
            "county": optional(row, "所属区县", 40),
        }
        if values["mobile"].startswith("+86"):
            values["mobile"] = values["mobile"][3:]
        if values["mobile"] and not MOBILE.match(values["mobile"]):
            raise RowRejected("联系电话", f"“{values['mobile']}”不是有效的手机号码（用于短信核验绑定）")
        return values

    def key(self, values):
        return values["uscc"]

    def flush(self, rows):
        out = Outcome()
        existing = enterprises_by_uscc(v["uscc"] for _, v in rows)
        fresh = []
        now = utcnow()
        for _, values in rows:
            ent = existing.get(values["uscc"])
            if ent is None:
                fresh.append(dict(values, created_at=now, updated_at=now))
                continue
            changed = {f: values[f] for f in self.fields if getattr(ent, f) != values[f]}
            if not changed:
                out.unchanged += 1
                continue
            before = record_dict(ent)
            mobile_replaced = "mobile" in changed and bool(ent.mobile)
            for name, value in changed.items():
                setattr(ent, name, value)
            ent.updated_at = now
            if mobile_replaced:
                ent.mobile_changed_at = now
            ent.save()
            action = "mobile_change" if mobile_replaced else "update"
            audit(self.table, ent.id, action, self.actor, self.batch, before, record_dict(ent))
            if mobile_replaced:
                out.outbound += tell_owners_mobile_changed(ent, before["mobile"], self.department, self.batch)
            out.updated += 1
        if fresh:
            insert_rows(Enterprise, fresh)
            created = enterprises_by_uscc(v["uscc"] for v in fresh)
            self.audit_created(created.values())
            out.imported += len(fresh)
        recheck_held([v["uscc"] for _, v in rows], self.actor, self.batch)
        return out


def _masked(mobile):
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else (mobile or "空号码")


def tell_owners_mobile_changed(enterprise, old_mobile, department, batch):
    """Queue a notice to everyone bound to `enterprise` that its registered mobile changed; return the row ids. The
    row keeps the facts; jobs/notice_kinds.py composes the text and the template fields."""
    owners = Binding.select(Binding.user).where((Binding.enterprise == enterprise) & Binding.revoked_at.is_null())
    changed = to_local(enterprise.mobile_changed_at)
    facts = {"name": enterprise.name, "when": f"{changed:%Y年%m月%d日}", "at": f"{changed:%Y-%m-%d %H:%M}",
             "old": _masked(old_mobile), "new": _masked(enterprise.mobile), "source": department.name}
    return [
        OutboundMessage.create_once(
            binding.user_id, "notice", {"notice": "mobile_changed", "facts": facts, "url": None},
            f"mobile-changed:{enterprise.id}:{batch.id}:{binding.user_id}").id
        for binding in owners
    ]


def recheck_held(codes, actor, batch):
    """Records held for an unknown USCC are checked again once the enterprise is registered."""
    registry = register_lookup(codes)
    for model, table in ((PenaltyRecord, "penalty_record"), (ArrearsRecord, "arrears_record")):
        held = model.select().where(model.uscc.in_(list(registry)) & (model.review == HELD_UNKNOWN_USCC))
        for record in held:
            before = record_dict(record)
            record.enterprise, record.review = review_for(registry, record.uscc, record.subject_name)
            record.updated_at = utcnow()
            record.save()
            audit(table, record.id, "recheck", actor, batch, before, record_dict(record))


class PenaltyLoader(Loader):
    kind = PENALTY
    table = "penalty_record"
    key_column = "行政处罚决定书文号"
    columns = {
        "行政相对人名称": True, "统一社会信用代码": True, "行政处罚决定书文号": True, "违法行为类型": False,
        "违法事实": False, "处罚依据": False, "处罚类别": True, "处罚内容": False, "罚款金额（万元）": False,
        "处罚决定日期": True, "处罚机关": True, "数据来源单位": False, "领域": True, "程序类型": True, "操作": False,
    }
    fields = ("subject_name", "uscc", "violation_type", "facts", "basis", "category", "content", "fine_wan",
              "decided_on", "source_unit", "domain_id", "procedure")

    def __init__(self, department, batch, actor):
        super().__init__(department, batch, actor)
        self.domains = {}
        for domain in Domain.select().where(Domain.active == True):  # noqa: E712
            for name in [domain.code, domain.name, *domain.alias_list()]:
                self.domains[name] = domain
        self.granted = departments.granted_domains(department, PENALTY)

    def domain_cell(self, row):
        name = required(row, "领域")
        domain = self.domains.get(name) or self.domains.get(name.lower())
        if domain is None:
            raise RowRejected("领域", f"领域“{name}”不存在")
        if domain.id not in self.granted:
            raise RowRejected("领域", f"本单位无权报送“{domain.name}”领域的数据")
        return domain.id

    def validate(self, row):
        op = operation(row)
        key = {"op": op, "decision_no": required(row, "行政处罚决定书文号", 120),
               "authority": required(row, "处罚机关", 200)}
        if op == OP_WITHDRAW:
            return key
        domain_id = self.domain_cell(row)
        try:
            return dict(key, **self._fields(row), domain_id=domain_id)
        except RowRejected as exc:
            exc.scope = domain_id
            raise

    def _fields(self, row):
        procedure = required(row, "程序类型")
        if procedure not in (ORDINARY, SIMPLIFIED):
            raise RowRejected("程序类型", f"“{procedure}”无法识别，应为普通程序或简易程序")
        return {
            "subject_name": required(row, "行政相对人名称", 200),
            "uscc": uscc_cell(row),
            "violation_type": optional(row, "违法行为类型"),
            "facts": optional(row, "违法事实"),
            "basis": optional(row, "处罚依据"),
            "category": required(row, "处罚类别", 120),
            "content": optional(row, "处罚内容"),
            "fine_wan": decimal_cell(row, "罚款金额（万元）", 4, MAX_FINE_WAN),
            "decided_on": date_cell(row, "处罚决定日期"),
            "source_unit": optional(row, "数据来源单位", 200),
            "procedure": procedure,
        }

    def key(self, values):
        return (values["decision_no"], values["authority"])

    def flush(self, rows):
        existing = penalties_by_key({self.key(v) for _, v in rows})
        registry = register_lookup(v["uscc"] for _, v in rows if "uscc" in v)
        return self.upsert(rows, existing, registry, lambda exc, values: exc.scope)

    def _new(self, values, registry):
        if values["op"] == OP_CORRECT:
            raise RowRejected("操作", "未找到要更正的原记录（按行政处罚决定书文号和处罚机关）", values["domain_id"])
        if values["op"] == OP_WITHDRAW:
            raise RowRejected("操作", "未找到要撤销的原记录（按行政处罚决定书文号和处罚机关）")
        enterprise, review = review_for(registry, values["uscc"], values["subject_name"])
        now = utcnow()
        record = {k: v for k, v in values.items() if k not in ("op", "domain_id")}
        return dict(record, domain=values["domain_id"], enterprise=enterprise, review=review, status=ACTIVE,
                    department=self.department, batch=self.batch, created_at=now, updated_at=now)

    def _insert(self, fresh, out):
        if not fresh:
            return
        if is_postgres():
            for row, new_id in zip(fresh, reserve_ids(PenaltyRecord, len(fresh)), strict=True):
                row["id"] = new_id
            insert_rows(PenaltyRecord, fresh)
            ids = {(r["decision_no"], r["authority"]): r["id"] for r in fresh}
        else:
            insert_rows(PenaltyRecord, fresh)
            ids = penalty_ids({(r["decision_no"], r["authority"]) for r in fresh})
        now = utcnow()
        insert_rows(RecordChange, [
            dict(table=self.table, record_id=ids[(r["decision_no"], r["authority"])], action="create", actor=self.actor,
                 batch=self.batch, at=now, after=plain(dict(r, id=ids[(r["decision_no"], r["authority"])])))
            for r in fresh
        ])
        out.imported += len(fresh)
        out.held += sum(1 for r in fresh if r["review"] != VERIFIED)
        out.scopes.update(r["domain"] for r in fresh)

    def _change(self, record, values, registry, out):
        if record.domain_id not in self.granted:
            raise RowRejected("行政处罚决定书文号", "该文号的记录由其他单位报送，本单位无权修改")
        out.scopes.add(record.domain_id)
        if values["op"] == OP_WITHDRAW:
            return self._withdraw(record, out)
        if record.status == WITHDRAWN and values["op"] != OP_CORRECT:
            raise RowRejected("操作", "该记录已撤销；如需恢复，请以“更正”报送", record.domain_id)
        changed = {f: values[f] for f in self.fields if getattr(record, f) != values[f]}
        reopen = record.status == WITHDRAWN
        if not changed and not reopen:
            out.unchanged += 1
            out.held += record.review != VERIFIED
            return
        before = record_dict(record)
        for name, value in changed.items():
            setattr(record, name, value)
        if "uscc" in changed or "subject_name" in changed:
            record.enterprise, record.review = review_for(registry, record.uscc, record.subject_name)
        if reopen:
            record.status = ACTIVE
        record.updated_at = utcnow()
        record.save()
        action = "correct" if values["op"] == OP_CORRECT else "update"
        audit(self.table, record.id, action, self.actor, self.batch, before, record_dict(record))
        mark_reports_corrected(record.id, f"{self.department.name}更正了处罚决定书{record.decision_no}的数据")
        out.updated += 1
        out.held += record.review != VERIFIED

    def _withdraw(self, record, out):
        if record.status == WITHDRAWN:
            out.unchanged += 1
            return
        before = record_dict(record)
        record.status = WITHDRAWN
        record.updated_at = utcnow()
        record.save()
        audit(self.table, record.id, "withdraw", self.actor, self.batch, before, record_dict(record))
        mark_reports_corrected(record.id, f"{self.department.name}撤销了处罚决定书{record.decision_no}")
        out.updated += 1


def penalty_ids(keys):
    """Ids of PenaltyRecords for a set of (decision_no, authority)."""
    numbers = list({k[0] for k in keys})
    found = {}
    for start in range(0, len(numbers), 500):
        query = (PenaltyRecord.select(PenaltyRecord.id, PenaltyRecord.decision_no, PenaltyRecord.authority)
                 .where(PenaltyRecord.decision_no.in_(numbers[start:start + 500])).tuples())
        for record_id, number, authority in query:
            if (number, authority) in keys:
                found[(number, authority)] = record_id
    return found


def penalties_by_key(keys):
    """PenaltyRecords for a set of (decision_no, authority), keyed by it."""
    numbers = list({k[0] for k in keys})
    found = {}
    for start in range(0, len(numbers), 500):
        query = PenaltyRecord.select().where(PenaltyRecord.decision_no.in_(numbers[start:start + 500]))
        for record in query:
            if (record.decision_no, record.authority) in keys:
                found[(record.decision_no, record.authority)] = record
    return found


class ArrearsLoader(Loader):
    kind = "arrears"
    table = "arrears_record"
    key_column = "统一社会信用代码"
    columns = {"单位名称": True, "统一社会信用代码": True, "欠缴类型": False, "欠缴起始月份": True,
               "欠缴截止月份": True, "欠缴金额（元）": True, "是否已补缴": False, "补缴日期": False, "操作": False}
    fields = ("subject_name", "period_end", "amount", "settled", "settled_on")

    def __init__(self, department, batch, actor, kind=None):
        super().__init__(department, batch, actor)
        self.fixed_kind = kind if kind in ARREARS_KINDS else None
        self.allowed = {k for k in ARREARS_KINDS if departments.may_write(department, k)}

    def kind_cell(self, row):
        label = text(row.get("欠缴类型"))
        if not label and self.fixed_kind:
            return self.fixed_kind
        if not label and len(self.allowed) == 1:
            return next(iter(self.allowed))
        kind = ARREARS_LABELS.get(label)
        if kind is None:
            raise RowRejected("欠缴类型", f"“{label}”无法识别，应为社保或公积金")
        if self.fixed_kind and kind != self.fixed_kind:
            raise RowRejected("欠缴类型", "与请求的数据类型不一致")
        if kind not in self.allowed:
            raise RowRejected("欠缴类型", f"本单位无权报送{'社保' if kind == SOCIAL_ARREARS else '公积金'}欠缴数据")
        return kind

    def validate(self, row):
        kind = self.kind_cell(row)
        try:
            return self._fields(row, kind)
        except RowRejected as exc:
            exc.scope = kind
            raise

    def _fields(self, row, kind):
        op = operation(row)
        start = self._month(row, "欠缴起始月份")
        if start > local_today():
            raise RowRejected("欠缴起始月份", "起始月份晚于本月")
        values = {"op": op, "kind": kind, "uscc": uscc_cell(row), "period_start": start,
                  "subject_name": required(row, "单位名称", 200)}
        if op == OP_WITHDRAW:
            return values
        end = month_end(self._month(row, "欠缴截止月份"))
        if end < start:
            raise RowRejected("欠缴截止月份", "截止月份早于起始月份")
        amount = decimal_cell(row, "欠缴金额（元）", 2, MAX_AMOUNT)
        if not amount:
            raise RowRejected("欠缴金额（元）", "欠缴金额应大于0")
        settled = self._settled(row)
        settled_on = date_cell(row, "补缴日期", needed=settled)
        if settled_on and not settled:
            raise RowRejected("补缴日期", "填写了补缴日期，但“是否已补缴”不是“是”")
        if settled_on and settled_on < start:
            raise RowRejected("补缴日期", "补缴日期早于欠缴起始月份")
        return dict(values, period_end=end, amount=amount, settled=settled, settled_on=settled_on)

    @staticmethod
    def _month(row, column):
        if not text(row.get(column)):
            raise RowRejected(column, "不能为空")
        try:
            return parse_month(row.get(column))
        except CellError as exc:
            raise RowRejected(column, str(exc)) from None

    @staticmethod
    def _settled(row):
        raw = text(row.get("是否已补缴")).upper()
        if raw in YES:
            return True
        if raw in NO:
            return False
        raise RowRejected("是否已补缴", f"“{raw}”无法识别，应为是或否")

    def key(self, values):
        return (values["kind"], values["uscc"], values["period_start"])

    def flush(self, rows):
        existing = self._existing({v["uscc"] for _, v in rows})
        registry = register_lookup(v["uscc"] for _, v in rows)
        return self.upsert(rows, existing, registry, lambda exc, values: values["kind"])

    def _existing(self, codes):
        codes = list(codes)
        found = {}
        for start in range(0, len(codes), 500):
            query = ArrearsRecord.select().where(
                ArrearsRecord.uscc.in_(codes[start:start + 500]) & (ArrearsRecord.department == self.department)
            )
            for record in query:
                found[(record.kind, record.uscc, record.period_start)] = record
        return found

    def _new(self, values, registry):
        if values["op"] != OP_ADD:
            raise RowRejected("操作", f"未找到要{values['op']}的原欠缴记录（按类型、统一社会信用代码和起始月份）")
        enterprise, review = review_for(registry, values["uscc"], values["subject_name"])
        now = utcnow()
        record = {k: v for k, v in values.items() if k != "op"}
        return dict(record, enterprise=enterprise, review=review, department=self.department, batch=self.batch,
                    created_at=now, updated_at=now)

    def _insert(self, fresh, out):
        if not fresh:
            return
        insert_rows(ArrearsRecord, fresh)
        created = self._existing({r["uscc"] for r in fresh})
        keys = {(r["kind"], r["uscc"], r["period_start"]) for r in fresh}
        self.audit_created(r for k, r in created.items() if k in keys)
        out.imported += len(fresh)
        out.held += sum(1 for r in fresh if r["review"] != VERIFIED)
        out.scopes.update(r["kind"] for r in fresh)

    def _change(self, record, values, registry, out):
        out.scopes.add(record.kind)
        if values["op"] == OP_WITHDRAW or record.withdrawn and values["op"] != OP_CORRECT:
            if values["op"] != OP_WITHDRAW:
                raise RowRejected("操作", "该欠缴记录已撤销；如需恢复，请以“更正”报送")
            if record.withdrawn:
                out.unchanged += 1
                return
            return self._save(record, {"withdrawn": True}, "withdraw", registry, out)
        changed = {f: values[f] for f in self.fields if getattr(record, f) != values[f]}
        if record.withdrawn:
            changed["withdrawn"] = False
        if not changed:
            out.unchanged += 1
            out.held += record.review != VERIFIED
            return
        self._save(record, changed, "correct" if values["op"] == OP_CORRECT else "update", registry, out)

    def _save(self, record, changed, action, registry, out):
        before = record_dict(record)
        for name, value in changed.items():
            setattr(record, name, value)
        if "subject_name" in changed:
            record.enterprise, record.review = review_for(registry, record.uscc, record.subject_name)
        record.updated_at = utcnow()
        record.save()
        audit(self.table, record.id, action, self.actor, self.batch, before, record_dict(record))
        verb = "撤销" if action == "withdraw" else "更正"
        mark_reports_corrected_for_arrears(record.id, f"{self.department.name}{verb}了{DATA_KINDS[record.kind]}数据")
        out.updated += 1
        out.held += record.review != VERIFIED and action != "withdraw"


class RepairLoader(Loader):
    kind = REPAIR
    table = "credit_repair"
    key_column = "修复决定文号"
    columns = {"行政处罚决定书文号": True, "处罚机关": True, "修复决定文号": True, "修复日期": True, "备注": False}

    def __init__(self, department, batch, actor):
        super().__init__(department, batch, actor)
        self.granted = departments.granted_domains(department, REPAIR)

    def validate(self, row):
        return {
            "record_no": required(row, "行政处罚决定书文号", 120),
            "authority": required(row, "处罚机关", 200),
            "decision_no": required(row, "修复决定文号", 120),
            "repaired_on": date_cell(row, "修复日期"),
            "note": optional(row, "备注", 2000),
        }

    def key(self, values):
        return (values["record_no"], values["authority"], values["decision_no"])

    def flush(self, rows):
        out = Outcome()
        records = penalties_by_key({(v["record_no"], v["authority"]) for _, v in rows})
        for number, values in rows:
            record = records.get((values["record_no"], values["authority"]))
            try:
                self._repair(record, values, out)
            except RowRejected as exc:
                out.reject(number, exc.column, exc.reason, exc.scope)
        return out

    def _repair(self, record, values, out):
        if record is None:
            raise RowRejected("行政处罚决定书文号", "未找到对应的行政处罚记录（按文号和处罚机关）")
        if record.domain_id not in self.granted:
            raise RowRejected("行政处罚决定书文号", "本单位无权对该领域的处罚记录报送信用修复")
        if record.status == WITHDRAWN:
            raise RowRejected("行政处罚决定书文号", "该处罚记录已撤销，无需修复", record.domain_id)
        if values["repaired_on"] < record.decided_on:
            raise RowRejected("修复日期", "修复日期早于处罚决定日期", record.domain_id)
        out.scopes.add(record.domain_id)
        repair = CreditRepair.get_or_none(
            (CreditRepair.record == record) & (CreditRepair.decision_no == values["decision_no"])
        )
        if repair is not None:
            return self._update_repair(repair, values, out)
        repair = CreditRepair.create(record=record, decision_no=values["decision_no"],
                                     repaired_on=values["repaired_on"], note=values["note"],
                                     department=self.department, batch=self.batch)
        audit(self.table, repair.id, "create", self.actor, self.batch, None, record_dict(repair))
        if record.status != REPAIRED:
            before = record_dict(record)
            record.status = REPAIRED
            record.updated_at = utcnow()
            record.save()
            audit("penalty_record", record.id, "repair", self.actor, self.batch, before, record_dict(record))
        mark_reports_corrected(record.id, f"处罚决定书{record.decision_no}已完成信用修复")
        out.imported += 1

    def _update_repair(self, repair, values, out):
        changed = {f: values[f] for f in ("repaired_on", "note") if getattr(repair, f) != values[f]}
        if not changed:
            out.unchanged += 1
            return
        before = record_dict(repair)
        for name, value in changed.items():
            setattr(repair, name, value)
        repair.save()
        audit(self.table, repair.id, "update", self.actor, self.batch, before, record_dict(repair))
        out.updated += 1


LOADERS = {"enterprise": EnterpriseLoader, PENALTY: PenaltyLoader, "arrears": ArrearsLoader, REPAIR: RepairLoader}
