"""Data freshness (数据截至 per feed) and the staff audit log."""



from flask import current_app, g, render_template

from models.policy.staff import (
    OFFICE,
    feed_freshness,
    is_office,
)
from models.tables.accounts import StaffAudit
from webhooks.staff.common import bp, office_only


@bp.get("/freshness")
def freshness():
    """Each department × domain × data kind with its last load and 数据截至, overdue feeds first."""
    ids = None if is_office(g.staff) else [g.staff.department_id]
    rows = feed_freshness(ids, stale_days=current_app.config["FEED_STALE_DAYS"])
    return render_template("staff/freshness.html", rows=rows, stale_days=current_app.config["FEED_STALE_DAYS"])


@bp.get("/audit")
@office_only
def audit_log():
    return render_template("staff/audit.html", rows=StaffAudit.latest(500), office=OFFICE)
