"""The staff console `/staff/`: cases, binding reviews, uploads, departments, data freshness, the audit log.

Server-rendered, plain CSS. Sessions are Flask's signed cookie (nothing held in one node's memory) with an idle
expiry; CSRF (Flask-WTF) is checked on this blueprint only, so `POST /wechat` and the departments' API are untouched;
failed logins are counted in Redis. The credit office (role `office`) sees everything, a department only its own.
One module per concern; they all add their views to the one blueprint in `common`.
"""

from webhooks.staff import (  # noqa: F401 - register the views
    auth,
    bindings,
    cases,
    departments,
    domains,
    held,
    oversight,
    uploads,
)
from webhooks.staff.common import bp, init_app, session_staff

__all__ = ["bp", "init_app", "session_staff"]
