"""Departments (credit office): API keys and the WeCom group robot."""



from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from models.base import utcnow
from models.policy import departments as dept_model
from models.policy.robots import robot_url_problem
from models.policy.staff import (
    audit,
)
from models.tables.registry import (
    ApiKey,
    Department,
    DepartmentGrant,
)
from webhooks.staff.common import bp, office_only

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
    problem = url and robot_url_problem(url, current_app.config["WECOM_ROBOT_HOSTS"])
    if problem:
        flash(problem, "error")
        return redirect(url_for("staff.department_detail", code=code), 303)
    Department.update(robot_url=url or None).where(Department.id == department.id).execute()
    audit(g.staff, "robot_url_set", code, robot="set" if url else "cleared")
    flash("群机器人地址已保存。")
    return redirect(url_for("staff.department_detail", code=code), 303)


