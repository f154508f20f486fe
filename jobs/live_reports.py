"""The verify page's live fields of a report (models.tables.reports.LiveReport), copied in Redis so that a view
reads no database in steady state — and exact: a copy is never shown after the change it predates is committed.

Every change of a report's live fields (revoked, superseded, corrected, its PDF ready) calls
`models.tables.reports.live_changed`, which, once the change is committed, calls `forget` with the report's token
(bound by the app factory: `bind`). `forget` gives the report a new generation, a random value never reused. A
copy carries the generation that was current *before* the database was read for it, and is used only while that
generation is still the report's: a copy made from a row read before a commit is never used after the commit's
`forget`. The generation outlives every copy (GENERATION_TTL ≥ COPY_TTL), so one that lapses cannot make an old
copy current again. The read is one MGET (copy and generation), plus the database and a SET when there is no
usable copy.

Each web process also keeps the copies it read (`Local`, a bounded LRU), and uses one without asking Redis while
no announcement has named its report: `forget` publishes the tokens on CHANNEL in the same pipeline, after the new
generations, and a process drains its subscription (a non-blocking read of its socket, no round trip) before it
uses a local copy. An announcement is published before the writer's `forget` returns, so it is on the reader's
socket by the time anyone has been told of the change; a copy a process took from Redis just before a change is
named by that change's announcement, which arrives after the copy was taken. A process that is not subscribed, or
whose subscription dropped (announcements may have been lost), drops its copies and reads Redis until it is
subscribed again.

Without Redis the page reads the database, as before. Should Redis fail between a change's commit and its
`forget`, that is logged as an error and the stale copies lapse within COPY_TTL.
"""

import datetime as dt
import json
import logging
import os
import secrets
import threading
import time

import redis
from redis.client import PubSub
from redis.exceptions import RedisError

from models.tables import reports
from models.tables.reports import LiveReport, Report
from runtime import LRU, current

log = logging.getLogger(__name__)

# Announcements: the tokens of reports whose live fields changed, one per line; a channel per Redis database (a
# channel is server-wide, the keys are not).
CHANNEL = "verify:live:changed:{db}"
COPY_PREFIX = "verify:live:"
GENERATION_PREFIX = "verify:gen:"
COPY_TTL = 60
GENERATION_TTL = 2 * COPY_TTL  # ≥ COPY_TTL: see the module's docstring
LOCAL_SIZE = 4096  # copies one process keeps
LOCAL_MAX_AGE = 10  # seconds a process uses its copy at most (bounds a subscription dead without a word)
RESUBSCRIBE_SECONDS = 1.0  # how soon a process whose subscription failed tries again
_TIMES = frozenset(i for i, name in enumerate(LiveReport._fields)
                   if name in ("issued_at", "valid_until", "revoked_at", "corrected_at", "pdf_ready_at"))


def copy_key(token):
    return COPY_PREFIX + token


def generation_key(token):
    return GENERATION_PREFIX + token


def channel(pool):
    """The announcements' channel of the Redis database `pool` connects to."""
    return CHANNEL.format(db=pool.connection_kwargs.get("db", 0))


def bind():
    """Have every commit that changes reports' live fields forget their copies (the app factory, in every
    process: web, worker, scheduler, commands)."""
    reports.on_live_change(forget)


def read(client, token, local=None):
    """The live fields of the report `token` names, or None: this process's copy (`local`, a Local) while no
    announcement has named the report, else Redis's copy when it is current, else the database's (then copied)."""
    if local is not None:
        listening = local.listening()
        live = local.get(token) if listening else None
        if live is not None:
            return live
        live = _shared(client, token)
        if listening and live is not None:
            local.put(token, live)
        return live
    return _shared(client, token)


def _shared(client, token):
    """Redis's copy when it is current, else the database's (then copied, when Redis answered)."""
    try:
        copy, generation = client.mget(copy_key(token), generation_key(token))
        generation = generation or b""
    except RedisError:
        log.warning("the verify page's copy of live fields is unavailable (Redis); reading the database",
                    exc_info=True)
        copy = generation = None
    if copy is not None:
        stamp, _, raw = copy.partition(b"|")
        if stamp == generation:
            return decode(raw)
    live = Report.live_by_token(token)
    if live is not None and generation is not None:
        try:
            client.set(copy_key(token), generation + b"|" + encode(live), ex=COPY_TTL)
        except RedisError:
            log.warning("could not copy a report's live fields (Redis)", exc_info=True)
    return live


