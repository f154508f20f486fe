"""Objections (异议申诉) and credit-repair requests (信用修复) as cases; evidence, history, holiday calendar."""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
    fn,
)

from models.base import BaseModel, db, utcnow
from models.tables.accounts import WechatUser
from models.tables.blobs import MEDIA_PREFIX, StoredBlob
from models.tables.records import PenaltyRecord
from models.tables.registry import Department, Enterprise

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
    def objection_open(cls, record_id):
        """True (an SQL expression, aliased `under_objection`) when the penalty record `record_id` (a column or
        value) has an open objection (异议处理中)."""
        query = cls.select(cls.id).where((cls.record == record_id) & (cls.kind == OBJECTION)
                                         & cls.status.in_(list(OPEN_STATES)))
        return fn.EXISTS(query).alias("under_objection")

    @classmethod
    def for_message(cls, msg_key):
        """The case the message `msg_key` opened, or None."""
        return cls.get_or_none(cls.msg_key == msg_key)

    @classmethod
    def find(cls, case_id):
        """The case with this id, or None."""
        return cls.get_or_none(cls.id == case_id)

    @classmethod
    def load(cls, case_id):
        """The case with this id; DoesNotExist when it is not (yet) visible, so the job asking is retried."""
        return cls.get_by_id(case_id)

    @classmethod
    def visible_to(cls, department_id, statuses=None, kind=None, department_code=None, limit=500):
        """The latest cases of one department (`department_id`; None: of all, the credit office's view), newest
        first, of `statuses` and `kind` when given; `department_code` narrows the office's view to one department."""
        query = cls.select()
        if department_id is not None:
            query = query.where(cls.department == department_id)
        if statuses is not None:
            query = query.where(cls.status.in_(list(statuses)))
        if kind is not None:
            query = query.where(cls.kind == kind)
        if department_code:
            query = query.join(Department).where(Department.code == department_code)
        return list(query.order_by(cls.id.desc()).limit(limit))

    @classmethod
    def open_by_deadline(cls):
        """Every open case, the nearest deadline first."""
        return list(cls.select().where(cls.status.in_(OPEN_STATES)).order_by(cls.deadline, cls.id))

    def evidence_list(self):
        """The case's evidence files in the order they came."""
        return list(CaseEvidence.select().where(CaseEvidence.case == self).order_by(CaseEvidence.id))

    def history(self):
        """The case's events, oldest first."""
        return list(CaseEvent.select().where(CaseEvent.case == self).order_by(CaseEvent.id))


class CaseEvidence(BaseModel):
    case = ForeignKeyField(Case, backref="evidence", on_delete="CASCADE")
    blob = ForeignKeyField(StoredBlob)
    label = CharField(max_length=60, default="")
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def placeholder(cls, case_id, media_id):
        """The blob of case `case_id` that stands for the WeChat photo `media_id`, or None."""
        return (StoredBlob.select().join(cls)
                .where((cls.case == case_id) & (StoredBlob.filename == MEDIA_PREFIX + media_id))
                .first())

    @classmethod
    def departments_showing(cls, blob_id):
        """The department ids of the cases that hold StoredBlob `blob_id` as evidence."""
        return [e.case.department_id for e in cls.select(cls, Case).join(Case).where(cls.blob == blob_id)]


class CaseEvent(BaseModel):
    case = ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    actor = CharField(max_length=80)
    action = CharField(max_length=30)
    note = TextField(default="")

    @classmethod
    def note_once(cls, case_id, actor, action, note):
        """Add the event to the case's history unless the same one is there already."""
        return cls.get_or_create(case=case_id, actor=actor, action=action, note=note)[0]


class Holiday(BaseModel):
    """The national holiday calendar as data: a rest day, or a weekend day that is worked (调休)."""

    day = DateField(unique=True)
    name = CharField(max_length=40)
    workday = BooleanField(default=False)


# StaffNotice.state
NOTICE_PENDING = "pending"
NOTICE_SENT = "sent"
NOTICE_LOGGED = "logged"  # no robot configured: written to the log instead
NOTICE_FAILED = "failed"


class StaffNotice(BaseModel):
    """A WeCom group-robot notice for staff, kept in the database so that a flushed Redis loses none."""

    dedup_key = CharField(unique=True, max_length=120)  # case-opened:<id>, reminder:<robot>:<day> …
    kind = CharField(max_length=20)  # case_opened / case_reminder / feed_reminder
    department = ForeignKeyField(Department, null=True, backref="staff_notices")
    case = ForeignKeyField(Case, null=True, backref="staff_notices", on_delete="CASCADE")
    robot_url = TextField(null=True)  # the department's robot at creation; None: WECOM_ROBOT_URL when sent, else logged
    body = TextField(default="")  # markdown composed in jobs/ (case_opened: composed from the case when sent)
    state = CharField(max_length=12, default=NOTICE_PENDING, index=True)  # pending / sent / logged / failed
    attempts = IntegerField(default=0)
    error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)

    @classmethod
    def by_key(cls, dedup_key):
        """The notice made under `dedup_key`, or None."""
        return cls.get_or_none(cls.dedup_key == dedup_key)

    @classmethod
    def queue_once(cls, dedup_key, kind, body, robot_url=None):
        """A new pending notice under `dedup_key`, or None when one was made under that key already."""
        try:
            with db.atomic():
                return cls.create(dedup_key=dedup_key, kind=kind, robot_url=robot_url, body=body)
        except IntegrityError:
            return None

    @classmethod
    def load(cls, notice_id):
        """The notice with this id; DoesNotExist when it is not (yet) visible, so the job asking is retried."""
        return cls.get_by_id(notice_id)

    @classmethod
    def pending(cls):
        """Every notice still pending, oldest first."""
        return list(cls.select().where(cls.state == NOTICE_PENDING).order_by(cls.id))

    @classmethod
    def pending_among(cls, ids):
        """The notices of `ids` still pending, oldest first."""
        return list(cls.select().where(cls.id.in_(list(ids)) & (cls.state == NOTICE_PENDING)).order_by(cls.id))

    @classmethod
    def mark_sent(cls, ids):
        """The notices of `ids` went out in one robot message."""
        cls.update(state=NOTICE_SENT, sent_at=utcnow(), attempts=cls.attempts + 1, error=None).where(
            cls.id.in_(list(ids))).execute()

    @classmethod
    def note_failure(cls, ids, error):
        """A send of the notices of `ids` failed with `error`: counted, the reason kept; return the most attempts any
        of them has now (at least 1)."""
        cls.update(attempts=cls.attempts + 1, error=str(error)[:500]).where(cls.id.in_(list(ids))).execute()
        return max((n.attempts for n in cls.select(cls.attempts).where(cls.id.in_(list(ids)))), default=1)

    def mark_logged(self):
        """No robot to send it to: the notice was written to the log."""
        StaffNotice.update(state=NOTICE_LOGGED, sent_at=utcnow()).where(StaffNotice.id == self.id).execute()

    def reroute(self, robot_url):
        """Send the notice to `robot_url` instead (its department's robot key was refused)."""
        StaffNotice.update(robot_url=robot_url).where(StaffNotice.id == self.id).execute()
        self.robot_url = robot_url

    def give_up(self):
        """The notice cannot be delivered: failed for good."""
        StaffNotice.update(state=NOTICE_FAILED).where(StaffNotice.id == self.id).execute()


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
