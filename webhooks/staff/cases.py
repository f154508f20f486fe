"""Cases (异议申诉, 信用修复): lists, detail, the review transitions, evidence files."""


import datetime as dt

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from jobs.notices import case_decided
from models.base import local_today
from models.policy.casework.cases import (
    KINDS,
    STATUS_LABELS,
    accept_case,
    is_overdue,
    reject_case,
    start_review,
)
from models.policy.staff import (
    audit,
    is_office,
    may_see_department,
)
from models.tables.accounts import BindingReview
from models.tables.blobs import StoredBlob
from models.tables.cases import OPEN_STATES, Case, CaseEvidence
from models.tables.registry import Department
from webhooks.staff.common import INLINE_MIMES, _rt, bp, refused_back_to

# -- cases ---------------------------------------------------------------------------------------------------------


@bp.get("/")
def index():
    return redirect(url_for("staff.cases"))


@bp.get("/cases")
def cases():
    """Cases with filters; open overdue cases first, then open ones by deadline, then closed ones."""
    status, kind, department = (request.args.get(k, "") for k in ("status", "kind", "department"))
    office = is_office(g.staff)
    statuses = OPEN_STATES if status == "open" else (status,) if status in STATUS_LABELS else None
    listed = Case.visible_to(None if office else g.staff.department_id, statuses=statuses,
                             kind=kind if kind in KINDS else None, department_code=department if office else None)
    today = local_today()
    rows = sorted(listed, key=lambda c: (
        not is_overdue(c, today), c.status not in OPEN_STATES, c.deadline if c.status in OPEN_STATES else dt.date.max,
    ))
    return render_template("staff/cases.html", cases=rows, today=today, filters={
        "status": status, "kind": kind, "department": department}, departments=Department.all_ordered(),
        is_overdue=is_overdue)


def _case_or_404(case_id):
    """The case, when this staff member may see it; 404 otherwise (a department learns nothing of others')."""
    case = Case.find(case_id)
    if case is None or not may_see_department(g.staff, case.department_id):
        abort(404)
    return case


@bp.get("/cases/<int:case_id>")
def case_detail(case_id):
    case = _case_or_404(case_id)
    return render_template("staff/case.html", case=case, record=case.record, evidence=case.evidence_list(),
                           events=case.history(), overdue=is_overdue(case))


def _actor():
    return f"staff:{g.staff.username}"


@bp.post("/cases/<int:case_id>/review")
@refused_back_to("staff.case_detail", "case_id")
def case_review(case_id):
    case = _case_or_404(case_id)
    return _transition(case, "case_review", lambda: start_review(case, _actor()))


@bp.post("/cases/<int:case_id>/accept")
@refused_back_to("staff.case_detail", "case_id")
def case_accept(case_id):
    case = _case_or_404(case_id)
    resolution, reason = request.form.get("resolution", ""), request.form.get("reason", "")

    def act():
        decided, report_ids = accept_case(case, _actor(), resolution, reason)
        case_decided(_rt(), decided.id, report_ids)
        return decided

    return _transition(case, "case_accept", act, resolution=resolution, reason=reason)


@bp.post("/cases/<int:case_id>/reject")
@refused_back_to("staff.case_detail", "case_id")
def case_reject(case_id):
    case = _case_or_404(case_id)
    reason = request.form.get("reason", "")

    def act():
        decided = reject_case(case, _actor(), reason)
        case_decided(_rt(), decided.id)
        return decided

    return _transition(case, "case_reject", act, reason=reason)


def _transition(case, action, act, **detail):
    """Run a case transition and audit it (refused, it is shown on the case page: `refused_back_to`)."""
    act()
    audit(g.staff, action, case.number, **detail)
    flash("已保存。")
    return redirect(url_for("staff.case_detail", case_id=case.id), 303)


@bp.get("/blobs/<int:blob_id>")
def blob(blob_id):
    """An evidence photo or binding document, to staff who may see the case or review it."""
    if not _may_see_blob(blob_id):
        abort(404)
    stored = StoredBlob.find(blob_id) or abort(404)
    audit(g.staff, "view_blob", blob_id)
    # The type comes from the outside (WeChat's media download): anything but a plain image or a PDF is only
    # downloaded, never rendered on the console's origin (an HTML or SVG "photo" would run script there).
    inline = stored.mime in INLINE_MIMES
    mimetype = stored.mime if inline else "application/octet-stream"
    response = current_app.response_class(bytes(stored.content), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline" if inline else "attachment"
    return response


def _may_see_blob(blob_id):
    """True when the blob is evidence of a case this staff member may see, or (the office) a binding document."""
    if any(may_see_department(g.staff, d) for d in CaseEvidence.departments_showing(blob_id)):
        return True
    return is_office(g.staff) and BindingReview.any_names_blob(blob_id)


