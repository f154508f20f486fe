"""Messages to WeChat users, each sent at most once: an OutboundMessage row first, then the `deliver` job.

States: pending → sending → sent; deferred (outside WeChat's window or over its count: shown next time the user
writes); unknown (a send that may or may not have arrived: never repeated, mentioned instead); failed.
"""

import datetime as dt
import logging

import requests
from peewee import IntegrityError
from rq import Retry, get_current_job
from urllib3.exceptions import MaxRetryError, NewConnectionError

from jobs.gateways.wechat import (
    Busy,
    NotFollowing,
    OutOfWindow,
    QuotaExceeded,
    RateLimited,
    TokenInvalid,
    WeChatAPI,
    WeChatAPIError,
)
from models.base import db, to_local, utcnow
from models.tables.accounts import WechatUser
from models.tables.cases import PendingNotice
from models.tables.reports import OutboundMessage, StoredBlob
from runtime import current

logger = logging.getLogger(__name__)

PENDING, SENDING, SENT, DEFERRED, UNKNOWN, FAILED = "pending", "sending", "sent", "deferred", "unknown", "failed"
WINDOW = dt.timedelta(hours=48)
RETRY_INTERVALS = [10, 60, 300, 1800]
TEMPLATE_FIELD_MAX = 20
MEDIA_TTL = dt.timedelta(days=2)  # WeChat keeps temporary media 3 days; re-upload well before
TRANSIENT = (Busy, RateLimited, TokenInvalid)
MENTION_IMAGE = "此前发送给您的一张图片未能送达，请发送“我的报告”重新获取。"
MENTION_UNKNOWN = "{at} 发送给您的一条消息可能未能送达，内容如下：{text}"
MENTION_DEFERRED = "此前有一条消息未能送达，内容如下：{text}"


class OutboundMissing(LookupError):
    """`deliver` ran before the row's transaction committed, or for a deleted row (RQ retries it)."""


# -- queueing --------------------------------------------------------------------------------------------------


def queue_text(user_id, text, dedup_key):
    """Queue a customer-service text for `user_id` once per `dedup_key`; return the OutboundMessage id."""
    return _queue(user_id, "text", {"text": text}, dedup_key)


def queue_image(user_id, png_bytes, dedup_key):
    """Queue an image (PNG bytes kept in StoredBlob until sent) once per `dedup_key`; return the row id."""
    existing = OutboundMessage.get_or_none(OutboundMessage.dedup_key == dedup_key)
    if existing:
        return _enqueue_if_pending(existing)
    try:
        with db.atomic():
            blob = StoredBlob.create(mime="image/png", filename=f"{dedup_key}.png", content=png_bytes)
            row = OutboundMessage.create(user=user_id, dedup_key=dedup_key, kind="image", payload={"blob_id": blob.id})
    except IntegrityError:
        row = OutboundMessage.get(OutboundMessage.dedup_key == dedup_key)
    return _enqueue_if_pending(row)


def queue_notice(user_id, text, template_fields, dedup_key, url=None):
    """Queue news that may come days later: custom text in the window, else a template, else a PendingNotice."""
    payload = {"text": text, "fields": dict(template_fields or {}), "url": url}
    return _queue(user_id, "notice", payload, dedup_key)


def _queue(user_id, kind, payload, dedup_key):
    """Create the row (or find the one `dedup_key` already made) and enqueue its delivery while pending."""
    return _enqueue_if_pending(OutboundMessage.create_once(user_id, kind, payload, dedup_key))


def enqueue_rows(outbound_ids):
    """Enqueue the delivery of rows that models/ wrote (e.g. an import's notices to owners); return how many."""
    rows = OutboundMessage.select().where(OutboundMessage.id.in_(list(outbound_ids)))
    return sum(1 for row in rows if row.state == PENDING and _enqueue_if_pending(row))


def _enqueue_if_pending(row):
    if row.state == PENDING:
        current().queue.enqueue(
            "jobs.delivery.deliver", row.id, job_id=f"deliver-{row.id}",
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        )
    return row.id


