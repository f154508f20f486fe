"""rq-dashboard for administrators at /staff/rq/, behind the staff login (credit office only).

rq-dashboard's blueprint is a module global that cannot take new hooks once registered, so the guard is an app-level
`before_request` that looks at the blueprint of the request. Its actions carry no CSRF token, and one of them changes
state on a GET (`/requeue/<queue>`): every request but the read-only pages and their JSON needs our own origin,
whatever its method. Its responses get the console's framing and caching headers.
"""

from urllib.parse import urlsplit

import rq_dashboard
from flask import abort, redirect, request, url_for
from rq_dashboard.web import setup_rq_connection

from models.policy.staff import is_office
from webhooks.staff import session_staff

PREFIX = "/staff/rq"
# The dashboard's endpoints that only read; any other (delete, requeue, empty, compact, and whatever a new version
# adds) changes state and needs our origin.
READ_ONLY = {f"{rq_dashboard.blueprint.name}.{name}" for name in (
    "static", "favicon", "queues_overview", "workers_overview", "jobs_overview", "job_view", "list_queues",
    "list_jobs", "job_info", "list_workers")}


def init_app(app):
    """Mount rq-dashboard under /staff/rq on the app's Redis, guarded by the staff session."""
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 5000)
    setup_rq_connection(app)
    app.before_request(_guard)
    app.after_request(_headers)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)


def _guard():
    if request.blueprint != rq_dashboard.blueprint.name:
        return None
    staff = session_staff(active="/data/" not in request.path)  # the dashboard polls …/data/*.json every 5 s
    if staff is None:
        return redirect(url_for("staff.login", next=request.path))
    if not is_office(staff):
        abort(403)
    if request.endpoint not in READ_ONLY and not _same_origin():
        abort(403)
    return None


def _headers(response):
    """The dashboard (its own scripts) is never framed, sniffed or cached."""
    if request.blueprint == rq_dashboard.blueprint.name:
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


def _same_origin():
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return urlsplit(source).netloc == request.host
