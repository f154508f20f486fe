"""models.policy.report.corrections: issued reports showing a corrected record turn 数据已更正."""

from models.base import utcnow
from models.policy.report.corrections import mark_reports_corrected
from models.tables.reports import CORRECTED, REVOKED, Report, ReportRecord, report_status


def test_reports_showing_the_record_are_marked_once(case_world, make_signed_report):
    record = case_world.record()
    other = case_world.record()
    shown = make_signed_report(enterprise=case_world.enterprise)
    revoked = make_signed_report(enterprise=case_world.enterprise, revoked_at=utcnow())
    unrelated = make_signed_report(enterprise=case_world.enterprise)
    for report in (shown, revoked):
        ReportRecord.create(report=report, record=record)
    ReportRecord.create(report=unrelated, record=other)

    assert mark_reports_corrected(record.id, "处罚决定书已更正") == [shown.id]

    assert report_status(Report.get_by_id(shown.id)) == CORRECTED
    assert Report.get_by_id(shown.id).correction_note == "处罚决定书已更正"
    assert report_status(Report.get_by_id(revoked.id)) == REVOKED
    assert Report.get_by_id(unrelated.id).corrected_at is None
    assert mark_reports_corrected(record.id, "again") == []
    assert Report.get_by_id(shown.id).correction_note == "处罚决定书已更正"
