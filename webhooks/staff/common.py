"""The staff console's blueprint, its guard (CSRF, a logged-in, recently active staff member), the session, and the
verify pages' security headers on every console response.

The session is held server-side (StaffSession): the signed cookie carries only a random token, so logout, deactivation
and the idle limit end it on every node, and a saved cookie is worth nothing afterwards.

A refusal (models/refusals.py `Refusal`: a case that cannot move, a grant that names no domain …) raised by a view is
rendered here, not caught by each view: flashed as an error on the page the view names with `refused_back_to`, or,
from a view that names none, shown on a page of its own with the refusal's status.
"""


import datetime as dt
import functools

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from models.base import to_local
from models.policy.casework.cases import (
    KINDS,
    RESOLUTIONS,
    STATUS_LABELS,
)
from models.policy.staff import (
    ROLES,
    end_session,
    is_office,
    session_for,
)
from models.refusals import Refusal
from models.tables.registry import (
    DATA_KINDS,
)
from webhooks import security

bp = Blueprint("staff", __name__, url_prefix="/staff")
PUBLIC_ENDPOINTS = {"staff.login"}
SESSION_KEY = "sid"  # the cookie's random token of a StaffSession
INLINE_MIMES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "application/pdf"}
UPLOAD_KINDS = {"penalty": "行政处罚", "arrears": "欠缴（社保/公积金）", "repair": "信用修复",
                "enforcement": "行政强制", "dishonest_list": "严重失信主体名单", "criminal": "刑事判决（单位犯罪）",
                "enterprise": "企业名录"}


def init_app(app):
    """Register the blueprint, CSRF checked on it only, and the idle-expiring session."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked by the staff blueprint only (not /wechat, not the API)
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(minutes=app.config["STAFF_IDLE_MINUTES"])
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"  # Flask holds the key already (None): setdefault would not set it
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = (app.config["PUBLIC_BASE_URL"] or "").startswith("https://")
    app.extensions["staff_csrf"] = CSRFProtect(app)
    app.jinja_env.globals.update(to_local=to_local)
    app.register_blueprint(bp)


def _rt():
    return current_app.extensions["hegui"]


@bp.after_request
def _headers(response):
    """CSP (no script, frame-ancestors 'none'), nosniff, no-store, no referrer: as on the verify pages."""
    return security.secure_headers(response)


@bp.before_request
def _guard():
    """CSRF on every POST; a logged-in, recently active staff member on every page but the login."""
    g.pop("staff", None)  # g outlives a request when a caller holds the app context (tests, CLI)
    g.pop("refused_back", None)
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
    """The StaffUser of this session, or None when there is none, or it was ended (logout, deactivation) or idle too
    long (then the cookie is cleared too).

    `active=False` for requests a page makes by itself (polling), which must not keep an idle session alive."""
    token = session.get(SESSION_KEY)
    if token is None:
        return None
    live = session_for(token, current_app.config["STAFF_IDLE_MINUTES"] * 60, touch=active)
    if live is None:
        _end_session()
        flash("登录已失效（超时或已退出），请重新登录。")
        return None
    return live.staff


def _end_session():
    """End the server-side session and forget the cookie's, and the CSRF token cached for this app context."""
    end_session(session.get(SESSION_KEY))
    session.clear()
    g.pop("csrf_token", None)


def refused_back_to(endpoint, *args):
    """A view whose refusals go back to `endpoint` (given the view's arguments named `args`), the refusal's message
    flashed there as an error."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*a, **kwargs):
            g.refused_back = url_for(endpoint, **{name: kwargs[name] for name in args})
            return view(*a, **kwargs)

        return wrapped

    return decorate


@bp.errorhandler(Refusal)
def _refused(exc):
    """Flash the refusal and go back (303) to the page `refused_back_to` named; without one, a page saying it."""
    back = g.pop("refused_back", None)
    if back is None:
        return render_template("staff/refused.html", message=exc.message), exc.status
    flash(exc.message, "error")
    return redirect(back, 303)


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


