"""Issued reports that showed an item turn 数据已更正 when the item is corrected, withdrawn or repaired."""

from models.base import db, utcnow
from models.tables.listings import ReportItem
from models.tables.reports import Report, ReportArrears, ReportRecord, live_changed


def mark_reports_corrected(record_id, note):
    """Mark every unrevoked report showing penalty record `record_id` as corrected; return the newly marked ids."""
    return _mark(ReportRecord.select(ReportRecord.report).where(ReportRecord.record == record_id), note)


def mark_reports_corrected_for_arrears(arrears_id, note):
    """The same for a 社保/公积金 arrears item that was corrected or withdrawn."""
    return _mark(ReportArrears.select(ReportArrears.report).where(ReportArrears.arrears == arrears_id), note)


def mark_reports_corrected_for_item(kind, item_id, note):
    """The same for an item of a 565号 kind (行政强制, 严重失信主体名单, 刑事)."""
    showing = ReportItem.select(ReportItem.report).where((ReportItem.kind == kind) & (ReportItem.item_id == item_id))
    return _mark(showing, note)


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
            live_changed(ids)
    return ids