# -- delivering ------------------------------------------------------------------------------------------------


def deliver(outbound_id):
    """Send OutboundMessage `outbound_id` unless it was already sent or tried; return its final state."""
    row = OutboundMessage.get_or_none(OutboundMessage.id == outbound_id)
    if row is None:
        raise OutboundMissing(outbound_id)
    if not _claim(row):
        logger.info("outbound %s is %s: not sending again", outbound_id, row.state)
        return row.state
    api = WeChatAPI.from_runtime(current())
    try:
        state, note = SENDERS[row.kind](api, row)
    except TRANSIENT as exc:
        _release(row, exc)
        raise
    except requests.RequestException as exc:
        if not _surely_unsent(exc):
            _finish(row, UNKNOWN, f"{type(exc).__name__}: {exc}")
            logger.warning("outbound %s may or may not have arrived: %s", outbound_id, exc)
            return UNKNOWN
        _release(row, exc)
        raise
    except WeChatAPIError as exc:
        if exc.errcode is None:  # an HTTP-level failure: WeChat may have acted on it
            _finish(row, UNKNOWN, str(exc))
            return UNKNOWN
        _finish(row, FAILED, str(exc))
        raise
    _finish(row, state, note)
    logger.info("outbound %s (%s) to user %s: %s", outbound_id, row.kind, row.user_id, state)
    return state


def _claim(row):
    """Atomically move the row from pending/deferred (never mentioned) to sending; False if another got it."""
    claimed = (
        OutboundMessage.update(state=SENDING, sending_at=utcnow(), attempts=OutboundMessage.attempts + 1)
        .where(
            (OutboundMessage.id == row.id)
            & (OutboundMessage.state.in_([PENDING, DEFERRED]))
            & (OutboundMessage.mentioned_at.is_null())
        )
        .execute()
    )
    return claimed == 1


def _finish(row, state, note=None):
    """Leave `sending` for a final state."""
    values = {"state": state, "error": note}
    if state == SENT:
        values["sent_at"] = utcnow()
    OutboundMessage.update(values).where(
        (OutboundMessage.id == row.id) & (OutboundMessage.state == SENDING)
    ).execute()


def _release(row, exc):
    """Nothing was sent: back to pending for RQ's retry, or deferred when this was the last try."""
    job = get_current_job()
    last_try = job is not None and not job.retries_left
    _finish(row, DEFERRED if last_try else PENDING, f"{type(exc).__name__}: {exc}")


def _surely_unsent(exc):
    """True when the request never reached WeChat (no connection made), so sending again cannot duplicate."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)


def _in_window(user):
    return user.last_message_at is not None and utcnow() - user.last_message_at < WINDOW


def _send_custom(row, send):
    """A customer-service message by `send(openid)`; outside the window or over the count → deferred."""
    user = WechatUser.get_by_id(row.user_id)
    if not _in_window(user):
        return DEFERRED, "outside the 48 h window (last_message_at)"
    try:
        send(user.openid)
    except (OutOfWindow, QuotaExceeded) as exc:
        return DEFERRED, str(exc)
    except NotFollowing as exc:
        return FAILED, str(exc)
    return SENT, "custom"


def _send_text(api, row):
    """Customer-service text."""
    return _send_custom(row, lambda openid: api.send_text(openid, row.payload["text"]))


def _send_image(api, row):
    """Upload (or reuse a fresh media_id), then a customer-service image."""
    return _send_custom(row, lambda openid: api.send_image(openid, _media_id(api, row)))


def _media_id(api, row):
    """The media_id of the row's image, uploaded once and reused while WeChat still keeps it."""
    payload = dict(row.payload)
    uploaded = payload.get("media_at") and utcnow() - dt.datetime.fromisoformat(payload["media_at"]) < MEDIA_TTL
    if not uploaded:
        blob = StoredBlob.get_by_id(payload["blob_id"])
        payload["media_id"] = api.upload_image(bytes(blob.content), filename=blob.filename or "image.png")
        payload["media_at"] = utcnow().isoformat()
        OutboundMessage.update(payload=payload).where(OutboundMessage.id == row.id).execute()
    return payload["media_id"]


