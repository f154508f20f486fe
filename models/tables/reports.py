"""Report requests, issued reports, their numbering, views and outbound deliveries."""

from peewee import (
    BlobField,
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
from models.tables.records import ArrearsRecord, PenaltyRecord
from models.tables.registry import Enterprise

# ReportRequest.status
QUEUED = "queued"
BUILDING = "building"
DELIVERED = "delivered"
FAILED = "failed"
IN_PROGRESS = (QUEUED, BUILDING)  # what the owner is told is still being made

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
    keep_earlier = BooleanField(default=False)  # the owner chose 「保留」: earlier reports for the purpose stay valid
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "msg_key"), True),)

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
    def find(cls, report_id):
        """The report with this id, or None."""
        return cls.get_or_none(cls.id == report_id)

    @classmethod
    def recent_for(cls, enterprise, limit):
        """The enterprise's latest reports, newest first."""
        return list(cls.select().where(cls.enterprise == enterprise).order_by(cls.issued_at.desc()).limit(limit))

    @classmethod
    def valid_for_purpose(cls, enterprise, category, purpose, now=None):
        """The enterprise's reports that a new one for this purpose would replace (已被新报告替代): valid, neither
        revoked nor already replaced. The same test as `models.policy.report.snapshot.supersede_older`."""
        same_purpose = ReportRequest.select(ReportRequest.id).where(
            (ReportRequest.enterprise == enterprise) & (ReportRequest.purpose_category == category)
            & (ReportRequest.purpose == purpose)
        )
        return list(cls.select().where(
            (cls.enterprise == enterprise) & cls.request.in_(same_purpose) & cls.revoked_at.is_null()
            & cls.superseded_by.is_null() & (cls.valid_until > (now or utcnow()))
        ).order_by(cls.issued_at))

    @classmethod
    def latest_valid_for(cls, enterprise, now=None):
        """The enterprise's newest report a verifier would see as 有效, or None."""
        for report in cls.recent_for(enterprise, 20):
            if report_status(report, now) == VALID:
                return report
        return None

    def issued_to(self):
        """The id of the user whose request made this report."""
        return ReportRequest.select(ReportRequest.user).where(ReportRequest.id == self.request_id).scalar()

    def revoke(self):
        """Revoke the report (a verifier then sees 已撤销); True when this call revoked it."""
        done = Report.update(revoked_at=utcnow()).where((Report.id == self.id) & Report.revoked_at.is_null()).execute()
        return bool(done)

    def recent_views(self, limit):
        """(how many times it was checked, the latest `limit` checks as (time, unit))."""
        query = ViewLog.select(ViewLog.at, ViewLog.unit).where(ViewLog.report == self)
        return query.count(), [(v.at, v.unit) for v in query.order_by(ViewLog.at.desc()).limit(limit)]


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


class OutboundMessage(BaseModel):
    """A message to a WeChat user, marked before it is sent so that a crash never makes it go twice."""

    user = ForeignKeyField(WechatUser, backref="outbound")
    dedup_key = CharField(unique=True, max_length=120)
    kind = CharField(max_length=20)  # text / image / template
    payload = JSONText()
    state = CharField(max_length=12, default="pending", index=True)  # pending/sending/sent/deferred/unknown/failed
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    sending_at = DateTimeField(null=True)  # when the last send began: sweep_unknown's clock
    mentioned_at = DateTimeField(null=True)  # when the bot told the user it was not (surely) delivered

    @classmethod
    def images_to(cls, openid, key_prefix):
        """The image messages for the user `openid` whose dedup key starts with `key_prefix`."""
        return list(cls.select().join(WechatUser).where(
            (WechatUser.openid == openid) & (cls.kind == "image") & cls.dedup_key.startswith(key_prefix)))

    @classmethod
    def create_once(cls, user_id, kind, payload, dedup_key):
        """The row for `dedup_key`, created (state pending) unless an earlier call made it; the delivery job sends
        it, and the sweep enqueues pending rows whose job was lost."""
        try:
            with db.atomic():
                return cls.create(user=user_id, dedup_key=dedup_key, kind=kind, payload=payload)
        except IntegrityError:
            return cls.get(cls.dedup_key == dedup_key)


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
