"""WeCom group robot outbox: notices per robot in Redis, and a sliding-window rate limit shared by all workers.

A notice is a `StaffNotice` row first (the truth: a flushed Redis loses none, `sweep_outbox` re-queues it); its id is
pushed on the robot's Redis list and `flush_robot(robot_key)` sends what the window allows — several notices merged into
one markdown message of at most 4,096 bytes — and re-enqueues itself (`Queue.enqueue_in`, run by the worker's scheduler;
`flask worker` starts it) when the window is full or the robot failed. One flusher per robot at a time (a Redis lock).
"""

import datetime as dt
import hashlib
import logging
import time
import uuid

import requests

from jobs.gateways.wecom import WecomError, send_markdown
from jobs.staff_markdown import notice_markdown
from models.tables.cases import NOTICE_PENDING, StaffNotice
from runtime import current

log = logging.getLogger(__name__)

MARKDOWN_LIMIT = 4096
SEPARATOR = "\n\n"
RETRY_DELAYS = (5, 15, 60, 300)
BAD_KEY = 93000
RATE_LIMITED = 45009
ROBOTS = "wecom:robots"  # hash: robot key -> webhook URL


def robot_key(url):
    """A short stable name for a webhook URL (the URL holds the secret key: never put it in a Redis key)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def resolve_robot(notice_robot_url, config):
    """The webhook a notice goes to: the department's robot, else WECOM_ROBOT_URL, else None (logged)."""
    return notice_robot_url or config["WECOM_ROBOT_URL"] or None


def split_markdown(text, limit=MARKDOWN_LIMIT):
    """Pieces of `text` of at most `limit` UTF-8 bytes, cut at line ends where possible, never inside a character."""
    pieces, current_piece = [], ""
    for line in text.split("\n"):
        candidate = f"{current_piece}\n{line}" if current_piece else line
        if len(candidate.encode()) <= limit:
            current_piece = candidate
            continue
        if current_piece:
            pieces.append(current_piece)
        while len(line.encode()) > limit:
            cut = line.encode()[:limit].decode("utf-8", errors="ignore")
            pieces.append(cut)
            line = line[len(cut):]
        current_piece = line
    if current_piece:
        pieces.append(current_piece)
    return pieces


def compose(notices, batch_max, limit=MARKDOWN_LIMIT, markdown=lambda notice: notice.body):
    """Merge notices into messages: [(content, [notice ids])], each ≤ limit bytes and ≤ batch_max notices;
    `markdown(notice)` is a notice's text."""
    messages, body, ids = [], "", []
    for notice in notices:
        text = markdown(notice)
        if len(text.encode()) > limit:
            if ids:
                messages.append((body, ids))
                body, ids = "", []
            parts = split_markdown(text, limit)
            messages.extend((part, [notice.id] if n == len(parts) - 1 else []) for n, part in enumerate(parts))
            continue
        candidate = f"{body}{SEPARATOR}{text}" if body else text
        if ids and (len(candidate.encode()) > limit or len(ids) >= batch_max):
            messages.append((body, ids))
            candidate, ids = text, []
        body = candidate
        ids.append(notice.id)
    if ids:
        messages.append((body, ids))
    return messages


def _keys(key):
    return f"wecom:outbox:{key}", f"wecom:sent:{key}", f"wecom:lock:{key}", f"wecom:queued:{key}"


def enqueue_notice(rt, notice_id):
    """Put StaffNotice `notice_id` on its robot's outbox and make sure a flush is coming; log it when no robot."""
    notice = StaffNotice.load(notice_id)
    if notice.state != NOTICE_PENDING:
        return None
    url = resolve_robot(notice.robot_url, rt.config)
    if url is None:
        log.info("WeCom notice %s (no robot configured):\n%s", notice.id,
                 notice_markdown(notice, rt.config["PUBLIC_BASE_URL"]))
        notice.mark_logged()
        return None
    key = robot_key(url)
    outbox = _keys(key)[0]
    rt.redis.hset(ROBOTS, key, url)
    if str(notice.id).encode() not in rt.redis.lrange(outbox, 0, -1):
        rt.redis.rpush(outbox, notice.id)
    schedule_flush(rt, key, rt.config["WECOM_BATCH_SECONDS"])
    return key


def schedule_flush(rt, key, delay):
    """Enqueue `flush_robot(key)` now or after `delay` seconds, unless one is already coming."""
    flag = _keys(key)[3]
    if not rt.redis.set(flag, 1, nx=True, ex=int(delay) + 120):
        return None
    if delay <= 0:
        return rt.queue.enqueue(flush_robot, key)
    return rt.queue.enqueue_in(dt.timedelta(seconds=delay), flush_robot, key)


