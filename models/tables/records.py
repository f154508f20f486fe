"""What departments provide: penalties, arrears, credit repairs; import batches, feed status and the audit trail."""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, JSONText, utcnow
from models.tables.registry import Department, Domain, Enterprise

# PenaltyRecord.status
ACTIVE = "active"
CORRECTED = "corrected"
WITHDRAWN = "withdrawn"
REPAIRED = "repaired"

# PenaltyRecord.review (核验)
VERIFIED = "verified"
HELD_UNKNOWN_USCC = "held_unknown_uscc"
HELD_NAME_MISMATCH = "held_name_mismatch"

ORDINARY = "普通程序"
SIMPLIFIED = "简易程序"
NO_PENALTY = "不予行政处罚"


class ImportBatch(BaseModel):
    department = ForeignKeyField(Department, backref="batches")
    kind = CharField(max_length=20)
    source = CharField(max_length=10)  # cli / api / staff
    filename = CharField(max_length=255, default="")
    actor = CharField(max_length=80, default="")
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    imported = IntegerField(default=0)
    updated = IntegerField(default=0)
    rejected = IntegerField(default=0)
    held = IntegerField(default=0)
    status = CharField(max_length=12, default="running")  # running / done / unreadable
    error = TextField(null=True)


class RejectedRow(BaseModel):
    batch = ForeignKeyField(ImportBatch, backref="rejected_rows", on_delete="CASCADE")
    row_number = IntegerField()
    column = CharField(max_length=40, default="")
    reason = TextField()


class PenaltyRecord(BaseModel):
    subject_name = CharField(max_length=200)
    uscc = CharField(max_length=18, index=True)
    enterprise = ForeignKeyField(Enterprise, null=True, backref="penalties")
    decision_no = CharField(max_length=120)
    violation_type = TextField(default="")
    facts = TextField(default="")
    basis = TextField(default="")
    category = CharField(max_length=120, default="")
    content = TextField(default="")
    fine_wan = DecimalField(max_digits=14, decimal_places=4, null=True)
    decided_on = DateField(index=True)
    authority = CharField(max_length=200)
    source_unit = CharField(max_length=200, default="")
    domain = ForeignKeyField(Domain, backref="penalties")
    procedure = CharField(max_length=10)
    severity = CharField(max_length=10, null=True)  # 轻微 / 一般 / 严重 when the department sends it; see casework
    department = ForeignKeyField(Department, backref="penalties")
    batch = ForeignKeyField(ImportBatch, null=True, backref="penalties")
    status = CharField(max_length=12, default=ACTIVE, index=True)
    review = CharField(max_length=20, default=VERIFIED, index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("decision_no", "authority"), True),
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
    withdrawn = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "uscc", "period_start", "department"), True),)


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


class FeedStatus(BaseModel):
    """Per department × domain × data kind: when data last arrived and the date it is complete up to (数据截至)."""

    department = ForeignKeyField(Department, backref="feeds", on_delete="CASCADE")
    domain = ForeignKeyField(Domain, null=True, backref="feeds")
    kind = CharField(max_length=20)
    last_loaded_at = DateTimeField(null=True)
    complete_until = DateField(null=True)

    class Meta:
        indexes = ((("department", "domain", "kind"), True),)


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
