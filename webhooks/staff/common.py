"""The staff console's blueprint, its guard (CSRF, a logged-in, recently active staff member), the session."""


import datetime as dt
import functools
import time

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from models.base import to_local
from models.policy.casework.cases import (
    KINDS,
    RESOLUTIONS,
    STATUS_LABELS,
)
from models.policy.staff import (
    ROLES,
    is_office,
)
from models.tables.accounts import StaffUser
from models.tables.registry import (
    DATA_KINDS,
)

bp = Blueprint("staff", __name__, url_prefix="/staff")
PUBLIC_ENDPOINTS = {"staff.login"}
INLINE_MIMES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "application/pdf"}
UPLOAD_KINDS = {"penalty": "行政处罚", "arrears": "欠缴（社保/公积金）", "repair": "信用修复",
                "enforcement": "行政强制", "dishonest_list": "严重失信主体名单", "criminal": "刑事判决（单位犯罪）",
                "enterprise": "企业名录"}


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


