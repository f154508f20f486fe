"""models.tables.schema: versioned migrations upgrade an existing database without losing a row."""

from models.base import db
from models.tables.registry import Enterprise
from models.tables.reports import ReportArrears
from models.tables.schema import MIGRATIONS, SchemaVersion, applied_versions, upgrade


def test_a_database_at_version_1_upgrades_and_keeps_its_rows(app):
    Enterprise.create(uscc="91231100MA1B2C3D4E", name="黑河市老数据有限公司")
    db.drop_tables([ReportArrears])  # the schema as version 1 left it
    SchemaVersion.delete().where(SchemaVersion.version > 1).execute()
    assert applied_versions() == {1}

    assert upgrade() == [v for v, _, _ in MIGRATIONS if v > 1]

    assert ReportArrears.table_exists()
    assert Enterprise.get().name == "黑河市老数据有限公司"
    assert applied_versions() == {v for v, _, _ in MIGRATIONS}
    assert upgrade() == []  # safe to run again


def test_a_database_at_version_3_gets_keys_holds_the_565_tables_and_authorities(app, case_world):
    """Migration 4 on a database made before it: columns added, keys backfilled from the stored text, new tables,
    the seeded departments' authorities; no row lost."""
    from playhouse.migrate import SchemaMigrator, migrate

    from models.tables.listings import CriminalJudgment, DishonestListing, EnforcementRecord, ReportItem
    from models.tables.records import ArrearsRecord, ImportBatch, ImportUpload, PenaltyRecord, RejectedRow
    from models.tables.registry import Department, DepartmentAuthority

    record = case_world.record(decision_no="黑市监罚〔2026〕 5号")
    db.execute_sql('DROP INDEX "penalty_record_decision_key_authority_key"')
    migrator = SchemaMigrator.from_database(db.obj)
    dropped = {PenaltyRecord: ["subject_class", "decision_key", "confiscated_wan", "licence", "valid_until",
                               "publicity_until", "authority_key", "authority_code", "source_unit_code", "remark",
                               "holds", "raw"],
               ArrearsRecord: ["holds", "raw"], Department: ["default_severity"],
               ImportBatch: ["as_of", "unchanged", "skipped"], RejectedRow: ["outcome"]}
    migrate(*[migrator.drop_column(model._meta.table_name, c) for model, columns in dropped.items() for c in columns])
    db.drop_tables([DepartmentAuthority, ImportUpload, EnforcementRecord, DishonestListing, CriminalJudgment,
                    ReportItem])
    SchemaVersion.delete().where(SchemaVersion.version >= 4).execute()

    assert upgrade() == [v for v, _, _ in MIGRATIONS if v >= 4]

    upgraded = PenaltyRecord.get_by_id(record.id)
    assert (upgraded.decision_no, upgraded.decision_key) == ("黑市监罚〔2026〕 5号", "黑市监罚〔2026〕5号")
    assert upgraded.authority_key == "黑河市市场监督管理局" and upgraded.holds is None
    assert "孙吴县市场监督管理局" in Department.get(Department.code == "market").authority_names()
    assert EnforcementRecord.table_exists() and ReportItem.table_exists()
    assert upgrade() == []
