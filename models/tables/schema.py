"""Versioned migrations and the seed of domains and departments. `flask init-db` runs `upgrade`."""

import csv
import logging
from pathlib import Path

from peewee import CharField, DateTimeField, IntegerField, fn
from playhouse.migrate import SchemaMigrator, migrate

from models.base import BaseModel, db, utcnow
from models.policy.workdays import seed_calendar
from models.tables.accounts import (
    Binding,
    BindingReview,
    HandledMessage,
    SmsMessage,
    StaffAudit,
    StaffSession,
    StaffUser,
    WechatUser,
)
from models.tables.blobs import StoredBlob
from models.tables.cases import Case, CaseEvent, CaseEvidence, Holiday, PendingNotice, StaffNotice
from models.tables.listings import CriminalJudgment, DishonestListing, EnforcementRecord, ReportItem
from models.tables.outbound import OutboundMessage
from models.tables.records import (
    ArrearsRecord,
    CreditRepair,
    FeedStatus,
    ImportBatch,
    ImportUpload,
    PenaltyRecord,
    RecordChange,
    RejectedRow,
)
from models.tables.registry import (
    PENALTY,
    REPAIR,
    ApiKey,
    Department,
    DepartmentAuthority,
    DepartmentGrant,
    Domain,
    Enterprise,
    name_key,
)
from models.tables.reports import Report, ReportArrears, ReportRecord, ReportSequence
from models.tables.requests import ReportRequest
from models.tables.views import ViewLog

log = logging.getLogger(__name__)

ALL_MODELS = [
    Domain, Department, DepartmentGrant, DepartmentAuthority, ApiKey, Enterprise,
    ImportBatch, RejectedRow, ImportUpload, PenaltyRecord, ArrearsRecord, CreditRepair, FeedStatus, RecordChange,
    EnforcementRecord, DishonestListing, CriminalJudgment, ReportItem,
    WechatUser, Binding, StaffUser, StaffAudit, HandledMessage, StaffSession, SmsMessage,
    ReportRequest, ReportSequence, Report, ReportRecord, ReportArrears, ViewLog, OutboundMessage, StoredBlob,
    BindingReview, Case, CaseEvidence, CaseEvent, Holiday, PendingNotice, StaffNotice,
]

SEED_DATA = Path(__file__).resolve().parents[1] / "data"  # models/data: one row per domain, department, authority


def _csv(name):
    with open(SEED_DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# The seed's 16 domains in its order (code, name, aliases), each with its department: models/data/domains.csv.
SEED_DOMAINS = _csv("domains.csv")
DOMAINS = [(row["code"], row["name"], row["aliases"].replace(";", ",")) for row in SEED_DOMAINS]
# Departments that provide more than (or other than) one domain's penalties, and what they may send.
SEED_DEPARTMENTS = _csv("departments.csv")
# The authorities each seeded department speaks for besides its own name: county (县市区) bureaus, branches.
SEED_AUTHORITIES = _csv("authorities.csv")


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    name = CharField(max_length=80)
    applied_at = DateTimeField(default=utcnow)


def _initial_schema():
    db.create_tables(ALL_MODELS, safe=True)


def _report_arrears_links():
    db.create_tables([ReportArrears], safe=True)


def _add_columns(model, *names):
    """Add the model's fields `names` to its table where the table lacks them (a new database has them already)."""
    present = {c.name for c in db.get_columns(model._meta.table_name)}
    migrator = SchemaMigrator.from_database(db.obj)
    fields = [model._meta.fields[n] for n in names if model._meta.fields[n].column_name not in present]
    migrate(*[migrator.add_column(model._meta.table_name, f.column_name, f) for f in fields])


def _register_keeper():
    _add_columns(Enterprise, "mobile_changed_at")
    _add_columns(BindingReview, "trigger")
    db.create_tables([HandledMessage], safe=True)


def _report_signatures():
    _add_columns(Report, "signatures")


def _protocol():
    _add_columns(WechatUser, "last_event_at")
    _add_columns(OutboundMessage, "via")
    db.create_tables([StaffSession], safe=True)


def _sms_rows_and_kept_reports():
    db.create_tables([SmsMessage], safe=True)
    _add_columns(ReportRequest, "keep_earlier")


def _national_data():
    """Issue 10: the national layout's fields, keys for matching, holds, the 565号 kinds, authorities, uploads."""
    _add_columns(PenaltyRecord, "subject_class", "decision_key", "confiscated_wan", "licence", "valid_until",
                 "publicity_until", "authority_key", "authority_code", "source_unit_code", "remark", "holds", "raw")
    _add_columns(ArrearsRecord, "holds", "raw")
    _add_columns(Department, "default_severity")
    _add_columns(ImportBatch, "as_of", "unchanged", "skipped")
    _add_columns(RejectedRow, "outcome")
    # Stored text was NFKC-folded on read until now, so the key is the text without its spaces.
    PenaltyRecord.update(decision_key=fn.REPLACE(PenaltyRecord.decision_no, " ", ""),
                         authority_key=fn.REPLACE(PenaltyRecord.authority, " ", "")).where(
        PenaltyRecord.decision_key == "").execute()
    db.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS "penalty_record_decision_key_authority_key" '
                   'ON "penalty_record" ("decision_key", "authority_key")')
    db.create_tables([DepartmentAuthority, ImportUpload, EnforcementRecord, DishonestListing, CriminalJudgment,
                      ReportItem], safe=True)
    for department in Department.select():  # departments seeded before this version get their authorities now
        _seed_authorities(department)


