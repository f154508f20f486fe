"""Report requests, issued reports, their numbering, views and outbound deliveries."""

from peewee import (
    BlobField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

from models.base import BaseModel, JSONText, db, utcnow
from models.tables.accounts import Binding, WechatUser
from models.tables.records import ArrearsRecord, PenaltyRecord
from models.tables.registry import Enterprise

# ReportRequest.status: queued → building → issued (the report exists, its QR code is on its way) → delivered (the
# QR image was sent), or failed.
QUEUED = "queued"
BUILDING = "building"
ISSUED = "issued"
DELIVERED = "delivered"
FAILED = "failed"

# OutboundMessage.state
PENDING, SENDING, SENT, DEFERRED, UNKNOWN, UNSENT = "pending", "sending", "sent", "deferred", "unknown", "failed"

# Report status as shown (docs/CONTRACT.md §2)
VALID = "有效"
EXPIRED = "已过期"
REVOKED = "已撤销"
CORRECTED = "数据已更正"
SUPERSEDED = "已被新报告替代"


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
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "msg_key"), True),)

    @classmethod
    def mark_delivered(cls, request_id):
        """The request's QR image was sent: it is delivered (from any state but failed); True when it moved."""
        return cls.update(status=DELIVERED, updated_at=utcnow()).where(
            (cls.id == request_id) & cls.status.in_([QUEUED, BUILDING, ISSUED])).execute() > 0


class ReportSequence(BaseModel):
    """Per region and day, the last number used: report numbers come from the database, unique across processes."""

    region = CharField(max_length=10)
    day = DateField()
    last = IntegerField(default=0)

    class Meta:
        indexes = ((("region", "day"), True),)


class Report(BaseModel):
    request = ForeignKeyField(ReportRequest, unique=True, backref="reports")
    enterprise = ForeignKeyField(Enterprise, backref="reports")
    number = CharField(unique=True, max_length=40)
    check_code = CharField(max_length=16)
    token = CharField(unique=True, max_length=64)
    issued_at = DateTimeField(default=utcnow)
    valid_until = DateTimeField()
    rule_version = CharField(max_length=40)
    snapshot = TextField()  # canonical JSON, exactly the signed bytes
    digest = CharField(max_length=64)
    signature = TextField()
    algorithm = CharField(max_length=20, default="Ed25519")
    key_id = CharField(max_length=40)
    pdf = BlobField(null=True)
    pdf_ready_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    superseded_by = ForeignKeyField("self", null=True, backref="supersedes")
    corrected_at = DateTimeField(null=True)
    correction_note = TextField(null=True)

    @classmethod
    def among(cls, ids):
        """The reports of `ids`."""
        return list(cls.select().where(cls.id.in_(list(ids))))


class ReportRecord(BaseModel):
    """Which penalty records a report showed, so a later correction can mark it 数据已更正."""

    report = ForeignKeyField(Report, backref="record_links", on_delete="CASCADE")
    record = ForeignKeyField(PenaltyRecord, backref="report_links")

    class Meta:
        indexes = ((("report", "record"), True),)


class ReportArrears(BaseModel):
    """Which arrears items a report showed (社保/公积金), for the same reason as ReportRecord."""

    report = ForeignKeyField(Report, backref="arrears_links", on_delete="CASCADE")
    arrears = ForeignKeyField(ArrearsRecord, backref="report_links")

    class Meta:
        indexes = ((("report", "arrears"), True),)


class ViewLog(BaseModel):
    report = ForeignKeyField(Report, backref="views", on_delete="CASCADE")
    at = DateTimeField(default=utcnow, index=True)
    unit = CharField(max_length=120, null=True)
    openid = CharField(max_length=64, null=True)
    ip = CharField(max_length=64, default="")
    user_agent = TextField(default="")

    @classmethod
    def seen_by_owners(cls, start, end):
        """(view time, unit, viewer openid, report number, owner id, owner openid) of the views in [start, end),
        oldest first, for reports whose requester is still bound to the report's enterprise."""
        return list(
            cls.select(cls.at, cls.unit, cls.openid, Report.number, WechatUser.id, WechatUser.openid)
            .join(Report).join(ReportRequest).join(WechatUser)
            .join(Binding, on=((Binding.user == WechatUser.id) & (Binding.enterprise == Report.enterprise)))
            .where((cls.at >= start) & (cls.at < end) & Binding.revoked_at.is_null())
            .order_by(cls.at)
            .tuples())

    @classmethod
    def set_unit(cls, view_id, unit):
        """The viewer's stated unit on their view."""
        cls.update(unit=unit).where(cls.id == view_id).execute()


