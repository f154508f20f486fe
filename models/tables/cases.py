"""Objections (异议申诉) and credit-repair requests (信用修复) as cases; evidence, history, holiday calendar."""

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, utcnow
from models.tables.accounts import WechatUser
from models.tables.records import PenaltyRecord
from models.tables.registry import Department, Enterprise
from models.tables.reports import StoredBlob

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

    @classmethod
    def for_message(cls, msg_key):
        """The case the message `msg_key` opened, or None."""
        return cls.get_or_none(cls.msg_key == msg_key)


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


class StaffNotice(BaseModel):
    """A WeCom group-robot notice for staff, kept in the database so that a flushed Redis loses none."""

    dedup_key = CharField(unique=True, max_length=120)  # case-opened:<id>, reminder:<robot>:<day> …
    kind = CharField(max_length=20)  # case_opened / case_reminder / feed_reminder
    department = ForeignKeyField(Department, null=True, backref="staff_notices")
    case = ForeignKeyField(Case, null=True, backref="staff_notices", on_delete="CASCADE")
    robot_url = TextField(null=True)  # the department's robot at creation; None: WECOM_ROBOT_URL when sent, else logged
    body = TextField(default="")  # markdown composed in jobs/ (case_opened: composed from the case when sent)
    state = CharField(max_length=12, default="pending", index=True)  # pending / sent / logged / failed
    attempts = IntegerField(default=0)
    error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)

    @classmethod
    def by_key(cls, dedup_key):
        """The notice made under `dedup_key`, or None."""
        return cls.get_or_none(cls.dedup_key == dedup_key)


class PendingNotice(BaseModel):
    """News for a WeChat user that could not be pushed; shown the next time they write."""

    user = ForeignKeyField(WechatUser, backref="notices")
    text = TextField()
    created_at = DateTimeField(default=utcnow)
    shown_at = DateTimeField(null=True)

    @classmethod
    def hold(cls, user_id, text):
        """Keep `text` for the user's next message."""
        return cls.create(user=user_id, text=text)

    @classmethod
    def take_for(cls, user_id):
        """The texts waiting for the user, oldest first, each marked shown (once, whoever else asks)."""
        taken = []
        for notice in cls.select().where((cls.user == user_id) & cls.shown_at.is_null()).order_by(cls.created_at):
            claimed = cls.update(shown_at=utcnow()).where((cls.id == notice.id) & cls.shown_at.is_null()).execute()
            if claimed:
                taken.append(notice.text)
        return taken
