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
from models.tables.accounts import WechatUser
from models.tables.records import ArrearsRecord, PenaltyRecord
from models.tables.registry import Enterprise

# ReportRequest.status
QUEUED = "queued"
BUILDING = "building"
DELIVERED = "delivered"
FAILED = "failed"

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
    # Every signature over `snapshot`: [{"algorithm": "Ed25519" | "SM2-SM3", "key_id", "value"}] (docs/CONTRACT.md
    # §2); null on reports issued before migration 4, which carry the Ed25519 one only.
    signatures = JSONText(null=True)
    pdf = BlobField(null=True)
    pdf_ready_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    superseded_by = ForeignKeyField("self", null=True, backref="supersedes")
    corrected_at = DateTimeField(null=True)
    correction_note = TextField(null=True)

    @classmethod
    def by_token(cls, token):
        """The report a QR code's token names, or None."""
        return cls.get_or_none(cls.token == token)

    @classmethod
    def by_number(cls, number):
        """The report with this number, or None."""
        return cls.get_or_none(cls.number == number)

    @classmethod
    def of_request(cls, request_id):
        """The report issued for ReportRequest `request_id`, or None."""
        return cls.get_or_none(cls.request == request_id)

    def signature_list(self):
        """Every signature over the snapshot; the Ed25519 one alone for reports issued before migration 4."""
        if self.signatures:
            return list(self.signatures)
        return [{"algorithm": self.algorithm, "key_id": self.key_id, "value": self.signature}]

    @classmethod
    def store_pdf(cls, report_id, pdf):
        """Keep the finished PDF for every web node; a second rendering never overwrites the first."""
        return cls.update(pdf=pdf, pdf_ready_at=utcnow()).where(
            (cls.id == report_id) & cls.pdf_ready_at.is_null()
        ).execute()


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
    def log(cls, report, ip, user_agent, openid, unit):
        """One view of `report`; returns its id."""
        with db.atomic():
            return cls.create(report=report, unit=unit, openid=openid, ip=ip[:64], user_agent=user_agent[:1000]).id

    @classmethod
    def set_unit_once(cls, view_id, unit):
        """Name the verifier's unit on a view that has none yet."""
        return cls.update(unit=unit).where((cls.id == view_id) & cls.unit.is_null()).execute()


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


def remember_verifier_unit(openid, unit):
    """Keep a verifier's unit on their WechatUser (made on first sight, not as a follower)."""
    with db.atomic():
        user, _ = WechatUser.get_or_create(openid=openid, defaults={"subscribed": False})
        user.verifier_unit = unit
        user.save(only=[WechatUser.verifier_unit])


def verifier_unit_of(openid):
    """The unit a verifier stated before, or None."""
    user = WechatUser.get_or_none(WechatUser.openid == openid)
    return user.verifier_unit if user else None


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
