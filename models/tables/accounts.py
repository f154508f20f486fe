"""People: WeChat users and their enterprise bindings, staff accounts."""

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegrityError, TextField

from models.base import BaseModel, JSONText, db, utcnow
from models.tables.registry import Department, Enterprise


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


class HandledMessage(BaseModel):
    """A message whose action changed state (revoke, unbind, switch, send a code): done once per message id, in the
    database, so a repeat (WeChat's retry, a replay, a flushed Redis) gets the first reply and no second effect."""

    user = ForeignKeyField(WechatUser, backref="handled", on_delete="CASCADE")
    msg_key = CharField(max_length=80)
    action = CharField(max_length=20)
    reply = TextField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "msg_key"), True),)

    @classmethod
    def reply_for(cls, user_id, msg_key):
        """The reply of an earlier handling of this message, or None."""
        row = cls.get_or_none((cls.user == user_id) & (cls.msg_key == msg_key))
        return None if row is None else row.reply

    @classmethod
    def run_once(cls, user_id, msg_key, action, effect):
        """`effect()` (which returns the reply) inside one transaction with the claim of this message id; a message
        already handled returns the first reply instead."""
        prior = cls.reply_for(user_id, msg_key)
        if prior is not None:
            return prior
        try:
            with db.atomic():
                claim = cls.create(user=user_id, msg_key=msg_key, action=action)
                reply = effect()
                cls.update(reply=reply or "").where(cls.id == claim.id).execute()
            return reply
        except IntegrityError:
            return cls.reply_for(user_id, msg_key) or ""


class Binding(BaseModel):
    user = ForeignKeyField(WechatUser, backref="bindings", on_delete="CASCADE")
    enterprise = ForeignKeyField(Enterprise, backref="bindings")
    method = CharField(max_length=10, default="sms")  # sms / staff
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "enterprise"), True),)


# BindingReview.trigger
NO_MOBILE = "no_mobile"  # the register holds no mobile that can receive a code: licence and authorisation photos
MOBILE_CHANGED = "mobile_changed"  # the code reached the registered mobile, but that mobile was changed lately


class BindingReview(BaseModel):
    """A staff-reviewed binding request: no usable registered mobile, or one that was replaced recently."""

    user = ForeignKeyField(WechatUser, backref="binding_reviews")
    enterprise = ForeignKeyField(Enterprise)
    media = JSONText(default=list)  # [{"media_id": ..., "kind": "licence"|"authorisation", "blob_id": ...}]
    status = CharField(max_length=12, default="submitted")  # submitted / approved / refused
    trigger = CharField(max_length=20, default=NO_MOBILE)  # why a person reviews it: no_mobile / mobile_changed
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
