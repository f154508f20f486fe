"""Versioned migrations and the seed of domains and departments. `flask init-db` runs `upgrade`."""

import logging

from peewee import CharField, DateTimeField, IntegerField
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
from models.tables.cases import Case, CaseEvent, CaseEvidence, Holiday, PendingNotice, StaffNotice
from models.tables.records import (
    ArrearsRecord,
    CreditRepair,
    FeedStatus,
    ImportBatch,
    PenaltyRecord,
    RecordChange,
    RejectedRow,
)
from models.tables.registry import (
    CREDIT_OFFICE,
    ENTERPRISE,
    FUND_ARREARS,
    PENALTY,
    REPAIR,
    SOCIAL_ARREARS,
    ApiKey,
    Department,
    DepartmentGrant,
    Domain,
    Enterprise,
)
from models.tables.reports import (
    OutboundMessage,
    Report,
    ReportArrears,
    ReportRecord,
    ReportRequest,
    ReportSequence,
    StoredBlob,
    ViewLog,
)

log = logging.getLogger(__name__)

ALL_MODELS = [
    Domain, Department, DepartmentGrant, ApiKey, Enterprise,
    ImportBatch, RejectedRow, PenaltyRecord, ArrearsRecord, CreditRepair, FeedStatus, RecordChange,
    WechatUser, Binding, StaffUser, StaffAudit, HandledMessage, StaffSession, SmsMessage,
    ReportRequest, ReportSequence, Report, ReportRecord, ReportArrears, ViewLog, OutboundMessage, StoredBlob,
    BindingReview, Case, CaseEvidence, CaseEvent, Holiday, PendingNotice, StaffNotice,
]

# The seed's 16 domains, in the seed's order, with the short names people type.
DOMAINS = [
    ("hrss", "人力资源和社会保障", "人社,社保,劳动保障,人力资源"),
    ("natural_resources", "自然资源", "国土,自然资源局"),
    ("ecology", "生态环境", "环保,环境,生态"),
    ("transport", "交通运输", "交通"),
    ("water", "水务", "水利"),
    ("agriculture", "农业农村", "农业,农村"),
    ("commerce", "商务", "商务局"),
    ("health", "卫生健康", "卫健,卫生"),
    ("work_safety", "安全生产", "安监,应急,应急管理"),
    ("market", "市场监管", "市监,工商,市场监督"),
    ("medical_insurance", "医疗保障", "医保"),
    ("finance", "金融监管", "金融"),
    ("fire", "消防安全", "消防"),
    ("housing", "住房和城乡建设", "住建,建设"),
    ("landscaping", "园林绿化", "园林,绿化"),
    ("urban", "城市管理", "城管"),
]
DEPARTMENT_NAMES = {
    "hrss": "黑河市人力资源和社会保障局",
    "natural_resources": "黑河市自然资源局",
    "ecology": "黑河市生态环境局",
    "transport": "黑河市交通运输局",
    "water": "黑河市水务局",
    "agriculture": "黑河市农业农村局",
    "commerce": "黑河市商务局",
    "health": "黑河市卫生健康委员会",
    "work_safety": "黑河市应急管理局",
    "market": "黑河市市场监督管理局",
    "medical_insurance": "黑河市医疗保障局",
    "finance": "黑河市金融工作办公室",
    "fire": "黑河市消防救援支队",
    "housing": "黑河市住房和城乡建设局",
    "landscaping": "黑河市园林绿化中心",
    "urban": "黑河市城市管理综合执法局",
}
# Departments that provide arrears rather than one domain's penalties.
EXTRA_DEPARTMENTS = [
    ("housing_fund", "黑河市住房公积金管理中心", [FUND_ARREARS]),
    ("tax", "国家税务总局黑河市税务局", [SOCIAL_ARREARS]),
    # The register's keeper: the credit office loads the 企业名录 (and `flask import enterprises` acts for it).
    (CREDIT_OFFICE, "黑河市社会信用体系建设领导小组办公室", [ENTERPRISE]),
]


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
    """Insert the seed's domains and departments and their grants where missing; never overwrite data."""
    with db.atomic():
        for position, (code, name, aliases) in enumerate(DOMAINS, start=1):
            domain, _ = Domain.get_or_create(
                code=code, defaults={"name": name, "aliases": aliases, "position": position}
            )
            dept, _ = Department.get_or_create(code=code, defaults={"name": DEPARTMENT_NAMES[code]})
            for kind in (PENALTY, REPAIR):
                DepartmentGrant.get_or_create(department=dept, kind=kind, domain=domain)
        hrss = Department.get(Department.code == "hrss")
        DepartmentGrant.get_or_create(department=hrss, kind=SOCIAL_ARREARS, domain=None)
        for code, name, kinds in EXTRA_DEPARTMENTS:
            dept, _ = Department.get_or_create(code=code, defaults={"name": name})
            for kind in kinds:
                DepartmentGrant.get_or_create(department=dept, kind=kind, domain=None)
    seed_calendar()
