"""The WeChat user as the webhook sees it on each message, with no database query or write per message.

- **The row, cached.** `wechat:user:<openid>` holds the WechatUser's columns (JSON, USER_TTL); the webhook reads it
  in its first Redis script and writes it back in its last when the message changed it (webhooks/wechat_turn.py); a
  miss — a new user, or a row unchanged for USER_TTL — reads (or creates) the row. Follow state and windows are
  written only by the webhook, so the cached copy is theirs as stored; the active enterprise, which staff approval
  also writes, is read again with the bindings whenever the bot uses it (bot/flows/base.py, `Ctx.bound`); the
  verifier's unit (the verify page's) is not the bot's to read.
- **Windows, deferred.** A message's time goes to the database at once when the stored one is WINDOW_SLACK or more
  behind (so the database is never further behind than that), else into the Redis hash `wechat:wrote` (user id →
  time, a later time only); `flush_windows` (periodic) stores those and removes each entry it stored unless a later
  time replaced it meanwhile. `last_message_at(user)` (the delivery jobs' window check) reads both, so the window is
  exact. Events that open the one-minute window, follows and unfollows are written at once.
- **Mentions, flagged.** `wechat:mentions:<openid>` says the user may have something to be told before the reply
  (jobs/delivery.py `pending_mentions`): set after an outbound row is committed for them (and by the sweep of stale
  rows); the webhook takes it (GETDEL) in its first script, asks the database only then (or when the cached row was
  missing), and sets it again while rows remain unsettled. A row committed after the webhook's read finds the flag
  taken and sets it again for the next message.
"""

import datetime as dt
import json
import logging

from models.tables.accounts import WechatUser
from runtime import LuaScript, current

log = logging.getLogger(__name__)

USER_TTL = 24 * 60 * 60
MENTIONS_TTL = 7 * 24 * 60 * 60  # longer than USER_TTL: a flag outlives the cached row it was set beside
WINDOW_SLACK = dt.timedelta(seconds=60)
WROTE = "wechat:wrote"
FLUSH_BATCH = 1000
COLUMNS = ("id", "openid", "subscribed", "active_enterprise", "verifier_unit", "last_message_at", "last_event_at",
           "created_at")
TIMES = ("last_message_at", "last_event_at", "created_at")

# KEYS[1] the hash; ARGV user id, time pairs: each entry removed unless it holds a later time now.
_FORGET_STORED = LuaScript("""
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
""")


def user_key(openid):
    return f"wechat:user:{openid}"


def mentions_key(openid):
    return f"wechat:mentions:{openid}"


# -- the cached row ------------------------------------------------------------------------------------------------


def encode_user(user):
    """The user's columns as the cache keeps them."""
    row = user.columns(COLUMNS)
    for name in TIMES:
        row[name] = row[name].isoformat() if row[name] is not None else None
    return json.dumps(row, ensure_ascii=False)


def decode_user(raw):
    """The WechatUser of a cached row (no query), or None for an empty or unreadable entry."""
    if not raw:
        return None
    try:
        row = json.loads(raw)
        for name in TIMES:
            row[name] = dt.datetime.fromisoformat(row[name]) if row[name] else None
        user = WechatUser.from_columns({name: row[name] for name in COLUMNS})
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable cached user row, reading the database", exc_info=True)
        return None
    return user


# -- windows -------------------------------------------------------------------------------------------------------


def last_message_at(user, redis=None):
    """The user's last message: the stored time, or the later one still waiting in Redis."""
    redis = redis or current().redis
    waiting = redis.hget(WROTE, str(user.id))
    later = dt.datetime.fromisoformat(waiting.decode()) if waiting else None
    return max(filter(None, (user.last_message_at, later)), default=None)


def flush_windows():
    """Job: store the message times waiting in Redis; return how many users were written."""
    redis = current().redis
    written = 0
    cursor = 0
    while True:
        cursor, batch = redis.hscan(WROTE, cursor, count=FLUSH_BATCH)
        if batch:
            times = {int(user_id): dt.datetime.fromisoformat(at.decode()) for user_id, at in batch.items()}
            WechatUser.note_messages(times)
            _FORGET_STORED(redis, [WROTE], [part for pair in batch.items() for part in pair])
            written += len(batch)
        if cursor == 0:
            break
    if written:
        log.info("stored the last message time of %s users", written)
    return written


# -- mentions ------------------------------------------------------------------------------------------------------


def flag_mentions(user_ids, redis=None):
    """Tell the webhook that these users may have something to be told (after the rows are committed)."""
    openids = WechatUser.openids_of(user_ids)
    if not openids:
        return
    pipe = (redis or current().redis).pipeline(transaction=False)
    for openid in openids.values():
        pipe.set(mentions_key(openid), "1", ex=MENTIONS_TTL)
    pipe.execute()
