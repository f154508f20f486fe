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
IN_PROGRESS = (QUEUED, BUILDING, ISSUED)  # what the owner is told is still being made (ISSUED: QR not yet sent)

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

    @classmethod
    def among(cls, ids):
        """The reports of `ids`."""
        return list(cls.select().where(cls.id.in_(list(ids))))

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
        """A verifier named their unit: it goes on the viewer's latest view of the report since `since` (a later
        statement corrects an earlier one), else it is a view of its own; never a new entry per statement. The
        viewer is their openid when OAuth told us, else their address (a User-Agent is the sender's choice).
        Applying the same statement twice changes nothing more. `view` as for log_many."""
        if view.get("entry") and cls.select().where(cls.entry == view["entry"]).exists():
            return 0
        viewer = (cls.openid == view["openid"]) if view.get("openid") else (cls.ip == view["ip"][:64])
        latest = (cls.select(cls.id).where((cls.report == view["report"]) & viewer & (cls.at >= since))
                  .order_by(cls.at.desc()).first())
        if latest is not None:
            return cls.update(unit=view["unit"]).where(cls.id == latest.id).execute()
        return cls.log_many([view])


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