# (version, name, function). Append only; never edit an applied migration. A new database gets every table from
# migration 1 (the current models), so each later migration must be a no-op there: create safely, add columns if absent.
def _view_entries():
    _add_columns(ViewLog, "entry")
    present = {i.name for i in db.get_indexes(ViewLog._meta.table_name)}
    if "view_log_entry" not in present:
        db.execute_sql('CREATE UNIQUE INDEX "view_log_entry" ON "view_log" ("entry")')


MIGRATIONS = [
    (1, "initial schema", _initial_schema),
    (2, "reports remember the arrears items they showed", _report_arrears_links),
    (3, "register keeper: mobile changes, reviewed bindings, actions once per message", _register_keeper),
    (4, "reports keep every signature (SM2-SM3 beside Ed25519)", _report_signatures),
    (5, "views are flushed in batches from a stream, each entry once", _view_entries),
    (6, "WeChat's windows per kind, how a message went, server-side staff sessions", _protocol),
    (7, "SMS as rows (no text in job arguments); requests that keep earlier reports", _sms_rows_and_kept_reports),
    (8, "national layouts, the 565号 kinds, authorities, stored uploads", _national_data),
]


def applied_versions():
    """Versions already applied to the bound database."""
    db.create_tables([SchemaVersion], safe=True)
    return {row.version for row in SchemaVersion.select()}


def upgrade():
    """Apply pending migrations in order, each in its own transaction; return the versions applied."""
    done = applied_versions()
    applied = []
    for version, name, func in MIGRATIONS:
        if version in done:
            continue
        with db.atomic():
            func()
            SchemaVersion.create(version=version, name=name)
        log.info("applied migration %s: %s", version, name)
        applied.append(version)
    return applied


def seed():
    """Insert the seed's domains, departments, grants and authorities where missing; never overwrite data."""
    with db.atomic():
        for position, row in enumerate(SEED_DOMAINS, start=1):
            domain, _ = Domain.get_or_create(
                code=row["code"], defaults={"name": row["name"], "aliases": row["aliases"].replace(";", ","),
                                            "position": position})
            dept = _seed_department(row["department_code"], row["department_name"])
            for kind in (PENALTY, REPAIR):
                DepartmentGrant.get_or_create(department=dept, kind=kind, domain=domain)
        for row in SEED_DEPARTMENTS:
            dept = _seed_department(row["code"], row["name"])
            for kind in filter(None, row["grants"].split(";")):
                DepartmentGrant.get_or_create(department=dept, kind=kind, domain=None)
    seed_calendar()


def _seed_department(code, name):
    """The department `code`, created with its seeded authorities when it does not exist yet."""
    dept, created = Department.get_or_create(code=code, defaults={"name": name})
    if created:
        _seed_authorities(dept)
    return dept


def _seed_authorities(department):
    """Add the seed's authorities of `department` that it lacks (once: on creation, or by migration 4)."""
    have = {a.key for a in department.authorities}
    for row in SEED_AUTHORITIES:
        if row["department_code"] == department.code and name_key(row["authority"]) not in have:
            DepartmentAuthority.create(department=department, name=row["authority"], key=name_key(row["authority"]))