def _send_notice(api, row):
    """Custom text inside the window, else a template message, else a PendingNotice for the next visit."""
    user = WechatUser.get_by_id(row.user_id)
    payload = row.payload
    if _in_window(user):
        try:
            api.send_text(user.openid, payload["text"])
            return SENT, "custom"
        except WeChatAPIError as exc:
            if isinstance(exc, TRANSIENT) or exc.errcode is None:  # None: it may have arrived, never send twice
                raise
            logger.info("notice %s: custom message refused (%s), trying a template", row.id, exc.errcode)
    template_id = current().config.get("WECHAT_TEMPLATE_ID")
    if template_id and payload.get("fields"):
        fields = {key: template_value(value) for key, value in payload["fields"].items()}
        try:
            api.send_template(user.openid, template_id, fields, url=payload.get("url"))
            return SENT, "template"
        except WeChatAPIError as exc:
            if isinstance(exc, TRANSIENT) or exc.errcode is None:
                raise
            logger.warning("notice %s: template refused (%s), keeping it for the next visit", row.id, exc)
    notice = PendingNotice.create(user=user, text=payload["text"])
    return FAILED, f"held as PendingNotice {notice.id}"


def template_value(value):
    """A template field value: one line, at most 20 characters (WeChat's limit)."""
    text = " ".join(str(value).split())
    return text if len(text) <= TEMPLATE_FIELD_MAX else text[: TEMPLATE_FIELD_MAX - 1] + "…"


SENDERS = {"text": _send_text, "image": _send_image, "notice": _send_notice}


# -- after a crash, and the next visit -------------------------------------------------------------------------


def sweep_unknown(older_than=dt.timedelta(minutes=10)):
    """Mark rows left `sending` longer than `older_than` (a crashed worker) as unknown; return how many."""
    if not isinstance(older_than, dt.timedelta):
        older_than = dt.timedelta(seconds=older_than)
    cutoff = utcnow() - older_than
    return (
        OutboundMessage.update(state=UNKNOWN, error="left in sending: the worker stopped mid-send")
        .where((OutboundMessage.state == SENDING) & (OutboundMessage.sending_at < cutoff))
        .execute()
    )


def pending_mentions(user):
    """Chinese notices for the bot to prepend: undelivered or uncertain messages and PendingNotices, once each."""
    user_id = getattr(user, "id", user)
    now = utcnow()
    mentions = []
    rows = (
        OutboundMessage.select()
        .where(
            (OutboundMessage.user == user_id)
            & (
                OutboundMessage.state.in_([DEFERRED, UNKNOWN])
                | ((OutboundMessage.state == FAILED) & (OutboundMessage.kind != "notice"))
            )
            & (OutboundMessage.mentioned_at.is_null())
        )
        .order_by(OutboundMessage.created_at)
    )
    for row in rows:
        claimed = (
            OutboundMessage.update(mentioned_at=now)
            .where((OutboundMessage.id == row.id) & (OutboundMessage.mentioned_at.is_null()))
            .execute()
        )
        if claimed:
            mentions.append(_mention(row))
    notices = PendingNotice.select().where(
        (PendingNotice.user == user_id) & (PendingNotice.shown_at.is_null())
    ).order_by(PendingNotice.created_at)
    for notice in notices:
        claimed = (
            PendingNotice.update(shown_at=now)
            .where((PendingNotice.id == notice.id) & (PendingNotice.shown_at.is_null()))
            .execute()
        )
        if claimed:
            mentions.append(notice.text)
    return mentions


def _mention(row):
    """The sentence that tells the user about one undelivered or uncertain message."""
    if row.kind == "image":
        return MENTION_IMAGE
    text = row.payload.get("text", "")
    if row.state == UNKNOWN and row.sending_at:
        return MENTION_UNKNOWN.format(at=to_local(row.sending_at).strftime("%m月%d日 %H:%M"),
                                      text=text)
    return MENTION_DEFERRED.format(text=text)
