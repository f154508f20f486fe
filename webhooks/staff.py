"""The staff console `/staff/`: cases, binding reviews, uploads, departments, data freshness, the audit log.

Server-rendered, plain CSS. Sessions are Flask's signed cookie (nothing held in one node's memory) with an idle
expiry; CSRF (Flask-WTF) is checked on this blueprint only, so `POST /wechat` and the departments' API are untouched;
failed logins are counted in Redis. The credit office (role `office`) sees everything, a department only its own.
"""

import datetime as dt
import functools
import time

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from peewee import DoesNotExist

from jobs.delivery import enqueue_rows, queue_notice
from jobs.notices import case_decided
from models import departments as dept_model
from models.accounts import BindingReview, StaffAudit, StaffUser
from models.base import local_today, to_local, utcnow
from models.cases import OPEN_STATES, Case, CaseEvidence
from models.casework import (
    KINDS,
    RESOLUTIONS,
    STATUS_LABELS,
    CaseError,
    accept_case,
    is_overdue,
    reject_case,
    start_review,
)
from models.ingest import KINDS as IMPORT_KINDS
from models.ingest import UnreadableFile, import_file
from models.records import ImportBatch, RejectedRow
from models.registry import (
    DATA_KINDS,
    ENTERPRISE,
    FUND_ARREARS,
    SOCIAL_ARREARS,
    ApiKey,
    Department,
    DepartmentGrant,
)
from models.reports import StoredBlob
from models.staff import (
    OFFICE,
    ROLES,
    ReviewError,
    approve_binding,
    audit,
    binding_outcome_text,
    check_login,
    feed_freshness,
    is_office,
    may_see_department,
    refuse_binding,
)

bp = Blueprint("staff", __name__, url_prefix="/staff")
PUBLIC_ENDPOINTS = {"staff.login"}
INLINE_MIMES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "application/pdf"}
UPLOAD_KINDS = {"penalty": "行政处罚", "arrears": "欠缴（社保/公积金）", "repair": "信用修复", "enterprise": "企业名录"}


def init_app(app):
    """Register the blueprint, CSRF checked on it only, and the idle-expiring session."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked by the staff blueprint only (not /wechat, not the API)
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(minutes=app.config.get("STAFF_IDLE_MINUTES", 30))
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SESSION_COOKIE_SECURE"] = app.config.get("PUBLIC_BASE_URL", "").startswith("https://")
    app.extensions["staff_csrf"] = CSRFProtect(app)
    app.jinja_env.globals.update(to_local=to_local)
    app.register_blueprint(bp)


def _rt():
    return current_app.extensions["hegui"]


@bp.before_request
def _guard():
    """CSRF on every POST; a logged-in, recently active staff member on every page but the login."""
    g.pop("staff", None)  # g outlives a request when a caller holds the app context (tests, CLI)
    if request.method == "POST":
        current_app.extensions["staff_csrf"].protect()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    staff = session_staff()
    if staff is None:
        return redirect(url_for("staff.login", next=request.path))
    g.staff = staff
    return None


def session_staff(active=True):
    """The StaffUser of this session, or None when absent, inactive or idle too long (then the session ends).

    `active=False` for requests a page makes by itself (polling), which must not keep an idle session alive."""
    staff_id, seen = session.get("staff_id"), session.get("seen", 0)
    idle = current_app.config.get("STAFF_IDLE_MINUTES", 30) * 60
    if staff_id is None:
        return None
    if time.time() - seen > idle:
        _end_session()
        flash("登录已超时，请重新登录。")
        return None
    staff = StaffUser.get_or_none((StaffUser.id == staff_id) & (StaffUser.active == True))  # noqa: E712
    if staff is None:
        _end_session()
        return None
    if active:
        session["seen"] = int(time.time())
    return staff


def _end_session():
    """Forget the session, and the CSRF token cached for this app context with it."""
    session.clear()
    g.pop("csrf_token", None)


def office_only(view):
    """Views for the credit office alone: a department gets 403."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not is_office(g.staff):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.app_template_global()
def staff_labels():
    return {"kinds": KINDS, "status": STATUS_LABELS, "resolutions": RESOLUTIONS, "roles": ROLES,
            "data_kinds": DATA_KINDS, "upload_kinds": UPLOAD_KINDS}


# -- login ---------------------------------------------------------------------------------------------------------


def _fail_keys(username):
    return f"staff:login-fail:user:{username.strip().lower()}", f"staff:login-fail:ip:{request.remote_addr}"


def _locked_out(username):
    limit = current_app.config.get("STAFF_LOGIN_MAX_FAILURES", 5)
    redis = _rt().redis
    user_key, ip_key = _fail_keys(username)
    return int(redis.get(user_key) or 0) >= limit or int(redis.get(ip_key) or 0) >= limit * 4


