"""Department data uploads and the import batches. An upload is stored with a queued batch and imported by a worker
(jobs/imports.py), never in the web process; the batch page shows its progress and then its lines."""

import datetime as dt

from flask import abort, current_app, g, redirect, render_template, request, url_for

from jobs.imports import enqueue_upload, progress_of
from models.policy.ingestion.ingest import UnreadableFile, check_door
from models.policy.staff import audit, is_office, may_see_department
from models.tables.records import ImportBatch
from models.tables.registry import ENTERPRISE, FUND_ARREARS, SOCIAL_ARREARS, Department
from webhooks.staff.common import UPLOAD_KINDS, bp

REFRESH_SECONDS = 2


def upload_kinds(staff):
    """The data kinds this staff member may upload: every kind for the office (the register as its keeper), else
    those the department holds a grant for (the 企业名录 only when explicitly granted)."""
    if is_office(staff):
        return dict(UPLOAD_KINDS)
    held = staff.department.kinds()
    arrears = bool(held & {SOCIAL_ARREARS, FUND_ARREARS})
    return {k: v for k, v in UPLOAD_KINDS.items() if k in held or (k == "arrears" and arrears)}


def _upload_target(kind):
    """The department code a load is made for: the office loads the register as its keeper (no code)."""
    if not is_office(g.staff):
        return g.staff.department.code
    return None if kind == ENTERPRISE else request.form.get("department", "")


def _page(status=200, **extra):
    departments = Department.all_ordered() if is_office(g.staff) else [g.staff.department]
    return render_template("staff/upload.html", departments=departments, kinds=upload_kinds(g.staff), **extra), status


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    """A department's CSV/XLSX, stored and queued for the worker; the batch page follows it."""
    if request.method == "GET":
        return _page()
    kind, file = request.form.get("kind", ""), request.files.get("file")
    code = _upload_target(kind)
    error = _upload_error(kind, file, upload_kinds(g.staff))
    if error:
        return _page(400, error=error)
    try:
        department, _ = check_door(kind, code)
    except UnreadableFile as exc:
        audit(g.staff, "upload_refused", file.filename, kind=kind, department=code, error=exc.message)
        return _page(400, error=f"无法导入：{exc.message}")
    content = file.read()
    if not content:
        return _page(400, error="文件为空，没有表头和数据。")
    batch = ImportBatch.queue_upload(department, kind, file.filename, g.staff.username,
                                     _as_of(request.form.get("as_of", "")), content)
    enqueue_upload(current_app.extensions["hegui"], batch.id)
    audit(g.staff, "upload", file.filename, kind=kind, department=department.code, batch=batch.id, size=len(content))
    return redirect(url_for("staff.batch_detail", batch_id=batch.id), 303)


def _upload_error(kind, file, kinds):
    """A Chinese sentence when the upload form is incomplete or the kind is not this account's to send, else None."""
    if kind in UPLOAD_KINDS and kind not in kinds:
        return f"本单位无权报送{UPLOAD_KINDS[kind]}数据。"
    if kind not in UPLOAD_KINDS or file is None or not file.filename:
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
    department = None if is_office(g.staff) else g.staff.department_id
    return render_template("staff/batches.html", batches=ImportBatch.visible_to(department))


@bp.get("/batches/<int:batch_id>")
def batch_detail(batch_id):
    """A batch: while queued or running, its progress (the page refreshes itself); then its counts and lines."""
    batch = ImportBatch.by_id(batch_id)
    if batch is None or not may_see_department(g.staff, batch.department_id):
        abort(404)
    done = None if batch.finished else progress_of(current_app.extensions["hegui"], batch.id)
    refresh = None if batch.finished else REFRESH_SECONDS
    return render_template("staff/batch.html", batch=batch, rows=batch.lines() if batch.finished else [],
                           done=done, refresh=refresh)
