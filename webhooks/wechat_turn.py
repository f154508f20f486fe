"""One message's turn at /wechat in two Redis round trips: a script that claims and loads, one that stores and
releases (docs/WECHAT.md §1.4).

`begin` claims the signed request (its fingerprint, for the replay window), returns the cached reply of a message
already answered, claims the message (in flight), takes the user lock and reads the conversation (bot/state.py), the
cached user row and the mentions flag (jobs/interactions.py) — all in one script, which stops at the first claim that
fails. `finish` applies the conversation's writes, stores the reply (for a repeat of the MsgId) and the response
(for a repeat of the signed request), the user row, a deferred message time and the mentions flag, then releases
the lock — written before the response is handed to the server, its answer read by `settled` once the response is
sent. `abort` releases what `begin` took when the message could not be answered, so WeChat's retry tries again.
"""

import json
import random
import time

from redis.exceptions import LockError

from bot import state
from jobs import interactions
from runtime import LuaScript

SEEN_PREFIX = "wechat:seen:"  # a signed request (timestamp, nonce, signature) already answered inside the window
INFLIGHT_TTL = 30  # seconds a first delivery may take before a retry may handle the message itself
REPLY_TTL = 600
# A user's turn holds the lock for a few milliseconds: the waits poll at 2 ms, doubling to 50 ms, so a sync worker
# is not parked for a tenth of a second behind a turn that ended long before (bench/webhook_bench.py); the same for
# a retry waiting for the first delivery's reply or response.
LOCK_POLL_FIRST, LOCK_POLL_LAST = 0.002, 0.05

# KEYS: seen, reply, inflight, lock, live, lapsed, user row, mentions flag.
# ARGV: mode ("claim", or "lock" when only the lock is still to take), seen window s (0: the signed request is not
# kept — its signature covers its body, so the MsgId's reply answers a replay), inflight s, token, lock ms.
# A script runs alone, so the one MGET may read the conversation and the row before the lock is taken (five calls
# where eight were: each call is most of a script's cost in Redis).
_BEGIN = LuaScript("""
local got
if ARGV[1] == 'claim' then
  if ARGV[2] ~= '0' and not redis.call('SET', KEYS[1], '', 'NX', 'EX', ARGV[2]) then
    return {'seen', redis.call('GET', KEYS[1]) or ''}
  end
  got = redis.call('MGET', KEYS[2], KEYS[5], KEYS[6], KEYS[7])
  if got[1] then return {'reply', got[1]} end
  if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[3]) then return {'inflight'} end
end
if not redis.call('SET', KEYS[4], ARGV[4], 'NX', 'PX', ARGV[5]) then return {'locked'} end
got = got or redis.call('MGET', KEYS[2], KEYS[5], KEYS[6], KEYS[7])
return {'go', got[2] or '', got[3] or '', got[4] or '', redis.call('GETDEL', KEYS[8]) or ''}
""")

# KEYS: lock, live, lapsed, reply, seen, user row, deferred message times, mentions flag.
# ARGV: 1 token, 2 reply, 3 reply s, 4 response, 5 seen window s (0: not kept), 6 user row (or "": unchanged),
# 7 row s, 8 user id, 9 message time (or ""), 10 "1" to set the mentions flag, 11 flag s, 12… the conversation's
# writes.
_FINISH = LuaScript(state.APPLY_WRITES_LUA + """
local owned = redis.call('GET', KEYS[1]) == ARGV[1]
apply_writes(KEYS[2], KEYS[3], 12)
redis.call('SET', KEYS[4], ARGV[2], 'EX', ARGV[3])
if ARGV[5] ~= '0' then redis.call('SET', KEYS[5], ARGV[4], 'EX', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('SET', KEYS[6], ARGV[6], 'EX', ARGV[7]) end
if ARGV[9] ~= '' then
  local old = redis.call('HGET', KEYS[7], ARGV[8])
  if (not old) or old < ARGV[9] then redis.call('HSET', KEYS[7], ARGV[8], ARGV[9]) end
end
if ARGV[10] ~= '' then redis.call('SET', KEYS[8], '1', 'EX', ARGV[11]) end
if owned then redis.call('DEL', KEYS[1]) end
return owned and 1 or 0
""")

# KEYS: lock, inflight, mentions flag. ARGV: token, "1" to put the taken flag back, flag s.
_ABORT = LuaScript("""
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('DEL', KEYS[2])
if ARGV[2] ~= '' then redis.call('SET', KEYS[3], '1', 'EX', ARGV[3]) end
return 1
""")


def pauses(seconds):
    """Sleep a little more each time — LOCK_POLL_FIRST doubling to LOCK_POLL_LAST — for as long as `seconds` allow,
    yielding each sleep's length: how the webhook waits for another delivery's turn, its reply or its response."""
    deadline, pause = time.monotonic() + seconds, LOCK_POLL_FIRST
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(slept := min(pause, left))
        pause = min(2 * pause, LOCK_POLL_LAST)
        yield slept


def reply_key(openid, msg_key):
    return f"wechat:reply:{openid}:{msg_key}"


def inflight_key(openid, msg_key):
    return f"wechat:inflight:{openid}:{msg_key}"


def seen_key(fingerprint):
    return SEEN_PREFIX + fingerprint


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