def _count_failure(username):
    ttl = current_app.config.get("STAFF_LOGIN_LOCK_MINUTES", 15) * 60
    pipe = _rt().redis.pipeline()
    for key in _fail_keys(username):
        pipe.incr(key)
        pipe.expire(key, ttl)
    pipe.execute()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; failures are counted per user name and per address, and lock out for a while."""
    if request.method == "GET":
        return render_template("staff/login.html")
    username, password = request.form.get("username", ""), request.form.get("password", "")
    if _locked_out(username):
        audit(None, "login_locked", username)
        minutes = current_app.config.get("STAFF_LOGIN_LOCK_MINUTES", 15)
        return render_template("staff/login.html", error=f"登录失败次数过多，请 {minutes} 分钟后再试。"), 429
    staff = check_login(username, password)
    if staff is None:
        _count_failure(username)
        audit(None, "login_failed", username)
        return render_template("staff/login.html", error="用户名或密码不正确。"), 401
    _rt().redis.delete(_fail_keys(username)[0])
    _end_session()
    session.permanent = True
    session.update(staff_id=staff.id, seen=int(time.time()))
    audit(staff, "login", staff.username)
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/staff/") else url_for("staff.cases"))


@bp.post("/logout")
def logout():
    audit(g.staff, "logout", g.staff.username)
    _end_session()
    return redirect(url_for("staff.login"))


# -- cases ---------------------------------------------------------------------------------------------------------


@bp.get("/")
def index():
    return redirect(url_for("staff.cases"))


def _visible_cases():
    query = Case.select()
    if not is_office(g.staff):
        query = query.where(Case.department == g.staff.department_id)
    return query


@bp.get("/cases")
def cases():
    """Cases with filters; open overdue cases first, then open ones by deadline, then closed ones."""
    status, kind, department = (request.args.get(k, "") for k in ("status", "kind", "department"))
    query = _visible_cases()
    if status == "open":
        query = query.where(Case.status.in_(OPEN_STATES))
    elif status in STATUS_LABELS:
        query = query.where(Case.status == status)
    if kind in KINDS:
        query = query.where(Case.kind == kind)
    if department and is_office(g.staff):
        query = query.join(Department).where(Department.code == department)
    today = local_today()
    rows = sorted(query.order_by(Case.id.desc()).limit(500), key=lambda c: (
        not is_overdue(c, today), c.status not in OPEN_STATES, c.deadline if c.status in OPEN_STATES else dt.date.max,
    ))
    return render_template("staff/cases.html", cases=rows, today=today, filters={
        "status": status, "kind": kind, "department": department}, departments=Department.select().order_by(
        Department.id), is_overdue=is_overdue)


def _case_or_404(case_id):
    """The case, when this staff member may see it; 404 otherwise (a department learns nothing of others')."""
    case = Case.get_or_none(Case.id == case_id)
    if case is None or not may_see_department(g.staff, case.department_id):
        abort(404)
    return case


@bp.get("/cases/<int:case_id>")
def case_detail(case_id):
    case = _case_or_404(case_id)
    evidence = list(CaseEvidence.select().where(CaseEvidence.case == case).order_by(CaseEvidence.id))
    events = list(case.events.order_by(case.events.model.id))
    return render_template("staff/case.html", case=case, record=case.record, evidence=evidence, events=events,
                           overdue=is_overdue(case))


def _actor():
    return f"staff:{g.staff.username}"


@bp.post("/cases/<int:case_id>/review")
def case_review(case_id):
    case = _case_or_404(case_id)
    return _transition(case, "case_review", lambda: start_review(case, _actor()))


@bp.post("/cases/<int:case_id>/accept")
def case_accept(case_id):
    case = _case_or_404(case_id)
    resolution, reason = request.form.get("resolution", ""), request.form.get("reason", "")

    def act():
        decided, report_ids = accept_case(case, _actor(), resolution, reason)
        case_decided(_rt(), decided.id, report_ids)
        return decided

    return _transition(case, "case_accept", act, resolution=resolution, reason=reason)


@bp.post("/cases/<int:case_id>/reject")
def case_reject(case_id):
    case = _case_or_404(case_id)
    reason = request.form.get("reason", "")

    def act():
        decided = reject_case(case, _actor(), reason)
        case_decided(_rt(), decided.id)
        return decided

    return _transition(case, "case_reject", act, reason=reason)


def _transition(case, action, act, **detail):
    """Run a case transition; audit it; show its error on the case page when refused."""
    try:
        act()
    except CaseError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.case_detail", case_id=case.id), 303)
    audit(g.staff, action, case.number, **detail)
    flash("已保存。")
    return redirect(url_for("staff.case_detail", case_id=case.id), 303)


@bp.get("/blobs/<int:blob_id>")
def blob(blob_id):
    """An evidence photo or binding document, to staff who may see the case or review it."""
    if not _may_see_blob(blob_id):
        abort(404)
    stored = StoredBlob.get_by_id(blob_id)
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
    evidence = CaseEvidence.select(CaseEvidence, Case).join(Case).where(CaseEvidence.blob == blob_id)
    if any(may_see_department(g.staff, e.case.department_id) for e in evidence):
        return True
    if not is_office(g.staff):
        return False
    return any(blob_id in _review_blob_ids(r) for r in BindingReview.select())


def _review_blob_ids(review):
    return {item.get("blob_id") for item in (review.media or []) if isinstance(item, dict)}


# -- binding reviews (office) --------------------------------------------------------------------------------------


@bp.get("/bindings")
@office_only
def bindings():
    rows = BindingReview.select().order_by(BindingReview.status != "submitted", BindingReview.id.desc()).limit(300)
    return render_template("staff/bindings.html", reviews=rows)


@bp.get("/bindings/<int:review_id>")
@office_only
def binding_detail(review_id):
    review = BindingReview.get_or_none(BindingReview.id == review_id) or abort(404)
    return render_template("staff/binding.html", review=review, blob_ids=sorted(_review_blob_ids(review) - {None}))


@bp.post("/bindings/<int:review_id>/<decision>")
@office_only
def binding_decide(review_id, decision):
    """Approve (create the binding) or refuse with a reason; tell the applicant in the chat."""
    if decision not in ("approve", "refuse"):
        abort(404)
    try:
        if decision == "approve":
            review = approve_binding(review_id, g.staff)
        else:
            review = refuse_binding(review_id, g.staff, request.form.get("reason", ""))
    except DoesNotExist:
        abort(404)
    except ReviewError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.binding_detail", review_id=review_id), 303)
    queue_notice(review.user_id, binding_outcome_text(review), {
        "first": "企业绑定审核结果", "keyword1": review.enterprise.name,
        "keyword2": "审核通过" if review.status == "approved" else "未通过", "keyword3": f"{local_today():%Y-%m-%d}",
        "remark": "详情请在公众号内查看",
    }, f"binding-review:{review.id}")
    audit(g.staff, f"binding_{decision}", review.enterprise.uscc, review=review.id, reason=review.reason)
    flash("已保存。")
    return redirect(url_for("staff.bindings"), 303)


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


# -- departments (office), freshness, audit ------------------------------------------------------------------------


@bp.get("/departments")
@office_only
def departments():
    return render_template("staff/departments.html", departments=Department.select().order_by(Department.id))


def _department_or_404(code):
    return Department.get_or_none(Department.code == code) or abort(404)


@bp.get("/departments/<code>")
@office_only
def department_detail(code, new_key=None):
    department = _department_or_404(code)
    grants = DepartmentGrant.select().where(DepartmentGrant.department == department)
    keys = ApiKey.select().where(ApiKey.department == department).order_by(ApiKey.id.desc())
    return render_template("staff/department.html", department=department, grants=grants, keys=keys,
                           new_key=new_key)


@bp.post("/departments/<code>/keys")
@office_only
def department_key_new(code):
    """Issue an API key; the plaintext is shown once, in this response, and never stored."""
    department = _department_or_404(code)
    plaintext = dept_model.create_api_key(department)
    audit(g.staff, "api_key_issue", code, prefix=plaintext.split("_")[1])
    return department_detail(code, new_key=plaintext)


@bp.post("/departments/<code>/keys/<int:key_id>/revoke")
@office_only
def department_key_revoke(code, key_id):
    department = _department_or_404(code)
    key = ApiKey.get_or_none((ApiKey.id == key_id) & (ApiKey.department == department)) or abort(404)
    if key.revoked_at is None:
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.id == key.id).execute()
        audit(g.staff, "api_key_revoke", code, prefix=key.prefix)
    flash("密钥已吊销。")
    return redirect(url_for("staff.department_detail", code=code), 303)


