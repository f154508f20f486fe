"""People: WeChat users and their enterprise bindings, the SMS that carry binding codes, staff accounts and
their sessions."""

import datetime as dt
import hashlib

from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

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

    @classmethod
    def from_columns(cls, columns):
        """The user of stored column values (a cached row; no query), as peewee builds a row it read: nothing dirty."""
        user = cls(__no_default__=True)
        user.__data__.update(columns)
        return user

    def columns(self, names=None):
        """The stored column values (a foreign key as its id), all of them or `names`, as a new dict."""
        return dict(self.__data__) if names is None else {name: self.__data__.get(name) for name in names}

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

    @classmethod
    def load(cls, user_id):
        """The user with this id (DoesNotExist when there is none)."""
        return cls.get_by_id(user_id)

    @classmethod
    def openids_of(cls, user_ids):
        """{user id: openid} of these users."""
        ids = list(set(user_ids))
        return {row.id: row.openid for row in cls.select(cls.id, cls.openid).where(cls.id.in_(ids))} if ids else {}

    @classmethod
    def note_messages(cls, times):
        """Note the last message of several users, {user id: at}, in one transaction (a later time only)."""
        column = cls.last_message_at
        with db.atomic():
            for user_id, at in times.items():
                cls.update({column: at}).where((cls.id == user_id) & (column.is_null() | (column < at))).execute()

    def set_following(self, following):
        """Follow state as the last subscribe / unsubscribe event said."""
        WechatUser.update(subscribed=bool(following)).where(WechatUser.id == self.id).execute()

    def set_active_enterprise(self, enterprise):
        """Make `enterprise` (or None) the one the bot acts for; the bot writes this column (staff approval of a
        binding sets it only while it is empty)."""
        enterprise_id = enterprise.id if enterprise is not None else None
        if self.active_enterprise_id != enterprise_id:
            WechatUser.update(active_enterprise=enterprise_id).where(WechatUser.id == self.id).execute()
            self.active_enterprise = enterprise


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


def remember_verifier_unit(openid, unit):
    """Keep a verifier's unit on their WechatUser (made on first sight, not as a follower)."""
    with db.atomic():
        user, _ = WechatUser.get_or_create(openid=openid, defaults={"subscribed": False})
        user.verifier_unit = unit
        user.save(only=[WechatUser.verifier_unit])


def verifier_unit_of(openid):
    """The unit a verifier stated before, or None."""
    user = WechatUser.get_or_none(WechatUser.openid == openid)
    return user.verifier_unit if user else None


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

    @classmethod
    def enterprises_of(cls, user):
        """The enterprises `user` is bound to now, in the order they were bound."""
        return list(
            Enterprise.select().join(cls)
            .where((cls.user == user) & cls.revoked_at.is_null())
            .order_by(cls.created_at, cls.id)
        )

    @classmethod
    def enterprises_and_active(cls, user):
        """(the enterprises `user` is bound to now, in the order they were bound; the user's active enterprise id as
        stored now) in one query."""
        rows = list(
            WechatUser.select(WechatUser.active_enterprise.alias("user_active_id"), Enterprise)
            .join(cls, JOIN.LEFT_OUTER, on=((cls.user == WechatUser.id) & cls.revoked_at.is_null()))
            .join(Enterprise, JOIN.LEFT_OUTER, on=(cls.enterprise == Enterprise.id))
            .where(WechatUser.id == user.id)
            .order_by(cls.created_at, cls.id).objects(Enterprise)
        )
        active = rows[0].user_active_id if rows else None
        return [row for row in rows if row.id is not None], active

    @classmethod
    def bind(cls, user, enterprise, method="sms"):
        """Bind (or bind again after an unbinding); return (the binding, True when it is new or revived)."""
        try:
            with db.atomic():
                return cls.create(user=user, enterprise=enterprise, method=method), True
        except IntegrityError:
            binding = cls.get((cls.user == user) & (cls.enterprise == enterprise))
        revived = cls.update(revoked_at=None, method=method).where(
            (cls.id == binding.id) & cls.revoked_at.is_null(False)
        ).execute()
        return binding, bool(revived)

    @classmethod
    def unbind(cls, user, enterprise):
        """End `user`'s binding to `enterprise`; True when there was one."""
        return bool(cls.update(revoked_at=utcnow()).where(
            (cls.user == user) & (cls.enterprise == enterprise) & cls.revoked_at.is_null()
        ).execute())

    @classmethod
    def owners_of(cls, enterprise, besides=None):
        """Ids of the users bound to `enterprise` now (without `besides`)."""
        query = cls.select(cls.user).where((cls.enterprise == enterprise) & cls.revoked_at.is_null())
        if besides is not None:
            query = query.where(cls.user != besides)
        return [row.user_id for row in query.order_by(cls.id)]


# BindingReview.status
REVIEW_SUBMITTED = "submitted"
REVIEW_APPROVED = "approved"
REVIEW_REFUSED = "refused"
# BindingReview.trigger
NO_MOBILE = "no_mobile"  # the register holds no mobile that can receive a code: licence and authorisation photos
MOBILE_CHANGED = "mobile_changed"  # the code reached the registered mobile, but that mobile was changed lately


