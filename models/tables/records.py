"""What departments provide: penalties, arrears, credit repairs; import batches (and staff uploads waiting for the
worker), feed status and the audit trail; the status vocabularies of each beside its table."""

from peewee import (
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, JSONText, db, utcnow
from models.tables.registry import Department, DepartmentGrant, Domain, Enterprise, name_key

# PenaltyRecord.status
ACTIVE = "active"
CORRECTED = "corrected"
WITHDRAWN = "withdrawn"
REPAIRED = "repaired"

# review (核验) of every record kind: verified, or held for staff review for the first of its holds. A held record is
# stored but never printed, and its domain (or section) gets no 「未查见」 statement while it is held.
VERIFIED = "verified"
HELD_UNKNOWN_USCC = "held_unknown_uscc"  # the USCC is not in the enterprise register
HELD_NAME_MISMATCH = "held_name_mismatch"  # the name disagrees with the register
HELD_IMPLAUSIBLE = "held_implausible"  # marked 简易程序 beyond 行政处罚法 第五十一条
HELD_AUTHORITY = "held_authority"  # the 处罚机关 is not one the sending department speaks for
HOLD_ORDER = (HELD_UNKNOWN_USCC, HELD_NAME_MISMATCH, HELD_IMPLAUSIBLE, HELD_AUTHORITY)
HOLD_LABELS = {HELD_UNKNOWN_USCC: "企业名录中无此统一社会信用代码", HELD_NAME_MISMATCH: "名称与企业名录不一致",
               HELD_IMPLAUSIBLE: "简易程序标注与行政处罚法第五十一条不符", HELD_AUTHORITY: "处罚机关不在本单位名单内"}
REGISTER_HOLDS = (HELD_UNKNOWN_USCC, HELD_NAME_MISMATCH)

ORDINARY = "普通程序"
SIMPLIFIED = "简易程序"
NO_PENALTY = "不予行政处罚"

# ImportBatch.status
QUEUED = "queued"  # a staff upload stored, waiting for the worker
RUNNING = "running"
DONE = "done"
UNREADABLE = "unreadable"  # the file as a whole could not be read or loaded: nothing changed
FAILED = "failed"  # the job died (timeout, crash): nothing changed
BATCH_STATUS_LABELS = {QUEUED: "排队中", RUNNING: "正在导入", DONE: "已完成", UNREADABLE: "无法导入",
                       FAILED: "导入失败"}

# RejectedRow.outcome: a line of the batch's report
REJECTED = "rejected"
HELD = "held"


def review_of(holds):
    """The review a list of holds ({"code", "reason"}) amounts to: the first hold's code, or verified."""
    codes = {h["code"] for h in holds or ()}
    return next((code for code in HOLD_ORDER if code in codes), VERIFIED)


def merge_holds(holds, codes, new):
    """`holds` without those of `codes`, plus `new` (a list of holds); None when nothing is held."""
    kept = [h for h in holds or () if h["code"] not in codes]
    merged = sorted(kept + list(new), key=lambda h: HOLD_ORDER.index(h["code"]))
    return merged or None


def hold_reasons(record):
    """The Chinese reasons a record is held, joined (the review's label for rows held before reasons were kept)."""
    return "；".join(h["reason"] for h in record.holds or ()) or HOLD_LABELS.get(record.review, "")


class ImportBatch(BaseModel):
    department = ForeignKeyField(Department, backref="batches")
    kind = CharField(max_length=20)
    source = CharField(max_length=10)  # cli / api / staff
    filename = CharField(max_length=255, default="")
    actor = CharField(max_length=80, default="")
    as_of = DateField(null=True)  # the 数据截至 the load certifies (kept for a queued upload)
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    imported = IntegerField(default=0)
    updated = IntegerField(default=0)
    unchanged = IntegerField(default=0)
    rejected = IntegerField(default=0)
    held = IntegerField(default=0)
    skipped = IntegerField(default=0)  # natural persons: counted, never written anywhere
    status = CharField(max_length=12, default=RUNNING)
    error = TextField(null=True)

    @classmethod
    def by_id(cls, batch_id):
        return cls.get_or_none(cls.id == batch_id)

    @classmethod
    def visible_to(cls, department_id=None, limit=100):
        """The latest batches, of one department or (None) of all."""
        query = cls.select().order_by(cls.id.desc()).limit(limit)
        return query if department_id is None else query.where(cls.department == department_id)

    @classmethod
    def queue_upload(cls, department, kind, filename, actor, as_of, content):
        """A staff upload stored in the database (any node's worker reads it) with its queued batch; the batch."""
        with db.atomic():
            batch = cls.create(department=department, kind=kind, source="staff", filename=(filename or "")[:255],
                               actor=actor[:80], as_of=as_of, status=QUEUED)
            ImportUpload.create(batch=batch, content=content)
        return batch

    def upload_content(self):
        """The stored upload's bytes, or None when it is gone (imported, or never stored)."""
        upload = ImportUpload.get_or_none(ImportUpload.batch == self)
        return bytes(upload.content) if upload else None

    def drop_upload(self):
        """Delete the stored upload (once imported, or given up)."""
        ImportUpload.delete().where(ImportUpload.batch == self).execute()

    def mark(self, status, error=None):
        """Finish the batch as `status` (unreadable / failed) with the reason."""
        ImportBatch.update(status=status, error=error, finished_at=utcnow()).where(ImportBatch.id == self.id).execute()
        self.status, self.error = status, error

    def start(self):
        """queued → running; False when another worker took it (or it is done)."""
        moved = ImportBatch.update(status=RUNNING, started_at=utcnow()).where(
            (ImportBatch.id == self.id) & (ImportBatch.status == QUEUED)).execute()
        self.status = RUNNING if moved else self.status
        return bool(moved)

    @property
    def finished(self):
        return self.status not in (QUEUED, RUNNING)

    @property
    def status_label(self):
        return BATCH_STATUS_LABELS.get(self.status, self.status)

    def lines(self, limit=2000):
        """The batch's rejected and held rows in row order."""
        return list(RejectedRow.select().where(RejectedRow.batch == self)
                    .order_by(RejectedRow.row_number, RejectedRow.id).limit(limit))


class RejectedRow(BaseModel):
    """One line of a batch's report: a rejected row (not stored) or a held one (stored, waiting for staff)."""

    batch = ForeignKeyField(ImportBatch, backref="rejected_rows", on_delete="CASCADE")
    row_number = IntegerField()
    column = CharField(max_length=40, default="")
    reason = TextField()
    outcome = CharField(max_length=10, default=REJECTED)


class ImportUpload(BaseModel):
    """A staff upload waiting for the worker; deleted once imported."""

    batch = ForeignKeyField(ImportBatch, unique=True, backref="uploads", on_delete="CASCADE")
    content = BlobField()
    created_at = DateTimeField(default=utcnow)


class PenaltyRecord(BaseModel):
    """A 行政处罚 decision as the department sent it: official text verbatim (文号, 违法事实, 处罚内容 …), keys
    normalised (`decision_key`, `authority_key`: NFKC, no spaces) for matching only."""

    subject_name = CharField(max_length=200)
    subject_class = CharField(max_length=20, default="")  # 行政相对人类别: 法人及非法人组织 / 个体工商户
    uscc = CharField(max_length=18, index=True)
    enterprise = ForeignKeyField(Enterprise, null=True, backref="penalties")
    decision_no = CharField(max_length=120)
    decision_key = CharField(max_length=120, default="")
    violation_type = TextField(default="")
    facts = TextField(default="")
    basis = TextField(default="")
    category = CharField(max_length=120, default="")
    content = TextField(default="")
    fine_wan = DecimalField(max_digits=14, decimal_places=4, null=True)
    confiscated_wan = DecimalField(max_digits=14, decimal_places=4, null=True)  # 没收违法所得、没收非法财物的金额
    licence = TextField(default="")  # 暂扣或吊销证照名称及编号
    decided_on = DateField(index=True)
    valid_until = DateField(null=True)  # 处罚有效期
    publicity_until = DateField(null=True)  # 公示截止期 as sent (it wins over the 办法's maximum)
    authority = CharField(max_length=200)
    authority_key = CharField(max_length=200, default="")
    authority_code = CharField(max_length=18, default="")  # 处罚机关统一社会信用代码
    source_unit = CharField(max_length=200, default="")
    source_unit_code = CharField(max_length=18, default="")
    remark = TextField(default="")  # 备注
    domain = ForeignKeyField(Domain, backref="penalties")
    procedure = CharField(max_length=10)
    severity = CharField(max_length=10, null=True)  # 失信程度 as the department sent it (its own classification)
    department = ForeignKeyField(Department, backref="penalties")
    batch = ForeignKeyField(ImportBatch, null=True, backref="penalties")
    status = CharField(max_length=12, default=ACTIVE, index=True)
    review = CharField(max_length=20, default=VERIFIED, index=True)
    holds = JSONText(null=True)  # [{"code", "reason"}] while held
    raw = JSONText(null=True)  # the columns we do not read, by normalised header (never personal IDs)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("decision_key", "authority_key"), True),
            (("enterprise", "domain", "decided_on"), False),
        )

    @classmethod
    def find(cls, record_id):
        """The record with this id, or None."""
        return cls.get_or_none(cls.id == record_id)

    @classmethod
    def in_order(cls, record_ids):
        """The records with these ids, in the order of the ids (missing ones left out)."""
        found = {r.id: r for r in cls.select().where(cls.id.in_(list(record_ids)))}
        return [found[i] for i in record_ids if i in found]

    def save(self, *args, **kwargs):
        """The matching keys follow the text as sent."""
        self.decision_key, self.authority_key = name_key(self.decision_no), name_key(self.authority)
        return super().save(*args, **kwargs)

    @classmethod
    def held_for(cls, department_id=None, limit=500):
        """Records held for staff review (of one department, or all), oldest first."""
        query = cls.select().where(cls.review != VERIFIED).order_by(cls.id).limit(limit)
        return query if department_id is None else query.where(cls.department == department_id)

    @classmethod
    def for_report(cls, enterprise, start, end, *flags):
        """Every record a report of `enterprise` for [start, end] may show or be held back by, in every domain, in
        one query: decided in the period, active or repaired; the enterprise's verified ones and the held ones of
        its USCC (split by `review`). Each carries its department's `default_severity` and the boolean columns
        `flags` (aliased expressions on the record, e.g. an open objection). Without `raw` (never printed). Only
        `enterprise.id` and `.uscc` are read. The query (iterate it, or run it as models.base.Prepared)."""
        columns = [f for f in cls._meta.sorted_fields if f.name not in ("raw", "created_at", "updated_at")]
        return (
            cls.select(*columns, Department.id, Department.default_severity, *flags)
            .join(Department)
            .where(cls.decided_on.between(start, end) & cls.status.in_([ACTIVE, REPAIRED])
                   & (((cls.enterprise == enterprise.id) & (cls.review == VERIFIED))
                      | ((cls.uscc == enterprise.uscc) & (cls.review != VERIFIED))))
        )