class OutboundMessage(BaseModel):
    """A message to a WeChat user, marked before it is sent so that a crash never makes it go twice."""

    user = ForeignKeyField(WechatUser, backref="outbound")
    dedup_key = CharField(unique=True, max_length=120)
    kind = CharField(max_length=20)  # text / image / notice
    payload = JSONText()  # text: {"text"}; image: {"blob_id", "request_id"?}; notice: {"notice", "facts", "url"}
    state = CharField(max_length=12, default=PENDING, index=True)  # pending/sending/sent/deferred/unknown/failed
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    sending_at = DateTimeField(null=True)  # when the last send began: sweep_unknown's clock
    mentioned_at = DateTimeField(null=True)  # when the bot told the user it was not (surely) delivered
    via = CharField(max_length=10, null=True)  # custom / template: how a sent message went (the window counts)

    @classmethod
    def create_once(cls, user_id, kind, payload, dedup_key):
        """The row for `dedup_key`, created (state pending) unless an earlier call made it; the delivery job sends
        it, and the sweep enqueues pending rows whose job was lost."""
        try:
            with db.atomic():
                return cls.create(user=user_id, dedup_key=dedup_key, kind=kind, payload=payload)
        except IntegrityError:
            return cls.get(cls.dedup_key == dedup_key)

    @classmethod
    def find(cls, row_id):
        """The row, or None (not yet committed, or deleted)."""
        return cls.get_or_none(cls.id == row_id)

    @classmethod
    def create_image_once(cls, user_id, png_bytes, dedup_key, **payload):
        """An image row (the PNG kept in StoredBlob until sent) for `dedup_key`, unless an earlier call made it."""
        existing = cls.get_or_none(cls.dedup_key == dedup_key)
        if existing:
            return existing
        try:
            with db.atomic():
                blob = StoredBlob.create(mime="image/png", filename=f"{dedup_key}.png", content=png_bytes)
                return cls.create(user=user_id, dedup_key=dedup_key, kind="image", payload={"blob_id": blob.id,
                                                                                           **payload})
        except IntegrityError:
            return cls.get(cls.dedup_key == dedup_key)

    @classmethod
    def pending_among(cls, ids):
        """The rows of `ids` still pending."""
        return list(cls.select().where(cls.id.in_(list(ids)) & (cls.state == PENDING)))

    @classmethod
    def claim(cls, row_id):
        """Atomically move the row from pending/deferred (never mentioned) to sending; False if another got it."""
        return cls.update(state=SENDING, sending_at=utcnow(), attempts=cls.attempts + 1).where(
            (cls.id == row_id) & cls.state.in_([PENDING, DEFERRED]) & cls.mentioned_at.is_null()).execute() == 1

    @classmethod
    def finish(cls, row_id, state, note=None, via=None):
        """Leave `sending` for `state` (sent: with its time and channel)."""
        values = {"state": state, "error": note}
        if state == SENT:
            values.update(sent_at=utcnow(), via=via)
        cls.update(values).where((cls.id == row_id) & (cls.state == SENDING)).execute()

    @classmethod
    def keep_payload(cls, row_id, payload):
        cls.update(payload=payload).where(cls.id == row_id).execute()

    @classmethod
    def sending_since_before(cls, cutoff):
        """Rows left `sending` since before `cutoff` (a worker died mid-send) marked unknown; return how many."""
        return cls.update(state=UNKNOWN, error="left in sending: the worker stopped mid-send").where(
            (cls.state == SENDING) & (cls.sending_at < cutoff)).execute()

    @classmethod
    def stale_pending(cls, cutoff):
        """Pending rows made before `cutoff` and never mentioned, oldest first (their job may be gone)."""
        return list(cls.select().where((cls.state == PENDING) & (cls.created_at < cutoff) & cls.mentioned_at.is_null())
                    .order_by(cls.id))

    @classmethod
    def custom_sent_since(cls, user_id, since):
        """How many customer-service messages went to the user since `since` (WeChat's window counts)."""
        return cls.select().where((cls.user == user_id) & (cls.state == SENT) & (cls.via == "custom")
                                  & (cls.sent_at >= since)).count()

    @classmethod
    def undelivered_for(cls, user_id, pending_before):
        """What the user should hear about, oldest first: deferred, uncertain, or failed (not notices: those became
        PendingNotices) rows, and rows still pending since before `pending_before`; never mentioned yet."""
        waiting = (cls.state == PENDING) & (cls.created_at < pending_before)
        failed = (cls.state == UNSENT) & (cls.kind != "notice")
        return list(cls.select().where((cls.user == user_id) & cls.mentioned_at.is_null()
                                       & (cls.state.in_([DEFERRED, UNKNOWN]) | failed | waiting))
                    .order_by(cls.created_at, cls.id))

    def claim_mention(self):
        """Mark the row mentioned (a pending one deferred: it is told now, never sent later); False if it was."""
        values = {OutboundMessage.mentioned_at: utcnow()}
        if self.state == PENDING:
            values.update({OutboundMessage.state: DEFERRED, OutboundMessage.error: "told at the next message"})
        return OutboundMessage.update(values).where(
            (OutboundMessage.id == self.id) & OutboundMessage.mentioned_at.is_null()
            & (OutboundMessage.state == self.state)).execute() == 1


class StoredBlob(BaseModel):
    """Binary content every node can serve (evidence photos, uploaded documents)."""

    mime = CharField(max_length=80)
    filename = CharField(max_length=255, default="")
    content = BlobField()
    created_at = DateTimeField(default=utcnow)


def report_status(report, now=None):
    """The one status a verifier sees (docs/CONTRACT.md §2); revocation and correction outrank expiry."""
    now = now or utcnow()
    if report.revoked_at:
        return REVOKED
    if report.superseded_by_id:
        return SUPERSEDED
    if report.corrected_at:
        return CORRECTED
    if now >= report.valid_until:
        return EXPIRED
    return VALID
