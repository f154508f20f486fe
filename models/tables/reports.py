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


_LIVE_SQL = {}  # the live-fields query by the database's parameter mark (? or %s)


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

    # What the verify page needs on every request: the status and how to find the cached rendering. Never the PDF
    # (hundreds of KB) nor the snapshot, which only a rendering that is not cached yet reads.
    LIVE_FIELDS = ("id", "token", "number", "issued_at", "valid_until", "revoked_at", "superseded_by", "corrected_at",
                   "correction_note", "pdf_ready_at", "digest")

    @classmethod
    def live_by_token(cls, token):
        """The report's live fields (status, PDF readiness, digest) by its token, or None: one indexed read, its SQL
        made once (building a peewee query costs more than running this one; it is the verify page's hot path)."""
        fields = [cls._meta.fields[name] for name in cls.LIVE_FIELDS]
        sql = _LIVE_SQL.get(db.obj.param)
        if sql is None:
            columns = ", ".join(f'"{f.column_name}"' for f in fields)
            table = cls._meta.table_name
            sql = _LIVE_SQL[db.obj.param] = f'SELECT {columns} FROM "{table}" WHERE "token" = {db.obj.param}'
        row = db.execute_sql(sql, (token,)).fetchone()
        if row is None:
            return None
        return cls(**{f.name: f.python_value(value) for f, value in zip(fields, row, strict=True)})

    @classmethod
    def without_pdf_by_token(cls, token):
        """Every field but the PDF bytes, by token (the signed data does not need them), or None."""
        fields = [f for f in cls._meta.sorted_fields if f.name != "pdf"]
        return cls.select(*fields).where(cls.token == token).first()

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
    """One verifier's view of a report. Written in batches from the Redis stream the verify page appends to
    (jobs/views.py); `entry` is the stream entry's id, so a batch flushed twice is stored once."""

    report = ForeignKeyField(Report, backref="views", on_delete="CASCADE")
    at = DateTimeField(default=utcnow, index=True)
    unit = CharField(max_length=120, null=True)
    openid = CharField(max_length=64, null=True)
    ip = CharField(max_length=64, default="")
    user_agent = TextField(default="")
    entry = CharField(max_length=40, null=True, unique=True)

    @classmethod
    def log_many(cls, views):
        """Store views (dicts of report id, at, ip, user_agent, openid, unit, entry); an entry already stored is
        skipped. Returns how many were new."""
        rows = [dict(report=v["report"], at=v["at"], unit=v.get("unit"), openid=v.get("openid"), ip=v["ip"][:64],
                     user_agent=v["user_agent"][:1000], entry=v.get("entry")) for v in views]
        known = {e for (e,) in cls.select(cls.entry).where(cls.entry.in_([r["entry"] for r in rows if r["entry"]]))
                 .tuples()}
        fresh = [r for r in rows if r["entry"] is None or r["entry"] not in known]
        with db.atomic():
            for start in range(0, len(fresh), 500):
                cls.insert_many(fresh[start:start + 500]).on_conflict_ignore().execute()
        return len(fresh)

    @classmethod
    def name_unit(cls, view, since):
        """A verifier named their unit: on their latest view since `since` that has none, else as a view of its own
        (`view` as for log_many). Applying the same statement twice changes nothing more."""
        if view.get("entry") and cls.select().where(cls.entry == view["entry"]).exists():
            return 0
        same_client = ((cls.report == view["report"]) & (cls.ip == view["ip"][:64])
                       & (cls.user_agent == view["user_agent"][:1000]) & (cls.at >= since)
                       & (cls.openid.is_null() if view.get("openid") is None else cls.openid == view["openid"]))
        if cls.select().where(same_client & (cls.unit == view["unit"])).exists():
            return 0
        latest = cls.select(cls.id).where(same_client & cls.unit.is_null()).order_by(cls.at.desc()).first()
        if latest is not None:
            return cls.update(unit=view["unit"]).where(cls.id == latest.id).execute()
        return cls.log_many([view])

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
