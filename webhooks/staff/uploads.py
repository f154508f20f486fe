"""Department data uploads (the same validation as `flask import`) and the import batches."""


import datetime as dt

from flask import abort, g, render_template, request

from jobs.delivery import enqueue_rows
from models.policy.ingestion.ingest import KINDS as IMPORT_KINDS
from models.policy.ingestion.ingest import UnreadableFile, import_file
from models.policy.staff import (
    audit,
    is_office,
    may_see_department,
)
from models.tables.records import ImportBatch, RejectedRow
from models.tables.registry import (
    ENTERPRISE,
    FUND_ARREARS,
    SOCIAL_ARREARS,
    Department,
    DepartmentGrant,
)
from webhooks.staff.common import UPLOAD_KINDS, bp

# -- uploads -------------------------------------------------------------------------------------------------------


def upload_kinds(staff):
    """The data kinds this staff member may upload: every kind for the office (the register as its keeper), else
    those the department holds a grant for (the 企业名录 only when explicitly granted)."""
    if is_office(staff):
        return dict(UPLOAD_KINDS)
    held = {g.kind for g in DepartmentGrant.select().where(DepartmentGrant.department == staff.department_id)}
    arrears = bool(held & {SOCIAL_ARREARS, FUND_ARREARS})
    return {k: v for k, v in UPLOAD_KINDS.items() if k in held or (k == "arrears" and arrears)}


def _upload_target(kind):
    """The department code a load is made for: the office loads the register as its keeper (no code)."""
    if not is_office(g.staff):
        return g.staff.department.code
    return None if kind == ENTERPRISE else request.form.get("department", "")


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    """A department's CSV/XLSX through the same validation as `flask import`; rejected rows shown."""
    departments = Department.select().order_by(Department.id) if is_office(g.staff) else [g.staff.department]
    kinds = upload_kinds(g.staff)
    if request.method == "GET":
        return render_template("staff/upload.html", departments=departments, kinds=kinds)
    kind, file = request.form.get("kind", ""), request.files.get("file")
    code = _upload_target(kind)
    error = _upload_error(kind, file, kinds)
    if error:
        return render_template("staff/upload.html", departments=departments, kinds=kinds, error=error), 400
    try:
        result = import_file(file.stream, file.filename, kind, code, source="staff", actor=g.staff.username,
                             as_of=_as_of(request.form.get("as_of", "")))
    except UnreadableFile as exc:
        audit(g.staff, "upload_unreadable", file.filename, kind=kind, department=code, error=exc.message)
        return render_template("staff/upload.html", departments=departments, kinds=kinds,
                               error=f"无法导入：{exc.message}"), 400
    enqueue_rows(result.outbound)
    audit(g.staff, "upload", file.filename, kind=kind, department=code, batch=result.batch_id,
          summary=result.summary())
    return render_template("staff/upload.html", departments=departments, kinds=kinds, result=result,
                           filename=file.filename)


def _upload_error(kind, file, kinds):
    """A Chinese sentence when the upload form is incomplete or the kind is not this account's to send, else None."""
    if kind in UPLOAD_KINDS and kind not in kinds:
        return f"本单位无权报送{UPLOAD_KINDS[kind]}数据。"
    if kind not in UPLOAD_KINDS or kind not in IMPORT_KINDS or file is None or not file.filename:
        return "请选择数据类型和文件。"
    try:
        _as_of(request.form.get("as_of", ""))
    except ValueError:
        return "数据截至日期格式应为 YYYY-MM-DD。"
    return None


def _as_of(value):
    return dt.date.fromisoformat(value.strip()) if value.strip() else None


@bp.get("/batches")
def batches():
    query = ImportBatch.select().order_by(ImportBatch.id.desc()).limit(100)
    if not is_office(g.staff):
        query = query.where(ImportBatch.department == g.staff.department_id)
    return render_template("staff/batches.html", batches=query)


@bp.get("/batches/<int:batch_id>")
def batch_detail(batch_id):
    batch = ImportBatch.get_or_none(ImportBatch.id == batch_id)
    if batch is None or not may_see_department(g.staff, batch.department_id):
        abort(404)
    rows = RejectedRow.select().where(RejectedRow.batch == batch).order_by(RejectedRow.row_number).limit(2000)
    return render_template("staff/batch.html", batch=batch, rows=rows)


