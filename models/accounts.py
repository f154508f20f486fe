"""People: WeChat users and their enterprise bindings, staff accounts."""

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegrityError, TextField

from models.base import BaseModel, JSONText, db, utcnow
from models.registry import Department, Enterprise


class WechatUser(BaseModel):
    openid = CharField(unique=True, max_length=64)
    subscribed = BooleanField(default=True)
    active_enterprise = ForeignKeyField(Enterprise, null=True)
    verifier_unit = CharField(max_length=120, null=True)  # a verifier's stated unit, remembered
    last_message_at = DateTimeField(null=True)  # opens WeChat's 48 h customer-service window
    created_at = DateTimeField(default=utcnow)


def user_for_openid(openid):
    """The WechatUser for `openid`, created when missing (safe against a concurrent first message)."""
    user = WechatUser.get_or_none(WechatUser.openid == openid)
    if user:
        return user
    try:
        with db.atomic():
            return WechatUser.create(openid=openid)
    except IntegrityError:
        return WechatUser.get(WechatUser.openid == openid)


class Binding(BaseModel):
    user = ForeignKeyField(WechatUser, backref="bindings", on_delete="CASCADE")
    enterprise = ForeignKeyField(Enterprise, backref="bindings")
    method = CharField(max_length=10, default="sms")  # sms / staff
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "enterprise"), True),)


class BindingReview(BaseModel):
    """A staff-reviewed binding request for an enterprise without a usable registered mobile."""

    user = ForeignKeyField(WechatUser, backref="binding_reviews")
    enterprise = ForeignKeyField(Enterprise)
    media = JSONText(default=list)  # [{"media_id": ..., "kind": "licence"|"authorisation", "blob_id": ...}]
    status = CharField(max_length=12, default="submitted")  # submitted / approved / refused
    reason = TextField(default="")
    decided_by = CharField(max_length=80, null=True)
    decided_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class StaffUser(BaseModel):
    username = CharField(unique=True, max_length=60)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=12)  # office / department
    department = ForeignKeyField(Department, null=True, backref="staff")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)


class StaffAudit(BaseModel):
    staff = ForeignKeyField(StaffUser, null=True, backref="audit")
    at = DateTimeField(default=utcnow)
    action = CharField(max_length=40)
    target = CharField(max_length=120, default="")
    detail = JSONText(null=True)
