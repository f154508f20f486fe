"""People: WeChat users and their enterprise bindings, staff accounts and their sessions."""

import datetime as dt
import hashlib

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegrityError, TextField

from models.base import BaseModel, JSONText, db, utcnow
from models.tables.registry import Department, Enterprise


class WechatUser(BaseModel):
    openid = CharField(unique=True, max_length=64)
    subscribed = BooleanField(default=True)
    active_enterprise = ForeignKeyField(Enterprise, null=True)
    verifier_unit = CharField(max_length=120, null=True)  # a verifier's stated unit, remembered
    last_message_at = DateTimeField(null=True)  # the user wrote: WeChat's 48 h / 5-message window
    last_event_at = DateTimeField(null=True)  # a menu click, follow or scan: WeChat's 1 minute / 3-message window
    created_at = DateTimeField(default=utcnow)

    def wrote_at(self, at):
        """Note a message the user sent at `at` (a later one only: one statement, no lost update)."""
        self._note(WechatUser.last_message_at, at)

    def acted_at(self, at):
        """Note a window-opening event (menu click, follow, scan) at `at`."""
        self._note(WechatUser.last_event_at, at)

    def _note(self, column, at):
        (WechatUser.update({column: at})
         .where((WechatUser.id == self.id) & (column.is_null() | (column < at)))
         .execute())
        setattr(self, column.name, max(filter(None, (getattr(self, column.name), at))))

    def set_following(self, following):
        """Follow state as the last subscribe / unsubscribe event said."""
        WechatUser.update(subscribed=bool(following)).where(WechatUser.id == self.id).execute()


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


    @classmethod
    def active_by_id(cls, staff_id):
        """The active account with this id, or None."""
        return cls.get_or_none((cls.id == staff_id) & (cls.active == True))  # noqa: E712

    def deactivate(self):
        """Disable the account and end every session of it at once."""
        StaffUser.update(active=False).where(StaffUser.id == self.id).execute()
        self.active = False
        return StaffSession.end_all(self)


class StaffSession(BaseModel):
    """A console session, held server-side: the cookie carries only a random id (kept here as its hash), so logout,
    deactivation and the idle limit end it on every node, whatever a saved cookie says."""

    token_hash = CharField(unique=True, max_length=64)
    staff = ForeignKeyField(StaffUser, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    seen_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)

    @staticmethod
    def hash(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def start(cls, staff, token):
        """A new session for `staff` under the random `token` (the cookie's)."""
        return cls.create(staff=staff, token_hash=cls.hash(token))

    @classmethod
    def live(cls, token, idle, touch=True):
        """The live session for `token` — not ended, seen within `idle`, of an active account — or None; `touch`
        renews its idle clock. A session past its idle limit is ended."""
        if not token:
            return None
        row = (cls.select(cls, StaffUser).join(StaffUser)
               .where((cls.token_hash == cls.hash(token)) & cls.ended_at.is_null() & (StaffUser.active == True))  # noqa: E712
               .first())
        if row is None:
            return None
        now = utcnow()
        if now - row.seen_at > dt.timedelta(seconds=idle):
            row.end()
            return None
        if touch:
            cls.update(seen_at=now).where(cls.id == row.id).execute()
        return row

    @classmethod
    def end_token(cls, token):
        """End the session of `token` (logout); return how many ended (0 or 1)."""
        return cls.update(ended_at=utcnow()).where(
            (cls.token_hash == cls.hash(token)) & cls.ended_at.is_null()).execute()

    def end(self):
        """End this session (idle)."""
        return StaffSession.update(ended_at=utcnow()).where(
            (StaffSession.id == self.id) & StaffSession.ended_at.is_null()).execute()

    @classmethod
    def end_all(cls, staff):
        """End every live session of `staff`; return how many."""
        return cls.update(ended_at=utcnow()).where((cls.staff == staff) & cls.ended_at.is_null()).execute()


class StaffAudit(BaseModel):
    staff = ForeignKeyField(StaffUser, null=True, backref="audit")
    at = DateTimeField(default=utcnow)
    action = CharField(max_length=40)
    target = CharField(max_length=120, default="")
    detail = JSONText(null=True)
