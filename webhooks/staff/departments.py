"""Departments (credit office): adding one, its grants, the authorities it speaks for, its default severity, API keys
and the WeCom group robot. Every change is in the staff audit log."""

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from models.policy import departments as dept_model
from models.policy.casework.severity import SOURCE_LABELS
from models.policy.robots import robot_url_problem
from models.policy.staff import audit
from models.tables.registry import DATA_KINDS, DOMAIN_KINDS, SEVERITIES, ApiKey, Department, Domain
from webhooks.staff.common import bp, office_only, refused_back_to


def _back(code):
    return redirect(url_for("staff.department_detail", code=code), 303)


@bp.get("/departments")
@office_only
def departments():
    return render_template("staff/departments.html", departments=Department.all_ordered(), kinds=DATA_KINDS,
                           domain_kinds=DOMAIN_KINDS, domains=list(Domain.ordered()))


@bp.post("/departments")
@office_only
@refused_back_to("staff.departments")
def department_add():
    """A new department (a county bureau, a vertical unit …) with its first grant."""
    form = request.form
    grant = dept_model.parse_grant(_grant_text(form))
    department = dept_model.add_department(form.get("code", ""), form.get("name", ""), [grant])
    audit(g.staff, "department_add", department.code, name=department.name, grant=_grant_text(form))
    flash(f"已添加{department.name}。")
    return _back(department.code)


def _grant_text(form):
    kind, domain = form.get("kind", ""), form.get("domain", "")
    return f"{kind}:{domain}" if kind in DOMAIN_KINDS and domain else kind


def _department_or_404(code):
    return Department.by_code(code) or abort(404)


@bp.get("/departments/<code>")
@office_only
def department_detail(code, new_key=None):
    department = _department_or_404(code)
    return render_template("staff/department.html", department=department, grants=department.grant_list(),
                           authorities=department.authority_names()[1:], keys=ApiKey.of(department),
                           new_key=new_key, kinds=DATA_KINDS, domain_kinds=DOMAIN_KINDS, domains=list(Domain.ordered()),
                           severities=SEVERITIES, default_label=SOURCE_LABELS["default"])


@bp.post("/departments/<code>/grants")
@office_only
@refused_back_to("staff.department_detail", "code")
def department_grant(code):
    department = _department_or_404(code)
    kind, domain = dept_model.parse_grant(_grant_text(request.form))
    dept_model.grant(department, kind, domain)
    audit(g.staff, "grant_add", code, kind=kind, domain=domain.code if domain else None)
    flash("授权已添加。")
    return _back(code)


@bp.post("/departments/<code>/grants/<int:grant_id>/revoke")
@office_only
def department_grant_revoke(code, grant_id):
    department = _department_or_404(code)
    found = dept_model.revoke_grant(department, grant_id) or abort(404)
    kind, domain = found
    audit(g.staff, "grant_revoke", code, kind=kind, domain=domain.code if domain else None)
    flash("授权已撤销。")
    return _back(code)


@bp.post("/departments/<code>/authorities")
@office_only
def department_authorities(code):
    """Replace the list of authorities (one a line) the department may send records for besides its own name."""
    department = _department_or_404(code)
    names = request.form.get("authorities", "").splitlines()
    if len(names) > 200 or any(len(n.strip()) > 200 for n in names):
        flash("机关名单过长：每行一个机关名称，不超过200行、每行不超过200字。", "error")
        return _back(code)
    added, removed = department.set_authorities(names)
    audit(g.staff, "authorities_set", code, added=added, removed=removed)
    flash(f"执法机关名单已保存（新增{len(added)}个，移除{len(removed)}个）。")
    return _back(code)


@bp.post("/departments/<code>/severity")
@office_only
@refused_back_to("staff.department_detail", "code")
def department_severity(code):
    """The department's published default class for records sent without 失信程度 (empty: 一般, marked 默认)."""
    department = _department_or_404(code)
    dept_model.set_default_severity(department, request.form.get("severity", ""))
    audit(g.staff, "default_severity_set", code, severity=department.default_severity)
    flash("默认失信程度已保存。")
    return _back(code)


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
    key = ApiKey.find(key_id, department) or abort(404)
    if key.revoke():
        audit(g.staff, "api_key_revoke", code, prefix=key.prefix)
    flash("密钥已吊销。")
    return _back(code)


@bp.post("/departments/<code>/robot")
@office_only
def department_robot(code):
    """Set (or clear) the department's WeCom group robot webhook."""
    department = _department_or_404(code)
    url = request.form.get("robot_url", "").strip()
    problem = url and robot_url_problem(url, current_app.config["WECOM_ROBOT_HOSTS"])
    if problem:
        flash(problem, "error")
        return _back(code)
    department.set_robot_url(url)
    audit(g.staff, "robot_url_set", code, robot="set" if url else "cleared")
    flash("群机器人地址已保存。")
    return _back(code)