class Turn:
    """The Redis side of one message: `begin`, then `finish` or `abort`."""

    def __init__(self, redis, fingerprint, incoming, window):
        """`fingerprint` None: the request's signature covers its body (safe and compatible mode), so a replay of
        it is the same message and its MsgId's reply answers it — kept for at least the replay `window` — and the
        signed request itself is not kept (two writes and a key fewer per message)."""
        self.redis, self.fingerprint, self.incoming, self.window = redis, fingerprint, incoming, window
        openid = incoming.openid
        self.token = f"{random.getrandbits(128):032x}"  # the lock's owner: unique, not secret (no syscall)
        self.keys = {"seen": seen_key(fingerprint or "-"), "reply": reply_key(openid, incoming.msg_key),
                     "inflight": inflight_key(openid, incoming.msg_key), "lock": state.lock_key(openid),
                     "live": state.live_key(openid), "lapsed": state.lapsed_key(openid),
                     "user": interactions.user_key(openid), "mentions": interactions.mentions_key(openid)}
        self.outcome, self.stored, self.conversation, self.cached_user, self.flagged = None, None, None, None, False
        self.cached_columns, self.finishing = None, None

    def begin(self):
        """One of "seen" (self.stored: the first response, "" while it is being made), "reply" (self.stored: the
        cached reply text), "inflight" (a first delivery is computing it) or "go" (the lock is held; the conversation,
        cached row and flag are loaded). LockError when the user's lock stays taken for LOCK_WAIT s."""
        k = self.keys
        keys = [k["seen"], k["reply"], k["inflight"], k["lock"], k["live"], k["lapsed"], k["user"], k["mentions"]]
        args = [self.seen_window, INFLIGHT_TTL, self.token, state.LOCK_TIMEOUT * 1000]
        answer = _BEGIN.on_held(self.redis, keys, ["claim", *args])
        waits = pauses(state.LOCK_WAIT)
        while _text(answer[0]) == "locked":  # another message of this user is being answered: wait for its end
            if next(waits, None) is None:
                self.abort()  # the message is claimed but not answered: WeChat's retry may try again
                raise LockError("the user's lock stayed taken")
            answer = _BEGIN.on_held(self.redis, keys, ["lock", *args])
        self.outcome = _text(answer[0])
        if self.outcome == "seen":
            self.stored = _text(answer[1])
        elif self.outcome == "reply":
            self.stored = read_reply(answer[1])
        elif self.outcome == "go":
            live, lapsed, row, flag = answer[1:]
            self.conversation = state.Conversation(self.incoming.openid, live or None, lapsed or None)
            self.cached_user = interactions.decode_user(_text(row))
            self.cached_columns = self.cached_user.columns() if self.cached_user else None
            self.flagged = bool(flag)
        return self.outcome

    def finish(self, text, response, user, deferred_at=None, flag=False):
        """Write the script that stores what the message changed and releases the lock, without waiting for its
        answer: the webhook sends its response meanwhile and reads the answer with `settled()` once the response
        is out (a second round trip the worker does not wait on: bench/webhook_bench.py). The script is on the
        connection before the response leaves, so the user's next message finds it done, or the lock taken."""
        k = self.keys
        keys = [k["lock"], k["live"], k["lapsed"], k["reply"], k["seen"], k["user"], interactions.WROTE,
                k["mentions"]]
        args = [self.token, stored_reply(text), max(REPLY_TTL, self.window),
                remembered(response) if self.fingerprint else "", self.seen_window,
                self._row(user), interactions.USER_TTL, str(user.id),
                deferred_at.isoformat() if deferred_at else "", "1" if flag else "", interactions.MENTIONS_TTL,
                *self.conversation.write_args()]
        self.finishing = _FINISH.send_on_held(self.redis, keys, args)

    def settled(self):
        """Read what `finish` wrote: False when the lock was lost meanwhile (held past its timeout), in which case
        the writes were still made. RedisError when the script could not be run, even again."""
        return bool(self.finishing.result())

    @property
    def seen_window(self):
        """Seconds the signed request is kept, 0 when it is not (see __init__)."""
        return self.window if self.fingerprint else 0

    def _row(self, user):
        """The user row to cache, or "" when it is the cached one unchanged (kept as it is until its TTL: a later
        message then reads the database once)."""
        if user is self.cached_user and user.columns() == self.cached_columns:
            return ""
        return interactions.encode_user(user)

    def abort(self):
        """Release the lock and the in-flight claim; put a taken mentions flag back."""
        k = self.keys
        _ABORT.on_held(self.redis, [k["lock"], k["inflight"], k["mentions"]],
                       [self.token, "1" if self.flagged else "", interactions.MENTIONS_TTL])


# What the keys hold is plain text, not JSON: encoding a reply and a response as JSON was 3 % of a message.


def remembered(answer):
    """An answer (webhooks.wechat.Answer) as kept for a repeat of the same signed request: its media type, a
    newline, its body ("" while the first request is being answered)."""
    return f"{answer.mimetype}\n{answer.body}"


def recalled(stored):
    """(body, media type) of what `remembered` kept."""
    if stored.startswith("{"):  # kept as JSON before this format (within the replay window of a deploy)
        first = json.loads(stored)
        return first["body"], first["mimetype"]
    mimetype, _, body = stored.partition("\n")
    return body, mimetype


def stored_reply(text):
    """A message's reply text as kept for a repeat of its MsgId: "1" and the text, or "0" for no reply."""
    return "0" if text is None else "1" + text


def read_reply(raw):
    """The reply text (or None) of what `stored_reply` kept."""
    raw = _text(raw)
    if raw.startswith("{"):  # kept as JSON before this format
        return json.loads(raw)["text"]
    return raw[1:] if raw.startswith("1") else None
