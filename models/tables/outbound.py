"""Messages to WeChat users, each a row marked before it is sent so that a crash never makes it go twice."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, IntegrityError, TextField

from models.base import BaseModel, JSONText, db, utcnow
from models.tables.accounts import WechatUser
from models.tables.blobs import StoredBlob

# OutboundMessage.state
PENDING, SENDING, SENT, DEFERRED, UNKNOWN, UNSENT = "pending", "sending", "sent", "deferred", "unknown", "failed"


class OutboundMessage(BaseModel):
    """A message to a WeChat user, marked before it is sent so that a crash never makes it go twice."""

    user = ForeignKeyField(WechatUser, backref="outbound")
    dedup_key = CharField(unique=True, max_length=120)
    kind = CharField(max_length=20)  # text / image / notice
    payload = JSONText()  # text: {"text"}; image: {"blob_id", "request_id"?}; notice: {"notice", "facts", "url"}
    state = CharField(max_length=12, default=PENDING, index=True)  # pending/sending/sent/deferred/unknown/failed
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    sending_at = DateTimeField(null=True)  # when the last send began: sweep_unknown's clock
    mentioned_at = DateTimeField(null=True)  # when the bot told the user it was not (surely) delivered
    via = CharField(max_length=10, null=True)  # custom / template: how a sent message went (the window counts)

    @classmethod
    def images_to(cls, openid, key_prefix):
        """The image messages for the user `openid` whose dedup key starts with `key_prefix`."""
        return list(cls.select().join(WechatUser).where(
            (WechatUser.openid == openid) & (cls.kind == "image") & cls.dedup_key.startswith(key_prefix)))

    @classmethod
    def create_once(cls, user_id, kind, payload, dedup_key):
        """The row for `dedup_key`, created (state pending) unless an earlier call made it; the delivery job sends
        it, and the sweep enqueues pending rows whose job was lost."""
        try:
            with db.atomic():
                return cls.create(user=user_id, dedup_key=dedup_key, kind=kind, payload=payload)
        except IntegrityError:
            return cls.get(cls.dedup_key == dedup_key)

    @classmethod
    def find(cls, row_id):
        """The row, or None (not yet committed, or deleted)."""
        return cls.get_or_none(cls.id == row_id)

    @classmethod
    def create_image_once(cls, user_id, png_bytes, dedup_key, **payload):
        """An image row (the PNG kept in StoredBlob until sent) for `dedup_key`, unless an earlier call made it."""
        existing = cls.get_or_none(cls.dedup_key == dedup_key)
        if existing:
            return existing
        try:
            with db.atomic():
                blob = StoredBlob.create(mime="image/png", filename=f"{dedup_key}.png", content=png_bytes)
                return cls.create(user=user_id, dedup_key=dedup_key, kind="image", payload={"blob_id": blob.id,
                                                                                           **payload})
        except IntegrityError:
            return cls.get(cls.dedup_key == dedup_key)

    @classmethod
    def pending_among(cls, ids):
        """The rows of `ids` still pending."""
        return list(cls.select().where(cls.id.in_(list(ids)) & (cls.state == PENDING)))

    @classmethod
    def claim(cls, row_id):
        """Atomically move the row from pending/deferred (never mentioned) to sending; False if another got it."""
        return cls.update(state=SENDING, sending_at=utcnow(), attempts=cls.attempts + 1).where(
            (cls.id == row_id) & cls.state.in_([PENDING, DEFERRED]) & cls.mentioned_at.is_null()).execute() == 1

    @classmethod
    def finish(cls, row_id, state, note=None, via=None):
        """Leave `sending` for `state` (sent: with its time and channel)."""
        values = {"state": state, "error": note}
        if state == SENT:
            values.update(sent_at=utcnow(), via=via)
        cls.update(values).where((cls.id == row_id) & (cls.state == SENDING)).execute()

    @classmethod
    def keep_payload(cls, row_id, payload):
        cls.update(payload=payload).where(cls.id == row_id).execute()

    @classmethod
    def sending_since_before(cls, cutoff):
        """Rows left `sending` since before `cutoff` (a worker died mid-send) marked unknown; return how many."""
        return cls.update(state=UNKNOWN, error="left in sending: the worker stopped mid-send").where(
            (cls.state == SENDING) & (cls.sending_at < cutoff)).execute()

    @classmethod
    def stale_pending(cls, cutoff):
        """Pending rows made before `cutoff` and never mentioned, oldest first (their job may be gone)."""
        return list(cls.select().where((cls.state == PENDING) & (cls.created_at < cutoff) & cls.mentioned_at.is_null())
                    .order_by(cls.id))

    @classmethod
    def custom_sent_since(cls, user_id, since):
        """How many customer-service messages went to the user since `since` (WeChat's window counts)."""
        return cls.select().where((cls.user == user_id) & (cls.state == SENT) & (cls.via == "custom")
                                  & (cls.sent_at >= since)).count()

    @classmethod
    def undelivered_for(cls, user_id, pending_before):
        """What the user should hear about, oldest first: deferred, uncertain, or failed (not notices: those became
        PendingNotices) rows, and rows still pending since before `pending_before`; never mentioned yet."""
        waiting = (cls.state == PENDING) & (cls.created_at < pending_before)
        failed = (cls.state == UNSENT) & (cls.kind != "notice")
        return list(cls.select().where((cls.user == user_id) & cls.mentioned_at.is_null()
                                       & (cls.state.in_([DEFERRED, UNKNOWN]) | failed | waiting))
                    .order_by(cls.created_at, cls.id))

    @classmethod
    def mentionable_for(cls, user_id, pending_before):
        """(undelivered_for's rows, True when the user has rows not settled yet — pending or sending, never mentioned
        — that may still become one of them) in one query."""
        rows = list(cls.select().where((cls.user == user_id) & cls.mentioned_at.is_null()
                                       & (cls.state.in_([PENDING, SENDING, DEFERRED, UNKNOWN])
                                          | ((cls.state == UNSENT) & (cls.kind != "notice"))))
                    .order_by(cls.created_at, cls.id))
        told = [row for row in rows if row.state not in (PENDING, SENDING)
                or (row.state == PENDING and row.created_at < pending_before)]
        return told, any(row.state in (PENDING, SENDING) for row in rows)

    def claim_mention(self):
        """Mark the row mentioned (a pending one deferred: it is told now, never sent later); False if it was."""
        values = {OutboundMessage.mentioned_at: utcnow()}
        if self.state == PENDING:
            values.update({OutboundMessage.state: DEFERRED, OutboundMessage.error: "told at the next message"})
        return OutboundMessage.update(values).where(
            (OutboundMessage.id == self.id) & OutboundMessage.mentioned_at.is_null()
            & (OutboundMessage.state == self.state)).execute() == 1
