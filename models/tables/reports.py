"""Issued reports: the frozen, numbered, signed Report, the records and arrears items it showed, the numbering
sequence, and the status a verifier sees."""

from collections import namedtuple

from peewee import BlobField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, JSONText, db, utcnow
from models.tables.blobs import StoredBlob  # noqa: F401 (moved: see below)
from models.tables.outbound import DEFERRED, PENDING, SENT, UNKNOWN, UNSENT, OutboundMessage  # noqa: F401
from models.tables.records import ArrearsRecord, PenaltyRecord
from models.tables.registry import Enterprise
from models.tables.requests import ReportRequest

# StoredBlob, OutboundMessage and its states moved to blobs.py and outbound.py; they stay importable from here only
# for the modules other branches are changing now (jobs/delivery.py, models/policy/ingestion/enterprises.py). The
# lead points those imports at models.tables.blobs / models.tables.outbound and deletes the two lines above once
# those branches have landed.

# Report status as shown (docs/CONTRACT.md §2)
VALID = "有效"
EXPIRED = "已过期"
REVOKED = "已撤销"
CORRECTED = "数据已更正"
SUPERSEDED = "已被新报告替代"


class ReportSequence(BaseModel):
    """Per region and day, the last number used: report numbers come from the database, unique across processes."""

    region = CharField(max_length=10)
    day = DateField()
    last = IntegerField(default=0)

    class Meta:
        indexes = ((("region", "day"), True),)


_LIVE_SQL = {}  # the live-fields query by the database's parameter mark (? or %s)
_LIVE_LISTENER = [None]  # told after a commit which reports' live fields changed (see on_live_change)


def on_live_change(listener):
    """Have `listener(tokens)` called after every commit that changed live fields (LIVE_FIELDS) of reports, with
    their tokens: how the verify page's copy of them in Redis is kept exact (jobs/live_reports.py, bound by the app
    factory). Replaces the listener bound before; None unbinds."""
    _LIVE_LISTENER[0] = listener


def live_changed(report_ids):
    """The live fields of `report_ids` were just changed in this transaction: tell the listener once it commits
    (at once outside a transaction; never when it rolls back). Every writer of a live field calls this."""
    listener = _LIVE_LISTENER[0]
    if listener is None or not report_ids:
        return
    tokens = [token for (token,) in Report.select(Report.token).where(Report.id.in_(list(report_ids))).tuples()]
    if tokens:
        db.after_commit(lambda: listener(tokens))


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
        """The report's live fields (status, PDF readiness, digest) by its token as a LiveReport, or None: one
        indexed read, its SQL made once (building a peewee query costs more than running this one; it is the verify
        page's hot path)."""
        fields = [cls._meta.fields[name] for name in cls.LIVE_FIELDS]
        sql = _LIVE_SQL.get(db.obj.param)
        if sql is None:
            columns = ", ".join(f'"{f.column_name}"' for f in fields)
            table = cls._meta.table_name
            sql = _LIVE_SQL[db.obj.param] = f'SELECT {columns} FROM "{table}" WHERE "token" = {db.obj.param}'
        row = db.execute_sql(sql, (token,)).fetchone()
        if row is None:
            return None
        return LiveReport(*(f.python_value(value) for f, value in zip(fields, row, strict=True)))

    @classmethod
    def without_pdf_by_token(cls, token):
        """Every field but the PDF bytes, by token (the signed data does not need them), or None."""
        fields = [f for f in cls._meta.sorted_fields if f.name != "pdf"]
        return cls.select(*fields).where(cls.token == token).first()

    @classmethod
    def issue(cls, request, **fields):
        """Store the report issued for `request` (to its enterprise) with its frozen, numbered, signed fields;
        IntegrityError when the request has its report already (a concurrent run's)."""
        return cls.create(request=request, enterprise=request.enterprise, **fields)

    @classmethod
    def unrendered_ids(cls, issued_after, issued_before):
        """Ids of the reports issued in (issued_after, issued_before] that still have no PDF."""
        return [r.id for r in cls.select(cls.id).where(
            cls.pdf_ready_at.is_null() & (cls.issued_at <= issued_before) & (cls.issued_at > issued_after))]

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
        done = cls.update(pdf=pdf, pdf_ready_at=utcnow()).where(
            (cls.id == report_id) & cls.pdf_ready_at.is_null()
        ).execute()
        if done:
            live_changed([report_id])
        return done

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
        if done:
            live_changed([self.id])
        return bool(done)

    def recent_views(self, limit):
        """(how many times it was checked, the latest `limit` checks as (time, unit))."""
        views = self.views.model  # ViewLog (models/tables/views.py), which refers to this table
        query = views.select(views.at, views.unit).where(views.report == self)
        return query.count(), [(v.at, v.unit) for v in query.order_by(views.at.desc()).limit(limit)]


# The live fields as the verify page reads them (report_status takes one): a tuple, not a model instance, which
# costs more to build than the read itself; named as on a Report (a foreign key by its id: superseded_by_id).
LiveReport = namedtuple("LiveReport", [getattr(Report._meta.fields[name], "object_id_name", name)
                                       for name in Report.LIVE_FIELDS])


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