class ArrearsRecord(BaseModel):
    kind = CharField(max_length=20)  # social_arrears / fund_arrears
    subject_name = CharField(max_length=200)
    uscc = CharField(max_length=18, index=True)
    enterprise = ForeignKeyField(Enterprise, null=True, backref="arrears")
    period_start = DateField()
    period_end = DateField()
    amount = DecimalField(max_digits=14, decimal_places=2)
    settled = BooleanField(default=False)
    settled_on = DateField(null=True)
    department = ForeignKeyField(Department, backref="arrears")
    batch = ForeignKeyField(ImportBatch, null=True, backref="arrears")
    review = CharField(max_length=20, default=VERIFIED, index=True)
    holds = JSONText(null=True)
    raw = JSONText(null=True)  # the columns we do not read, by normalised header
    withdrawn = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "uscc", "period_start", "department"), True),)

    @classmethod
    def for_report(cls, enterprise, start, end, kinds):
        """The arrears rows of `kinds` a report for [start, end] shows or is held back by, in one query (split by
        `review`): the enterprise's verified ones that existed at some time in the period (unsettled, or settled on
        or after `start`, or settled on a date nobody sent while their months reach into the period), and the held
        ones of its USCC whose months reach into it; never withdrawn ones. With the sending Department's name; without
        `raw`."""
        shown = (cls.enterprise == enterprise.id) & (cls.review == VERIFIED) & (
            (cls.settled == False) | (cls.settled_on >= start)  # noqa: E712
            | (cls.settled_on.is_null() & (cls.period_end >= start)))
        held = (cls.uscc == enterprise.uscc) & (cls.review != VERIFIED) & (cls.period_end >= start)
        columns = [f for f in cls._meta.sorted_fields if f.name not in ("raw", "created_at", "updated_at")]
        return (
            cls.select(*columns, Department.id, Department.name)
            .join(Department)
            .where(cls.kind.in_(list(kinds)) & (cls.period_start <= end) & (cls.withdrawn == False)  # noqa: E712
                   & (shown | held))
        )


