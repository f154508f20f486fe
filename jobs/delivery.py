"""Messages to WeChat users, each sent at most once: an OutboundMessage row first, then the `deliver` job.

States: pending → sending → sent; deferred (outside WeChat's window or over its count: told the next time the user
writes); unknown (a send that may or may not have arrived: never repeated, mentioned instead); failed. A pending row
whose job was lost (a flushed Redis) is enqueued again by `sweep_outbound`; one still pending when the owner next
writes is told instead. A report's QR image, once sent, marks its request delivered.

WeChat's customer-service windows (docs/WECHAT.md §2.3): after a message from the user, 5 messages within 48 hours;
after a menu click, follow or scan, 3 within 1 minute. Outside them, news goes as a template message (per notice
kind, jobs/notice_kinds.py) or waits for the owner's next message.
"""

import datetime as dt
import logging

import requests
from rq import Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from urllib3.exceptions import MaxRetryError, NewConnectionError

from bot import texts
from jobs import interactions, notice_kinds
from jobs.compose import TemplateFieldError
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
from models.base import to_local, utcnow
from models.tables.accounts import WechatUser
from models.tables.cases import PendingNotice
from models.tables.reports import (
    DEFERRED,
    PENDING,
    SENT,
    UNKNOWN,
    UNSENT,
    OutboundMessage,
    ReportRequest,
    StoredBlob,
)
from runtime import current

logger = logging.getLogger(__name__)

SENDING, FAILED = "sending", UNSENT
MESSAGE_WINDOW, MESSAGE_QUOTA = dt.timedelta(hours=48), 5
EVENT_WINDOW, EVENT_QUOTA = dt.timedelta(minutes=1), 3
RETRY_INTERVALS = [10, 60, 300, 1800]
MEDIA_TTL = dt.timedelta(days=2)  # WeChat keeps temporary media 3 days; re-upload well before
TRANSIENT = (Busy, RateLimited, TokenInvalid)
WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED)


class OutboundMissing(LookupError):
    """`deliver` ran before the row's transaction committed, or for a deleted row (RQ retries it)."""


# -- queueing --------------------------------------------------------------------------------------------------


def queue_text(user_id, text, dedup_key):
    """Queue a customer-service text for `user_id` once per `dedup_key`; return the OutboundMessage id."""
    return _enqueue_if_pending(OutboundMessage.create_once(user_id, "text", {"text": text}, dedup_key))


def queue_image(user_id, png_bytes, dedup_key, request_id=None):
    """Queue an image (PNG bytes kept until sent) once per `dedup_key`; a report's QR code names its request, which
    is delivered when the image is sent. Return the row id."""
    extra = {"request_id": request_id} if request_id else {}
    return _enqueue_if_pending(OutboundMessage.create_image_once(user_id, png_bytes, dedup_key, **extra))


def queue_notice(user_id, kind, facts, dedup_key, url=None):
    """Queue news of `kind` (jobs/notice_kinds.py) that may come days later: custom text in the window, else the
    kind's template, else kept for the owner's next message."""
    payload = notice_kinds.notice_payload(kind, facts, url)
    return _enqueue_if_pending(OutboundMessage.create_once(user_id, "notice", payload, dedup_key))


def enqueue_rows(outbound_ids):
    """Enqueue the delivery of rows that models/ wrote (e.g. an import's notices to owners); return how many."""
    rows = [row for row in OutboundMessage.pending_among(outbound_ids) if row.state == PENDING]
    if rows:
        interactions.flag_mentions([row.user_id for row in rows])
    for row in rows:
        _enqueue(row)
    return len(rows)


def _enqueue_if_pending(row):
    if row.state == PENDING:
        interactions.flag_mentions([row.user_id])  # it may have to be told at the next message instead
        _enqueue(row)
    return row.id


def _enqueue(row):
    current().queue.enqueue(
        "jobs.delivery.deliver", row.id, job_id=f"deliver-{row.id}",
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
    )


# -- delivering ------------------------------------------------------------------------------------------------


def deliver(outbound_id):
    """Send OutboundMessage `outbound_id` unless it was already sent or tried; return its final state."""
    row = OutboundMessage.find(outbound_id)
    if row is None:
        raise OutboundMissing(outbound_id)
    if not OutboundMessage.claim(row.id):
        logger.info("outbound %s is %s: not sending again", outbound_id, row.state)
        return row.state
    api = WeChatAPI.from_runtime(current())
    try:
        state, note, via = SENDERS[row.kind](api, row)
    except TRANSIENT as exc:
        _release(row, exc)
        raise
    except requests.RequestException as exc:
        if not _surely_unsent(exc):
            OutboundMessage.finish(row.id, UNKNOWN, f"{type(exc).__name__}: {exc}")
            logger.warning("outbound %s may or may not have arrived: %s", outbound_id, exc)
            return UNKNOWN
        _release(row, exc)
        raise
    except WeChatAPIError as exc:
        if exc.errcode is None:  # an HTTP-level failure: WeChat may have acted on it
            OutboundMessage.finish(row.id, UNKNOWN, str(exc))
            return UNKNOWN
        OutboundMessage.finish(row.id, FAILED, str(exc))
        raise
    OutboundMessage.finish(row.id, state, note, via)
    if state == SENT and row.payload.get("request_id"):
        ReportRequest.mark_delivered(row.payload["request_id"])
    logger.info("outbound %s (%s) to user %s: %s", outbound_id, row.kind, row.user_id, state)
    return state


def _release(row, exc):
    """Nothing was sent: back to pending for RQ's retry, or deferred when this was the last try."""
    job = get_current_job()
    last_try = job is not None and not job.retries_left
    OutboundMessage.finish(row.id, DEFERRED if last_try else PENDING, f"{type(exc).__name__}: {exc}")


