"""Records held for staff review (待核验): why each is held, and releasing it once checked.

The credit office sees and releases every held record; a department its own, except a record held because its
处罚机关 is not on the department's list, which only the credit office (the keeper of that list) may release."""

from flask import abort, flash, g, redirect, render_template, request, url_for

from models.policy.casework.severity import record_severity
from models.policy.ingestion.review import held_record, held_records, release_held
from models.policy.staff import audit, is_office
from models.tables.records import HELD_AUTHORITY, HELD_IMPLAUSIBLE, HOLD_LABELS, ORDINARY, SIMPLIFIED, hold_reasons
from webhooks.staff.common import bp, refused_back_to


@bp.app_template_filter("severity_label")
def severity_label(record):
    """A penalty's 失信程度 and where it came from (部门报送 / 《信用修复管理办法》 / 部门默认设置 / 默认)."""
    return record_severity(record).label


def _department_id():
    return None if is_office(g.staff) else g.staff.department_id


def _codes(record):
    return {h["code"] for h in record.holds or ()} | {record.review}


@bp.get("/held")
def held():
    rows = [(kind, record, hold_reasons(record), _codes(record)) for kind, record in held_records(_department_id())]
    return render_template("staff/held.html", rows=rows, labels=HOLD_LABELS, implausible=HELD_IMPLAUSIBLE,
                           authority=HELD_AUTHORITY, procedures=(ORDINARY, SIMPLIFIED), office=is_office(g.staff))


@bp.post("/held/<kind>/<int:record_id>/release")
@refused_back_to("staff.held")
def held_release(kind, record_id):
    record = held_record(kind, record_id, _department_id()) or abort(404)
    if HELD_AUTHORITY in _codes(record) and not is_office(g.staff):
        abort(403)
    reasons = hold_reasons(record)
    release_held(record, f"staff:{g.staff.username}", request.form.get("procedure") or None)
    audit(g.staff, "held_release", f"{kind}:{record_id}", reasons=reasons, procedure=request.form.get("procedure"))
    flash("已确认，该记录自即日起计入报告。")
    return redirect(url_for("staff.held"), 303)
