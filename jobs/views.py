"""Verifiers' views, logged without making the verifier wait: appended to a Redis stream, flushed in batches.

`record_view` runs, in one round trip, a script that drops a refresh of the same client within VIEW_DEDUP_SECONDS
and appends the view to the stream `hegui:views`. The verify page's views take `buffer_view` instead: the view joins
this process's small queue, and a thread hands the queue to Redis every BUFFER_SECONDS as one pipeline of the same
script (a round trip costs the web process about seven times more CPU per view than its share of a pipeline of 50:
bench/verify_bench.py). The queue is drained at exit; only a process killed outright (SIGKILL, OOM) loses the views
of its last BUFFER_SECONDS. `flush_view_log` (a periodic job, every few
seconds) reads the stream as the consumer group `flushers`, stores the views in one transaction, then acknowledges
and deletes the entries. Nothing is lost: an entry stays pending until its batch is stored, a flusher that died
mid-batch leaves its entries to be reclaimed after CLAIM_IDLE_MS, and each ViewLog row carries its entry id, so a
batch stored twice is stored once. Without Redis the view is written to the database at once, as before.
"""

import atexit
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import threading
from collections import deque

from redis.exceptions import NoScriptError, RedisError, ResponseError

from models.base import connected, utcnow
from models.tables.views import ViewLog
from runtime import current

log = logging.getLogger(__name__)

STREAM = "hegui:views"
GROUP = "flushers"
VIEW_DEDUP_SECONDS = 60
UNIT_WINDOW = dt.timedelta(days=1)  # one stated 查验单位 per viewer and report a day; a later one corrects it
BATCH = 2000
CLAIM_IDLE_MS = 60_000
MAX_BATCHES = 50  # per job run; the next run takes the rest
BUFFER_SECONDS = 0.05  # how long a buffered view waits for its pipeline
BUFFER_LIMIT = 10_000  # views queued in one process before the page writes them itself

# KEYS[1] the client's dedup key, KEYS[2] the stream; ARGV[1] dedup seconds, ARGV[2] the entry. A view (ARGV[3]
# "view") is dropped when the client viewed within the window; a stated unit ("unit") always goes in (the route is
# rate-limited per client, VERIFY_UNIT_LIMIT, and the flush keeps one unit per viewer and report).
_APPEND = """
if ARGV[3] == 'view' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], '*', 'v', ARGV[2])
return 1
"""


_APPEND_SHA = hashlib.sha1(_APPEND.encode()).hexdigest()


def _client_key(report_id, ip, user_agent, openid):
    client = hashlib.sha256(f"{ip}\n{user_agent}\n{openid or ''}".encode()).hexdigest()[:24]
    return f"hegui:view:{report_id}:{client}"


def record_view(redis, report_id, ip, user_agent, openid, unit, kind="view"):
    """Log one view (kind "view") or a stated unit (kind "unit") now; True when something was logged.

    A refresh within VIEW_DEDUP_SECONDS by the same client adds nothing. Redis away: written to the database now."""
    view = _view(report_id, ip, user_agent, openid, unit, kind)
    keys, args = _script_args(view)
    try:
        try:
            added = redis.evalsha(_APPEND_SHA, len(keys), *keys, *args)
        except NoScriptError:
            added = redis.eval(_APPEND, len(keys), *keys, *args)
        return bool(added)
    except RedisError:
        log.warning("view stream unavailable (Redis); writing the view to the database", exc_info=True)
        _store([dict(view, at=utcnow(), entry=None)])
        return True