def flush_robot(robot_key):
    """Send what robot `robot_key`'s window allows from its outbox; re-enqueue itself for the rest."""
    rt = current()
    _, _, lock_name, flag = _keys(robot_key)
    rt.redis.delete(flag)
    lock = rt.redis.lock(lock_name, timeout=120, blocking=False)
    if not lock.acquire():
        schedule_flush(rt, robot_key, 1)
        return "busy"
    try:
        delay = _flush(rt, robot_key)
    finally:
        lock.release()
    if delay is not None:
        schedule_flush(rt, robot_key, delay)
    return f"again in {delay}s" if delay is not None else "done"


def _pending(rt, key):
    """The outbox's notices still pending, oldest first; ids no longer pending leave the list."""
    outbox = _keys(key)[0]
    ids = list(dict.fromkeys(int(i) for i in rt.redis.lrange(outbox, 0, -1)))
    notices = StaffNotice.pending_among(ids)
    for gone in set(ids) - {n.id for n in notices}:
        rt.redis.lrem(outbox, 0, gone)
    return notices


def _flush(rt, key):
    """Send merged messages while the window allows; return the seconds to wait before the next try, or None."""
    url = rt.redis.hget(ROBOTS, key)
    if url is None:
        log.warning("WeCom robot %s unknown (Redis flushed?): the sweep will re-queue its notices", key)
        return None
    url = url.decode()
    base = rt.config["PUBLIC_BASE_URL"]
    batches = compose(_pending(rt, key), rt.config["WECOM_BATCH_MAX"],
                      markdown=lambda notice: notice_markdown(notice, base))
    for content, ids in batches:
        wait = window_wait(rt, key)
        if wait > 0:
            return wait
        try:
            send_markdown(url, content)
        except WecomError as exc:
            return _failed(rt, key, url, ids, exc)
        except requests.RequestException as exc:
            return _failed(rt, key, url, ids, WecomError(-3, f"{type(exc).__name__}: {exc}"))
        _record_send(rt, key)
        _mark_sent(rt, key, ids)
    return None


def window_wait(rt, key):
    """Seconds until the sliding window of robot `key` has room for one more message (0 when it has now)."""
    sent = _keys(key)[1]
    window, limit = rt.config["WECOM_RATE_WINDOW"], rt.config["WECOM_RATE_LIMIT"]
    now = time.time()
    rt.redis.zremrangebyscore(sent, 0, now - window)
    if rt.redis.zcard(sent) < limit:
        return 0
    oldest = rt.redis.zrange(sent, 0, 0, withscores=True)[0][1]
    return max(oldest + window - now, 0.05)


def _record_send(rt, key):
    """Count a message in the window, stamped after the robot answered so our window never runs ahead of its."""
    sent = _keys(key)[1]
    now = time.time()
    rt.redis.zadd(sent, {f"{now}:{uuid.uuid4().hex[:8]}": now})
    rt.redis.expire(sent, int(rt.config["WECOM_RATE_WINDOW"] * 2) + 1)


def _mark_sent(rt, key, ids):
    outbox = _keys(key)[0]
    if ids:
        StaffNotice.mark_sent(ids)
    for notice_id in ids:
        rt.redis.lrem(outbox, 0, notice_id)


def _failed(rt, key, url, ids, exc):
    """Record a failed send; re-route a bad department key to the default robot; return the retry delay or None."""
    log.warning("WeCom robot %s: %s", key, exc)
    attempts = StaffNotice.note_failure(ids, exc)
    if exc.errcode == RATE_LIMITED:
        return rt.config["WECOM_RATE_WINDOW"]
    if exc.errcode == BAD_KEY:
        return _bad_key(rt, key, url)
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def _bad_key(rt, key, url):
    """Every pending notice of a robot whose key WeCom refuses goes to the default robot, or is marked failed."""
    outbox = _keys(key)[0]
    default = rt.config["WECOM_ROBOT_URL"]
    notices = _pending(rt, key)
    rt.redis.delete(outbox)
    for notice in notices:
        if default and default != url:
            notice.reroute(default)
            enqueue_notice(rt, notice.id)
        else:
            log.error("WeCom notice %s undeliverable (robot key refused)", notice.id)
            notice.give_up()
    return None


def sweep_outbox():
    """Re-queue every pending StaffNotice missing from its robot's outbox (after a Redis flush or a lost job)."""
    rt = current()
    queued = 0
    for notice in StaffNotice.pending():
        key = enqueue_notice(rt, notice.id)
        queued += key is not None
    return queued