class BindingReview(BaseModel):
    """A staff-reviewed binding request: no usable registered mobile, or one that was replaced recently."""

    user = ForeignKeyField(WechatUser, backref="binding_reviews")
    enterprise = ForeignKeyField(Enterprise)
    media = JSONText(default=list)  # [{"media_id": ..., "kind": "licence"|"authorisation", "blob_id": ...}]
    status = CharField(max_length=12, default=REVIEW_SUBMITTED)  # submitted / approved / refused
    trigger = CharField(max_length=20, default=NO_MOBILE)  # why a person reviews it: no_mobile / mobile_changed
    reason = TextField(default="")
    decided_by = CharField(max_length=80, null=True)
    decided_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def open_for(cls, user, enterprise):
        """The review `user` submitted for `enterprise` that is still waiting, or None."""
        return cls.get_or_none((cls.user == user) & (cls.enterprise == enterprise) & (cls.status == REVIEW_SUBMITTED))

    @classmethod
    def submit(cls, user, enterprise, media=(), trigger=NO_MOBILE):
        """A new review unless one is waiting already: (the review, True when it was created now)."""
        waiting = cls.open_for(user, enterprise)
        if waiting is not None:
            return waiting, False
        return cls.create(user=user, enterprise=enterprise, media=list(media), trigger=trigger), True

    @classmethod
    def find(cls, review_id):
        """The review with this id, or None."""
        return cls.get_or_none(cls.id == review_id)

    @classmethod
    def load(cls, review_id):
        """The review with this id; DoesNotExist when it is not (yet) visible, so the job asking is retried."""
        return cls.get_by_id(review_id)

    @classmethod
    def latest(cls, limit):
        """The reviews for the office's list: waiting ones first, then newest first."""
        return list(cls.select().order_by(cls.status != REVIEW_SUBMITTED, cls.id.desc()).limit(limit))

    @classmethod
    def any_names_blob(cls, blob_id):
        """True when some review's documents include StoredBlob `blob_id`."""
        return any(blob_id in review.blob_ids() for review in cls.select())

    def blob_ids(self):
        """The StoredBlob ids of the review's fetched documents (None for one not fetched yet)."""
        return {item.get("blob_id") for item in (self.media or []) if isinstance(item, dict)}

    def save_media(self):
        """Write the review's media list back (each item's `blob_id` or `error` as fetched)."""
        BindingReview.update(media=self.media).where(BindingReview.id == self.id).execute()


# SmsMessage.state
SMS_PENDING = "pending"
SMS_SENDING = "sending"
SMS_SENT = "sent"
SMS_FAILED = "failed"
SMS_EXPIRED = "expired"


class SmsMessage(BaseModel):
    """One SMS to a registered mobile (a binding code). The job is given this row's id, never the text (RQ keeps job
    arguments in Redis and rq-dashboard shows them); the text is blanked when a send begins and is written back only
    for a retry after a failure that sent nothing."""

    dedup_key = CharField(unique=True, max_length=120)  # one SMS per (user, message that asked for it)
    mobile = CharField(max_length=20)
    text = TextField(default="")
    state = CharField(max_length=12, default=SMS_PENDING, index=True)
    attempts = IntegerField(default=0)
    error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)

    @classmethod
    def queue(cls, dedup_key, mobile, text):
        """The row for `dedup_key`, created pending unless an earlier call made it."""
        try:
            with db.atomic():
                return cls.create(dedup_key=dedup_key, mobile=mobile, text=text)
        except IntegrityError:
            return cls.get(cls.dedup_key == dedup_key)

    @classmethod
    def pending(cls, dedup_key):
        """The pending row for `dedup_key`, or None (sent, given up, or never made)."""
        return cls.get_or_none((cls.dedup_key == dedup_key) & (cls.state == SMS_PENDING))

    @classmethod
    def take(cls, sms_id, max_age):
        """Claim pending row `sms_id` for one send: (mobile, text) with the stored text blanked, or None when it is
        not pending (sent, or another worker has it). A row older than `max_age` seconds is expired instead."""
        row = cls.get_or_none(cls.id == sms_id)
        if row is None or row.state != SMS_PENDING:
            return None
        if utcnow() - row.created_at > dt.timedelta(seconds=max_age):
            cls.update(state=SMS_EXPIRED, text="").where((cls.id == sms_id) & (cls.state == SMS_PENDING)).execute()
            return None
        claimed = cls.update(state=SMS_SENDING, text="", attempts=cls.attempts + 1).where(
            (cls.id == sms_id) & (cls.state == SMS_PENDING)
        ).execute()
        return (row.mobile, row.text) if claimed else None

    @classmethod
    def sent(cls, sms_id):
        cls.update(state=SMS_SENT, sent_at=utcnow(), error=None).where(cls.id == sms_id).execute()

    @classmethod
    def failed(cls, sms_id, error, retry_text=None):
        """A send that failed: back to pending with its text for a retry (`retry_text`), or failed for good."""
        if retry_text is not None:
            cls.update(state=SMS_PENDING, text=retry_text, error=error).where(cls.id == sms_id).execute()
        else:
            cls.update(state=SMS_FAILED, text="", error=error).where(cls.id == sms_id).execute()

    @classmethod
    def find(cls, sms_id):
        return cls.get_or_none(cls.id == sms_id)


class StaffUser(BaseModel):
    username = CharField(unique=True, max_length=60)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=12)  # office / department
    department = ForeignKeyField(Department, null=True, backref="staff")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)

    @classmethod
    def by_username(cls, username):
        """The staff account with this user name (active or not), or None."""
        return cls.get_or_none(cls.username == username)


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

    @classmethod
    def latest(cls, limit):
        """The last `limit` entries, newest first."""
        return list(cls.select().order_by(cls.id.desc()).limit(limit))
