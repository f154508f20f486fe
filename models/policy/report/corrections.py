"""Issued reports that showed a record turn 数据已更正 when the record is corrected, withdrawn or repaired."""

from models.base import db, utcnow
from models.tables.reports import Report, ReportArrears, ReportRecord


def mark_reports_corrected(record_id, note):
    """Mark every unrevoked report showing penalty record `record_id` as corrected; return the newly marked ids."""
    return _mark(ReportRecord.select(ReportRecord.report).where(ReportRecord.record == record_id), note)


def mark_reports_corrected_for_arrears(arrears_id, note):
    """The same for a 社保/公积金 arrears item that was corrected or withdrawn."""
    return _mark(ReportArrears.select(ReportArrears.report).where(ReportArrears.arrears == arrears_id), note)


def _mark(showing, note):
    with db.atomic():
        ids = [
            r.id
            for r in Report.select(Report.id).where(
                Report.id.in_(showing) & Report.corrected_at.is_null() & Report.revoked_at.is_null()
            )
        ]
        if ids:
            Report.update(corrected_at=utcnow(), correction_note=note).where(Report.id.in_(ids)).execute()
    return ids