def forget(tokens):
    """After a commit that changed these reports' live fields: new generations, so that no copy made before is
    used again. A failure is logged, not raised: the change is committed, its copies lapse within COPY_TTL."""
    try:
        with current().redis.pipeline(transaction=False) as pipe:
            for token in tokens:
                pipe.set(generation_key(token), secrets.token_hex(8), ex=GENERATION_TTL)
                pipe.delete(copy_key(token))
            pipe.publish(channel(pipe.connection_pool), "\n".join(tokens))
            pipe.execute()
    except RedisError:
        log.error("reports %s changed, but their verify-page copies could not be forgotten (Redis): they lapse "
                  "within %s s", ", ".join(t[:8] for t in tokens), COPY_TTL, exc_info=True)


def encode(live):
    """A LiveReport as JSON bytes (times as ISO text)."""
    return json.dumps([value.isoformat() if i in _TIMES and value is not None else value
                       for i, value in enumerate(live)], ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(raw):
    """The LiveReport `encode` made."""
    values = json.loads(raw)
    return LiveReport(*(dt.datetime.fromisoformat(value) if i in _TIMES and value is not None else value
                        for i, value in enumerate(values)))


class _Announcements(PubSub):
    """The subscription to CHANNEL, counting the times redis-py connected it again (after which announcements may
    have been missed)."""

    reconnects = 0

    def on_connect(self, connection):
        self.reconnects += 1
        super().on_connect(connection)


class Local:
    """One process's copies of live fields, each used until an announcement names its report (see the module's
    docstring) and for LOCAL_MAX_AGE at most. Subscribes lazily, in the process that uses it (after a fork)."""

    def __init__(self, url, size=LOCAL_SIZE):
        self.url, self.lru = url, LRU(size, max_age=LOCAL_MAX_AGE)
        self.lock = threading.Lock()  # the subscription's
        self.subscription, self.pid, self.reconnects, self.retry_at, self.confirmed = None, None, 0, 0.0, False

    def listening(self):
        """True when subscribed with every announcement so far applied (copies named by one are dropped); False
        when not subscribed (all copies dropped; trying again after RESUBSCRIBE_SECONDS) or connected again and
        not yet confirmed subscribed."""
        with self.lock:
            if self.subscription is None or self.pid != os.getpid():
                return self._subscribe()
            try:
                while True:
                    message = self.subscription.get_message(timeout=0)
                    if self.subscription.reconnects != self.reconnects:  # redis-py connected again: announcements
                        self.reconnects = self.subscription.reconnects  # may be lost until it is subscribed
                        self.lru.clear()
                        self.confirmed = False
                    if message is None:
                        return self.confirmed
                    if message["type"] == "subscribe":
                        self.confirmed = True
                    elif message["type"] == "message":
                        for token in message["data"].decode("utf-8").split("\n"):
                            self.lru.pop(token)
            except (RedisError, OSError):
                log.warning("the verify page's announcements are unavailable (Redis); copies dropped", exc_info=True)
                self._drop()
                return False

    def _subscribe(self):
        if self.pid == os.getpid() and time.monotonic() < self.retry_at:
            return False
        self._drop()
        self.pid = os.getpid()
        try:
            pool = redis.ConnectionPool.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
            subscription = _Announcements(pool)
            subscription.subscribe(channel(pool))
            confirmed = subscription.get_message(timeout=1)
        except (RedisError, OSError):
            log.warning("could not subscribe to the verify page's announcements (Redis)", exc_info=True)
            confirmed = None
        if not confirmed or confirmed["type"] != "subscribe":
            self.retry_at = time.monotonic() + RESUBSCRIBE_SECONDS
            return False
        self.subscription, self.reconnects, self.confirmed = subscription, subscription.reconnects, True
        return True

    def _drop(self):
        self.lru.clear()
        if self.subscription is not None and self.pid == os.getpid():
            try:
                self.subscription.close()
            except (RedisError, OSError):
                log.debug("closing a dropped subscription failed", exc_info=True)
        self.subscription = None

    @property
    def copies(self):
        """token -> (taken at, LiveReport), least recently used first."""
        return self.lru.entries

    def get(self, token):
        """The copy of `token`'s live fields, or None (none, or older than LOCAL_MAX_AGE)."""
        return self.lru.get(token)

    def put(self, token, live):
        self.lru.put(token, live)
