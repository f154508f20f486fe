"""Domains (credit office): the register's 领域, added as data (成熟一批、拓展一批), with the short names people type.

A new domain is live for the bot, the guide and the reports at once; it reads 数据未归集 until a department is
granted it and loads. Every change is in the staff audit log."""

from flask import abort, flash, g, redirect, render_template, request, url_for

from models.policy.staff import audit
from models.tables.registry import Domain
from webhooks.staff.common import bp, office_only, refused_back_to


def _aliases(form):
    return form.get("aliases", "").replace("，", ",").replace("、", ",").split(",")


@bp.get("/domains")
@office_only
def domains():
    return render_template("staff/domains.html", domains=list(Domain.ordered(active_only=False)))


@bp.post("/domains")
@office_only
@refused_back_to("staff.domains")
def domain_add():
    domain = Domain.add(request.form.get("code", ""), request.form.get("name", ""), _aliases(request.form))
    audit(g.staff, "domain_add", domain.code, name=domain.name, aliases=domain.alias_list())
    flash(f"已添加领域“{domain.name}”。请为报送该领域数据的部门添加授权。")
    return redirect(url_for("staff.domains"), 303)


@bp.post("/domains/<code>/aliases")
@office_only
@refused_back_to("staff.domains")
def domain_aliases(code):
    domain = Domain.by_code(code) or abort(404)
    before = domain.alias_list()
    domain.set_aliases(_aliases(request.form))
    audit(g.staff, "domain_aliases", code, before=before, after=domain.alias_list())
    flash(f"“{domain.name}”的简称已保存。")
    return redirect(url_for("staff.domains"), 303)
