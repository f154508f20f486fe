"""models.schema: versioned migrations upgrade an existing database without losing a row."""

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