def _surely_unsent(exc):
    """True when the request never reached WeChat (no connection made), so sending again cannot duplicate."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)


def window_allows(user, now=None):
    """True when WeChat's windows let one more customer-service message go to `user` now: 5 within 48 h of their
    last message, or 3 within a minute of their last click, follow or scan (counted from our sent rows)."""
    now = now or utcnow()
    for since, span, quota in ((interactions.last_message_at(user), MESSAGE_WINDOW, MESSAGE_QUOTA),
                               (user.last_event_at, EVENT_WINDOW, EVENT_QUOTA)):
        if since is not None and now - since < span and OutboundMessage.custom_sent_since(user.id, since) < quota:
            return True
    return False


def _send_custom(row, send):
    """A customer-service message by `send(openid)`; outside the windows or over the count → deferred."""
    user = WechatUser.load(row.user_id)
    if not window_allows(user):
        return DEFERRED, "outside WeChat's customer-service windows or over their count", None
    try:
        send(user.openid)
    except (OutOfWindow, QuotaExceeded) as exc:
        return DEFERRED, str(exc), None
    except NotFollowing as exc:
        return FAILED, str(exc), None
    return SENT, "custom", "custom"


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
        blob = StoredBlob.load(payload["blob_id"])
        payload["media_id"] = api.upload_image(bytes(blob.content), filename=blob.filename or "image.png")
        payload["media_at"] = utcnow().isoformat()
        OutboundMessage.keep_payload(row.id, payload)
    return payload["media_id"]


def _send_notice(api, row):
    """Custom text inside the windows, else the kind's template, else held for the owner's next message."""
    user = WechatUser.load(row.user_id)
    text = notice_kinds.notice_text(row.payload)
    if window_allows(user):
        try:
            api.send_text(user.openid, text)
            return SENT, "custom", "custom"
        except WeChatAPIError as exc:
            if isinstance(exc, TRANSIENT) or exc.errcode is None:  # None: it may have arrived, never send twice
                raise
            logger.info("notice %s: custom message refused (%s), trying a template", row.id, exc.errcode)
    sent = _send_template(api, row, user)
    if sent is not None:
        return sent
    notice = PendingNotice.hold(user.id, text)
    return FAILED, f"held as PendingNotice {notice.id}", None


def _send_template(api, row, user):
    """The notice as its kind's template message: (state, note, via), or None when it has none or was refused."""
    try:
        template = notice_kinds.template_for(row.payload, current().config)
    except TemplateFieldError:
        logger.exception("notice %s: a value does not fit its template field (a mapping bug)", row.id)
        return None
    if template is None:
        return None
    try:
        api.send_template(user.openid, *template, url=row.payload.get("url"))
    except WeChatAPIError as exc:
        if isinstance(exc, TRANSIENT) or exc.errcode is None:
            raise
        logger.warning("notice %s: template refused (%s), keeping it for the next visit", row.id, exc)
        return None
    if notice_kinds.details_later(row.payload):
        PendingNotice.hold(user.id, notice_kinds.notice_text(row.payload))
    return SENT, "template", "template"


SENDERS = {"text": _send_text, "image": _send_image, "notice": _send_notice}


# -- after a crash or a flush, and the next visit ---------------------------------------------------------------


def sweep_unknown(older_than=dt.timedelta(minutes=10)):
    """Mark rows left `sending` longer than `older_than` (a crashed worker) as unknown; return how many."""
    if not isinstance(older_than, dt.timedelta):
        older_than = dt.timedelta(seconds=older_than)
    return OutboundMessage.sending_since_before(utcnow() - older_than)


def sweep_outbound():
    """Periodic: enqueue again every row pending longer than OUTBOUND_STALE_SECONDS whose job is gone (a flushed
    Redis, a lost job); return how many."""
    rt = current()
    cutoff = utcnow() - dt.timedelta(seconds=rt.config["OUTBOUND_STALE_SECONDS"])
    revived = 0
    stale = OutboundMessage.stale_pending(cutoff)
    if stale:
        interactions.flag_mentions([row.user_id for row in stale])  # told at the next message, if it comes first
    for row in stale:
        if _job_status(rt, f"deliver-{row.id}") not in WAITING:
            _enqueue(row)
            revived += 1
    if revived:
        logger.warning("sweep re-enqueued %s pending deliveries whose job was gone", revived)
    return revived


def _job_status(rt, job_id):
    try:
        return Job.fetch(job_id, connection=rt.redis).get_status()
    except NoSuchJobError:
        return None


def pending_mentions(user):
    """Chinese notices for the bot to prepend: undelivered, uncertain or long-pending messages and held notices,
    once each."""
    return take_mentions(user)[0]


def take_mentions(user):
    """(pending_mentions' notices, True when the user still has rows that may have to be told later)."""
    user_id = getattr(user, "id", user)
    stale = dt.timedelta(seconds=current().config["OUTBOUND_STALE_SECONDS"])
    rows, unsettled = OutboundMessage.mentionable_for(user_id, utcnow() - stale)
    mentions = [_mention(row) for row in rows if row.claim_mention()]
    return mentions + PendingNotice.take_for(user_id), unsettled


def _mention(row):
    """The sentence that tells the user about one undelivered or uncertain message."""
    if row.kind == "image":
        return texts.MENTION_IMAGE
    text = notice_kinds.notice_text(row.payload)
    if row.state == UNKNOWN and row.sending_at:
        return texts.MENTION_UNKNOWN.format(at=to_local(row.sending_at).strftime("%m月%d日 %H:%M"), text=text)
    return texts.MENTION_DEFERRED.format(text=text)
