"""Report requests: what an owner confirmed, a row before it is a job, and its way through the pipeline."""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

from models.base import BaseModel, JSONText, db, utcnow
from models.tables.accounts import WechatUser
from models.tables.registry import Enterprise

# ReportRequest.status: queued → building → issued (the report exists, its QR code is on its way) → delivered (the
# QR image was sent), or failed.
QUEUED = "queued"
BUILDING = "building"
ISSUED = "issued"
DELIVERED = "delivered"
FAILED = "failed"
IN_PROGRESS = (QUEUED, BUILDING, ISSUED)  # what the owner is told is still being made (ISSUED: QR not yet sent)


class ReportRequest(BaseModel):
    """A confirmed request: a row before it is a job. Unique per user and the message that confirmed it."""

    user = ForeignKeyField(WechatUser, backref="report_requests")
    enterprise = ForeignKeyField(Enterprise, backref="report_requests")
    msg_key = CharField(max_length=80)
    domains = JSONText()  # list of domain codes
    period_start = DateField()
    period_end = DateField()
    purpose_category = CharField(max_length=20)
    purpose = CharField(max_length=200)
    status = CharField(max_length=12, default=QUEUED, index=True)
    job_id = CharField(max_length=64, null=True)
    attempts = IntegerField(default=0)
    error = TextField(null=True)
    trace_id = CharField(max_length=32, null=True)
    keep_earlier = BooleanField(default=False)  # the owner chose 「保留」: earlier reports for the purpose stay valid
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "msg_key"), True),)

    @classmethod
    def mark_delivered(cls, request_id):
        """The request's QR image was sent: it is delivered (from any state but failed); True when it moved."""
        return cls.update(status=DELIVERED, updated_at=utcnow()).where(
            (cls.id == request_id) & cls.status.in_([QUEUED, BUILDING, ISSUED])).execute() > 0

    @classmethod
    def create_for_message(cls, user, enterprise, msg_key, **values):
        """The request the confirming message `msg_key` makes: created once; a repeat finds the first one."""
        try:
            with db.atomic():
                return cls.create(user=user, enterprise=enterprise, msg_key=msg_key, **values)
        except IntegrityError:
            return cls.get((cls.user == user) & (cls.msg_key == msg_key))

    @classmethod
    def same_in_progress(cls, user, enterprise, values, besides_msg_key):
        """True when `user` already has the identical request queued or building (made by another message)."""
        query = cls.select().where(
            (cls.user == user) & (cls.enterprise == enterprise) & cls.status.in_(IN_PROGRESS)
            & (cls.msg_key != besides_msg_key)
            & (cls.period_start == values["period_start"]) & (cls.period_end == values["period_end"])
            & (cls.purpose_category == values["purpose_category"]) & (cls.purpose == values["purpose"])
        )
        return any(sorted(r.domains) == sorted(values["domains"]) for r in query)

    @classmethod
    def in_progress_for(cls, enterprise):
        """How many of the enterprise's requests are queued or building."""
        return cls.select().where((cls.enterprise == enterprise) & cls.status.in_(IN_PROGRESS)).count()

    @classmethod
    def failed_since(cls, enterprise, since):
        """The enterprise's requests that failed since `since`, newest first."""
        return list(cls.select().where(
            (cls.enterprise == enterprise) & (cls.status == FAILED) & (cls.created_at >= since)
        ).order_by(cls.created_at.desc()))

    @classmethod
    def find(cls, request_id):
        """The request with this id, or None (not yet committed, or deleted)."""
        return cls.get_or_none(cls.id == request_id)

    @classmethod
    def mark(cls, request_id, status, from_states, count_attempt=False, error=None):
        """Move the request to `status` if it is in one of `from_states` (counting a build attempt, keeping the
        error for staff); True when it moved."""
        fields = {cls.status: status, cls.updated_at: utcnow()}
        if count_attempt:
            fields[cls.attempts] = cls.attempts + 1
        if error is not None:
            fields[cls.error] = error
        return cls.update(fields).where((cls.id == request_id) & cls.status.in_(from_states)).execute() > 0

    @classmethod
    def set_job(cls, request_id, job_id):
        """Record the id of the RQ job that builds the request."""
        cls.update(job_id=job_id).where(cls.id == request_id).execute()

    @classmethod
    def trace_of(cls, request_id):
        """The trace id of the message that confirmed the request, or None."""
        return cls.select(cls.trace_id).where(cls.id == request_id).scalar()

    @classmethod
    def stuck_since(cls, cutoff):
        """The requests still queued or building whose last change is at or before `cutoff` (their job may be lost)."""
        return list(cls.select().where(cls.status.in_((QUEUED, BUILDING)) & (cls.updated_at <= cutoff)))

    @classmethod
    def touch(cls, request_id, at):
        """The sweep revived the request at `at`: its stuck clock starts again."""
        cls.update(updated_at=at).where(cls.id == request_id).execute()