class ViewBuffer:
    """This process's queue of views on their way to the stream, emptied by one thread (made in the process that
    uses it: a fork never inherits a thread) as pipelines of _APPEND."""

    def __init__(self):
        self.queue, self.lock, self.wake = deque(), threading.RLock(), threading.Event()
        self.pid = None

    def add(self, redis, view):
        with self.lock:
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="view-buffer", daemon=True).start()
            self.queue.append((redis, view))
            full = len(self.queue) >= BUFFER_LIMIT
        if full:  # Redis far behind: this request writes the backlog itself rather than grow without bound
            self.drain()

    def _run(self):
        while True:
            self.wake.wait(BUFFER_SECONDS)
            self.drain()

    @staticmethod
    def _append_all(redis, batch):
        for attempt in (1, 2):
            pipe = redis.pipeline(transaction=False)
            for view in batch:
                keys, args = _script_args(view)
                pipe.evalsha(_APPEND_SHA, len(keys), *keys, *args)
            try:
                pipe.execute()
                return
            except NoScriptError:  # a Redis restarted since: load the script, then the same batch once more
                if attempt == 2:
                    raise
                redis.script_load(_APPEND)

    def drain(self):
        """Hand every queued view to Redis now (the database when Redis is away); how many were handed."""
        with self.lock:
            queued = [self.queue.popleft() for _ in range(len(self.queue))]
        by_client = {}
        for redis, view in queued:  # one client per process in production; tests make several
            by_client.setdefault(id(redis), (redis, []))[1].append(view)
        for redis, batch in by_client.values():
            try:
                self._append_all(redis, batch)
            except RedisError:
                log.warning("view stream unavailable (Redis); writing %s views to the database", len(batch),
                            exc_info=True)
                stored = [dict(v, at=dt.datetime.fromisoformat(v["at"]), entry=None) for v in batch]
                connected(functools.partial(_store, stored))
        return len(queued)


BUFFER = ViewBuffer()
atexit.register(BUFFER.drain)


def buffer_view(redis, report_id, ip, user_agent, openid, unit):
    """Log one view without a round trip of its own (see the module's text); the refresh dedup is the same."""
    BUFFER.add(redis, _view(report_id, ip, user_agent, openid, unit, "view"))


def _view(report_id, ip, user_agent, openid, unit, kind):
    return {"report": report_id, "at": utcnow().isoformat(), "ip": ip, "user_agent": user_agent, "openid": openid,
            "unit": unit, "kind": kind}


def _script_args(view):
    """KEYS and ARGV of _APPEND for `view`."""
    keys = [_client_key(view["report"], view["ip"], view["user_agent"], view["openid"]), STREAM]
    return keys, [VIEW_DEDUP_SECONDS, json.dumps(view, ensure_ascii=False), view["kind"]]


def flush_view_log():
    """Job: move the buffered views into ViewLog, batch by batch; return how many entries were handled."""
    redis = current().redis
    BUFFER.drain()  # this process's own queue first (a web process's thread hands over its own)
    _ensure_group(redis)
    consumer = "flusher"
    handled = 0
    for _ in range(MAX_BATCHES):
        entries = _reclaimed(redis, consumer) or _fresh(redis, consumer)
        if not entries:
            break
        _store([_parse(entry_id, fields) for entry_id, fields in entries])
        ids = [entry_id for entry_id, _fields in entries]
        pipe = redis.pipeline()
        pipe.xack(STREAM, GROUP, *ids)
        pipe.xdel(STREAM, *ids)
        pipe.execute()
        handled += len(ids)
    if handled:
        log.info("flushed %s buffered views", handled)
    return handled


def _ensure_group(redis):
    try:
        redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _reclaimed(redis, consumer):
    """Entries another flusher took and never acknowledged (it died mid-batch)."""
    result = redis.xautoclaim(STREAM, GROUP, consumer, min_idle_time=CLAIM_IDLE_MS, start_id="0-0", count=BATCH)
    return [(entry_id, fields) for entry_id, fields in result[1] if fields]


def _fresh(redis, consumer):
    answer = redis.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=BATCH)
    return answer[0][1] if answer else []


def _parse(entry_id, fields):
    view = json.loads(fields[b"v"])
    view["at"] = dt.datetime.fromisoformat(view["at"])
    view["entry"] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return view


def _store(views):
    """Views in one go; stated units name the view they follow."""
    plain = [v for v in views if v.get("kind", "view") == "view"]
    if plain:
        ViewLog.log_many(plain)
    for view in views:
        if view.get("kind") == "unit":
            ViewLog.name_unit(view, since=view["at"] - UNIT_WINDOW)
