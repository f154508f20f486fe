"""Objections (异议申诉) and credit-repair requests (信用修复) as cases; evidence, history, holiday calendar."""

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, TextField

from models.accounts import WechatUser
from models.base import BaseModel, utcnow
from models.records import PenaltyRecord
from models.registry import Department, Enterprise
from models.reports import StoredBlob

OBJECTION = "objection"
REPAIR_REQUEST = "repair"

SUBMITTED = "submitted"
IN_REVIEW = "in_review"
ACCEPTED = "accepted"
REJECTED = "rejected"
OPEN_STATES = (SUBMITTED, IN_REVIEW)


class Case(BaseModel):
    number = CharField(unique=True, max_length=40)
    kind = CharField(max_length=12)
    enterprise = ForeignKeyField(Enterprise, backref="cases")
    user = ForeignKeyField(WechatUser, null=True, backref="cases")
    record = ForeignKeyField(PenaltyRecord, backref="cases")
    department = ForeignKeyField(Department, backref="cases")
    reason = TextField()
    status = CharField(max_length=12, default=SUBMITTED, index=True)
    deadline = DateField()
    msg_key = CharField(max_length=80, null=True, unique=True)
    resolution = CharField(max_length=12, null=True)  # corrected / withdrawn / repaired
    resolution_reason = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)


class CaseEvidence(BaseModel):
    case = ForeignKeyField(Case, backref="evidence", on_delete="CASCADE")
    blob = ForeignKeyField(StoredBlob)
    label = CharField(max_length=60, default="")
    created_at = DateTimeField(default=utcnow)


class CaseEvent(BaseModel):
    case = ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    actor = CharField(max_length=80)
    action = CharField(max_length=30)
    note = TextField(default="")


class Holiday(BaseModel):
    """The national holiday calendar as data: a rest day, or a weekend day that is worked (调休)."""

    day = DateField(unique=True)
    name = CharField(max_length=40)
    workday = BooleanField(default=False)


class PendingNotice(BaseModel):
    """News for a WeChat user that could not be pushed; shown the next time they write."""

    user = ForeignKeyField(WechatUser, backref="notices")
    text = TextField()
    created_at = DateTimeField(default=utcnow)
    shown_at = DateTimeField(null=True)