@bp.post("/departments/<code>/robot")
@office_only
def department_robot(code):
    """Set (or clear) the department's WeCom group robot webhook."""
    department = _department_or_404(code)
    url = request.form.get("robot_url", "").strip()
    if url and not (url.startswith("https://") or url.startswith("http://")) or len(url) > 500:
        flash("机器人地址应为 https:// 开头的 Webhook 地址。", "error")
        return redirect(url_for("staff.department_detail", code=code), 303)
    Department.update(robot_url=url or None).where(Department.id == department.id).execute()
    audit(g.staff, "robot_url_set", code, robot="set" if url else "cleared")
    flash("群机器人地址已保存。")
    return redirect(url_for("staff.department_detail", code=code), 303)


@bp.get("/freshness")
def freshness():
    """Each department × domain × data kind with its last load and 数据截至, overdue feeds first."""
    ids = None if is_office(g.staff) else [g.staff.department_id]
    rows = feed_freshness(ids, stale_days=current_app.config.get("FEED_STALE_DAYS", 45))
    return render_template("staff/freshness.html", rows=rows, stale_days=current_app.config.get("FEED_STALE_DAYS"))


@bp.get("/audit")
@office_only
def audit_log():
    rows = StaffAudit.select().order_by(StaffAudit.id.desc()).limit(500)
    return render_template("staff/audit.html", rows=rows, office=OFFICE)
