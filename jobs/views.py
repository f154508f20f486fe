"""Verifiers' views, logged without making the verifier wait: appended to a Redis stream, flushed in batches.

The verify page calls `record_view`: one round trip runs a script that drops a refresh of the same client within
VIEW_DEDUP_SECONDS and appends the view to the stream `hegui:views`. `flush_view_log` (a periodic job, every few
seconds) reads the stream as the consumer group `flushers`, stores the views in one transaction, then acknowledges
and deletes the entries. Nothing is lost: an entry stays pending until its batch is stored, a flusher that died
mid-batch leaves its entries to be reclaimed after CLAIM_IDLE_MS, and each ViewLog row carries its entry id, so a
batch stored twice is stored once. Without Redis the view is written to the database at once, as before.
"""

import datetime as dt
import hashlib
import json
import logging

from redis.exceptions import NoScriptError, RedisError, ResponseError

from models.base import utcnow
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
    """Log one view (kind "view") or a stated unit (kind "unit"); True when something was logged.

    A refresh within VIEW_DEDUP_SECONDS by the same client adds nothing. Redis away: written to the database now."""
    view = {"report": report_id, "at": utcnow().isoformat(), "ip": ip, "user_agent": user_agent, "openid": openid,
            "unit": unit, "kind": kind}
    keys = [_client_key(report_id, ip, user_agent, openid), STREAM]
    args = [VIEW_DEDUP_SECONDS, json.dumps(view, ensure_ascii=False), kind]
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


def flush_view_log():
    """Job: move the buffered views into ViewLog, batch by batch; return how many entries were handled."""
    redis = current().redis
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
