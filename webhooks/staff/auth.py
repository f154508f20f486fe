"""Staff login and logout; failed logins counted in Redis per user name and address; sessions held server-side."""


from flask import current_app, g, redirect, render_template, request, session, url_for

from models.policy.staff import (
    audit,
    check_login,
    start_session,
)
from webhooks.staff.common import SESSION_KEY, _end_session, _rt, bp

# -- login ---------------------------------------------------------------------------------------------------------


def _fail_keys(username):
    return f"staff:login-fail:user:{username.strip().lower()}", f"staff:login-fail:ip:{request.remote_addr}"


def _locked_out(username):
    limit = current_app.config["STAFF_LOGIN_MAX_FAILURES"]
    redis = _rt().redis
    user_key, ip_key = _fail_keys(username)
    return int(redis.get(user_key) or 0) >= limit or int(redis.get(ip_key) or 0) >= limit * 4


def _count_failure(username):
    ttl = current_app.config["STAFF_LOGIN_LOCK_MINUTES"] * 60
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
        minutes = current_app.config["STAFF_LOGIN_LOCK_MINUTES"]
        return render_template("staff/login.html", error=f"登录失败次数过多，请 {minutes} 分钟后再试。"), 429
    staff = check_login(username, password)
    if staff is None:
        _count_failure(username)
        audit(None, "login_failed", username)
        return render_template("staff/login.html", error="用户名或密码不正确。"), 401
    _rt().redis.delete(_fail_keys(username)[0])
    _end_session()
    session.permanent = True
    session[SESSION_KEY] = start_session(staff)
    audit(staff, "login", staff.username)
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/staff/") else url_for("staff.cases"))


@bp.post("/logout")
def logout():
    audit(g.staff, "logout", g.staff.username)
    _end_session()
    return redirect(url_for("staff.login"))


