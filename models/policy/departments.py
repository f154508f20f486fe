"""Departments' API keys (only a prefix and a hash are stored) and what a department may write."""

import hashlib
import hmac
import secrets

from models.base import db, utcnow
from models.tables.registry import ApiKey, Department, DepartmentGrant

KEY_PREFIX = "hg_"


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
