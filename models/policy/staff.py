"""Staff of the credit office and the departments: accounts, what each may see, the audit log, data freshness."""

import datetime as dt
import secrets
from dataclasses import dataclass

from peewee import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import db, local_today, utcnow
from models.refusals import Refusal
from models.tables.accounts import Binding, BindingReview, StaffAudit, StaffSession, StaffUser, WechatUser
from models.tables.records import FeedStatus
from models.tables.registry import DATA_KINDS, FEED_KINDS, Department, DepartmentGrant

OFFICE = "office"
DEPARTMENT = "department"
ROLES = {OFFICE: "信用办", DEPARTMENT: "数据提供部门"}
PASSWORD_MIN = 10


class StaffError(Refusal, ValueError):
    """A staff account cannot be created or changed; `message` says why in Chinese."""


def create_staff(username, password, role, department_code=None):
    """Create a staff account with a hashed password; return it."""
    username = (username or "").strip()
    if not username:
        raise StaffError("用户名不能为空。")
    if role not in ROLES:
        raise StaffError("角色应为 office（信用办）或 department（部门）。")
    if len(password or "") < PASSWORD_MIN:
        raise StaffError(f"密码至少 {PASSWORD_MIN} 位。")
    department = None
    if role == DEPARTMENT:
        department = Department.get_or_none(Department.code == (department_code or ""))
        if department is None:
            raise StaffError("部门账号须用 --department 指定已有的部门代码。")
    try:
        with db.atomic():
            return StaffUser.create(
                username=username, password_hash=generate_password_hash(password), role=role, department=department
            )
    except IntegrityError as exc:
        raise StaffError(f"用户名 {username} 已存在。") from exc


def check_login(username, password):
    """The active StaffUser for these credentials, or None (the same answer for a wrong name or password)."""
    staff = StaffUser.get_or_none((StaffUser.username == (username or "").strip()) & (StaffUser.active == True))  # noqa: E712
    if staff is None or not check_password_hash(staff.password_hash, password or ""):
        return None
    StaffUser.update(last_login_at=utcnow()).where(StaffUser.id == staff.id).execute()
    return staff


def start_session(staff):
    """A new server-side console session for `staff`; return the random token its cookie carries."""
    token = secrets.token_urlsafe(32)
    StaffSession.start(staff, token)
    return token


def session_for(token, idle_seconds, touch=True):
    """The live session of `token` (see StaffSession.live), or None."""
    return StaffSession.live(token, idle_seconds, touch)


def end_session(token):
    """End the session of `token` (logout), if it is live."""
    return bool(token) and StaffSession.end_token(token) > 0


def deactivate_staff(username):
    """Disable a staff account and end its sessions at once; return how many ended. StaffError if unknown."""
    staff = StaffUser.get_or_none(StaffUser.username == (username or "").strip())
    if staff is None:
        raise StaffError(f"没有用户名为 {username} 的工作人员账号。")
    return staff.deactivate()


def is_office(staff):
    return staff.role == OFFICE


def may_see_department(staff, department_id):
    """The office sees every department; a department only itself."""
    return is_office(staff) or staff.department_id == department_id


def audit(staff, action, target="", **detail):
    """Write one line of the staff audit log."""
    return StaffAudit.create(staff=staff, action=action, target=str(target)[:120], detail=detail or None)


@dataclass(frozen=True)
class Freshness:
    department: Department
    domain: object  # Domain or None (arrears kinds)
    kind: str
    last_loaded_at: dt.datetime | None
    complete_until: dt.date | None
    overdue: bool

    @property
    def kind_label(self):
        return DATA_KINDS.get(self.kind, self.kind)


def feed_freshness(department_ids=None, today=None, stale_days=45):
    """Every granted department × domain × data kind with its last load and 数据截至; overdue (stale or never
    loaded) first. `department_ids=None` means every active department."""
    today = today or local_today()
    grants = (DepartmentGrant.select(DepartmentGrant, Department).join(Department)
              .where((Department.active == True) & DepartmentGrant.kind.in_(FEED_KINDS)))  # noqa: E712
    if department_ids is not None:
        grants = grants.where(Department.id.in_(list(department_ids)))
    feeds = {(f.department_id, f.domain_id, f.kind): f for f in FeedStatus.select()}
    rows = []
    for grant in grants:
        feed = feeds.get((grant.department_id, grant.domain_id, grant.kind))
        until = feed.complete_until if feed else None
        overdue = until is None or until < today - dt.timedelta(days=stale_days)
        rows.append(Freshness(grant.department, grant.domain, grant.kind, feed.last_loaded_at if feed else None,
                              until, overdue))
    return sorted(rows, key=lambda r: (not r.overdue, r.complete_until or dt.date.min, r.department.code, r.kind))


class ReviewError(StaffError):
    """A binding review cannot be decided (already decided, no reason given)."""


def approve_binding(review_id, staff):
    """Approve a staff-reviewed binding: create (or restore) `Binding(method="staff")`; return the review."""
    with db.atomic():
        review = _open_review(review_id)
        binding, created = Binding.get_or_create(user=review.user_id, enterprise=review.enterprise_id,
                                                 defaults={"method": "staff"})
        if not created:
            binding.method, binding.revoked_at = "staff", None
            binding.save()
        WechatUser.update(active_enterprise=review.enterprise_id).where(
            (WechatUser.id == review.user_id) & WechatUser.active_enterprise.is_null()
        ).execute()
        review.status, review.decided_by, review.decided_at = "approved", staff.username, utcnow()
        review.save()
    return review


def refuse_binding(review_id, staff, reason):
    """Refuse a binding request with the reason the applicant will read; return the review."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("请填写不予通过的理由。")
    with db.atomic():
        review = _open_review(review_id)
        review.status, review.reason = "refused", reason
        review.decided_by, review.decided_at = staff.username, utcnow()
        review.save()
    return review


def _open_review(review_id):
    review = BindingReview.get_by_id(review_id)
    if review.status != "submitted":
        raise ReviewError("该绑定申请已处理。")
    return review
