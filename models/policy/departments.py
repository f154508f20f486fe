"""Departments as data: adding one with what it may write, its API keys (only a prefix and a hash are stored), its
grants, its authorities and default severity. County (县市区) bureaus and vertical units are departments too."""

import hashlib
import hmac
import re
import secrets

from models.base import db, utcnow
from models.refusals import Refusal
from models.tables.registry import DATA_KINDS, DOMAIN_KINDS, SEVERITIES, ApiKey, Department, DepartmentGrant, Domain

KEY_PREFIX = "hg_"
CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class DepartmentError(Refusal, ValueError):
    """A department or grant cannot be added or changed; `message` says why in Chinese."""


def parse_grant(text):
    """(kind, Domain or None) from `KIND[:DOMAIN]`; DepartmentError when the kind or domain is unknown, a domain
    kind lacks its domain, or another kind names one."""
    kind, _, code = (text or "").strip().partition(":")
    if kind not in DATA_KINDS:
        raise DepartmentError(f"数据类型“{kind}”不存在，应为：{'、'.join(DATA_KINDS)}")
    if kind in DOMAIN_KINDS and not code:
        raise DepartmentError(f"{DATA_KINDS[kind]}按领域授权，请写作 {kind}:领域代码（如 {kind}:market）")
    if kind not in DOMAIN_KINDS and code:
        raise DepartmentError(f"{DATA_KINDS[kind]}不分领域，请只写 {kind}")
    domain = Domain.by_code(code) if code else None
    if code and domain is None:
        raise DepartmentError(f"领域“{code}”不存在")
    return kind, domain


def add_department(code, name, grants=()):
    """A new department with its grants (pairs from parse_grant); DepartmentError when the code is taken."""
    code, name = (code or "").strip(), (name or "").strip()
    if not CODE.match(code):
        raise DepartmentError("部门代码应为2至40位小写字母、数字或下划线，以字母开头")
    if not name or len(name) > 80:
        raise DepartmentError("部门名称不能为空，且不超过80个字")
    if Department.by_code(code) is not None:
        raise DepartmentError(f"部门代码“{code}”已存在")
    with db.atomic():
        department = Department.create(code=code, name=name)
        for kind, domain in grants:
            DepartmentGrant.get_or_create(department=department, kind=kind, domain=domain)
    return department


def revoke_grant(department, grant_id):
    """Withdraw one grant of `department`; the (kind, domain) it was, or None when it is not the department's."""
    found = DepartmentGrant.find(grant_id, department)
    if found is None:
        return None
    found.delete_instance()
    return found.kind, found.domain


def set_default_severity(department, value):
    """The department's published default class, or '' / None for none."""
    value = (value or "").strip() or None
    if value is not None and value not in SEVERITIES:
        raise DepartmentError("默认失信程度应为轻微、一般或严重，或不设置")
    department.set_default_severity(value)


def _hash(token):
    # Keys are 256-bit random: a plain SHA-256 is enough (no dictionary to guard against).
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(department):
    """Create a key for `department`; return the plaintext, shown once and never stored."""
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    ApiKey.create(department=department, prefix=prefix, key_hash=_hash(plaintext))
    return plaintext


def revoke_api_keys(department):
    """Revoke every live key of `department`; return how many."""
    return (
        ApiKey.update(revoked_at=utcnow())
        .where((ApiKey.department == department) & ApiKey.revoked_at.is_null())
        .execute()
    )


def authenticate(token):
    """The active Department a bearer token belongs to, or None."""
    token = (token or "").strip()
    if not token.startswith(KEY_PREFIX) or token.count("_") < 2:
        return None
    prefix = token[len(KEY_PREFIX):].split("_", 1)[0]
    key = (
        ApiKey.select(ApiKey, Department)
        .join(Department)
        .where((ApiKey.prefix == prefix) & ApiKey.revoked_at.is_null() & (Department.active == True))  # noqa: E712
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, _hash(token)):
        return None
    return key.department


def may_write(department, kind, domain=None):
    """True when `department` holds a grant for data `kind` (and `domain`, for penalties and repairs)."""
    query = DepartmentGrant.select().where(
        (DepartmentGrant.department == department) & (DepartmentGrant.kind == kind)
    )
    query = query.where(DepartmentGrant.domain.is_null() if domain is None else DepartmentGrant.domain == domain)
    return query.exists()


def granted_domains(department, kind):
    """Ids of the domains `department` may write data `kind` for (empty for arrears kinds)."""
    return {
        g.domain_id
        for g in DepartmentGrant.select().where(
            (DepartmentGrant.department == department)
            & (DepartmentGrant.kind == kind)
            & DepartmentGrant.domain.is_null(False)
        )
    }


def has_kind(department, kind):
    """True when `department` holds any grant for data `kind`."""
    return DepartmentGrant.select().where(
        (DepartmentGrant.department == department) & (DepartmentGrant.kind == kind)
    ).exists()


def find_department(code):
    """The active department with `code`, or None."""
    return Department.get_or_none((Department.code == code) & (Department.active == True))  # noqa: E712


def grant(department, kind, domain=None):
    """Allow `department` to write `kind` (for `domain`); idempotent."""
    with db.atomic():
        return DepartmentGrant.get_or_create(department=department, kind=kind, domain=domain)[0]