class CreditRepair(BaseModel):
    record = ForeignKeyField(PenaltyRecord, backref="repairs")
    decision_no = CharField(max_length=120)
    repaired_on = DateField()
    department = ForeignKeyField(Department, backref="repairs")
    batch = ForeignKeyField(ImportBatch, null=True, backref="repairs")
    note = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("record", "decision_no"), True),)

    @classmethod
    def for_report(cls, enterprise, start, end):
        """In one query, the repairs a report of `enterprise` for [start, end] needs, each with its record (the
        columns the rules read): those of its verified records shown in the period (for their latest repair) and
        those of its repaired records decided in the period or repaired in it (the report's list of repairs)."""
        record = PenaltyRecord
        return (
            cls.select(cls.id, cls.record, cls.decision_no, cls.repaired_on, record.id, record.decision_no,
                       record.domain, record.decided_on, record.status, record.category, record.content,
                       record.procedure)
            .join(record)
            .where((record.enterprise == enterprise.id) & (record.review == VERIFIED)
                   & ((record.decided_on.between(start, end) & record.status.in_([ACTIVE, REPAIRED]))
                      | ((record.status == REPAIRED) & cls.repaired_on.between(start, end))))
        )


class FeedStatus(BaseModel):
    """Per department × domain × data kind: when data last arrived and the date it is complete up to (数据截至)."""

    department = ForeignKeyField(Department, backref="feeds", on_delete="CASCADE")
    domain = ForeignKeyField(Domain, null=True, backref="feeds")
    kind = CharField(max_length=20)
    last_loaded_at = DateTimeField(null=True)
    complete_until = DateField(null=True)

    class Meta:
        indexes = ((("department", "domain", "kind"), True),)

    @classmethod
    def certified(cls):
        """(domain id or None, kind, complete_until) of every feed that certifies anything, as one query: its
        department active and still holding the grant of that kind (and domain), its 数据截至 known."""
        grant = (DepartmentGrant.department == cls.department) & (DepartmentGrant.kind == cls.kind) & (
            (DepartmentGrant.domain == cls.domain) | (DepartmentGrant.domain.is_null() & cls.domain.is_null()))
        return (
            cls.select(cls.domain, cls.kind, cls.complete_until)
            .join(Department)
            .switch(cls)
            .join(DepartmentGrant, on=grant)
            .where((Department.active == True) & cls.complete_until.is_null(False))  # noqa: E712
            .tuples()
        )

    @staticmethod
    def dates_by_feed(rows):
        """{(domain id or None, kind): [complete_until, …]} of `certified` rows."""
        dates = {}
        for domain_id, kind, until in rows:
            dates.setdefault((domain_id, kind), []).append(until)
        return dates

    @classmethod
    def certified_dates(cls):
        """dates_by_feed of every certifying feed."""
        return cls.dates_by_feed(cls.certified())

class RecordChange(BaseModel):
    """Audit trail: every change to a record, by whom, from which batch, before and after."""

    table = CharField(max_length=40)
    record_id = IntegerField(index=True)
    action = CharField(max_length=20)
    actor = CharField(max_length=80, default="")
    batch = ForeignKeyField(ImportBatch, null=True, backref="changes")
    at = DateTimeField(default=utcnow)
    before = JSONText(null=True)
    after = JSONText(null=True)
