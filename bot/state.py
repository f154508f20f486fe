"""Per-user conversation state in Redis: an idle-expiring live copy and a longer-lived "lapsed" copy to resume from.

One message reads the state once and writes it once: a `Conversation` holds what was read (both copies) and the
writes the bot asked for, in order; `commit` applies them in one round trip. The webhook reads the copies inside its
first Redis script (with the user lock) and applies the writes inside its last (webhooks/wechat_turn.py);
`engine.handle` called on its own takes the lock, `open`s and `commit`s itself.
"""

import json

from runtime import LuaScript

IDLE_SECONDS = 30 * 60
LAPSED_SECONDS = 24 * 60 * 60
LOCK_TIMEOUT = 15  # seconds the user lock lives if its holder dies
LOCK_WAIT = 4  # seconds a message waits for the lock (inside WeChat's 5 s), then LockError
SAVE, CLEAR, TOLD = "save", "clear", "told"  # the writes a Conversation records


def user_lock(redis, openid):
    """A lock that makes one user's messages take turns: two arriving at once would otherwise both read the same
    state and the later save would undo the earlier. Waits up to 4 s (inside WeChat's 5 s), then LockError."""
    return redis.lock(lock_key(openid), timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)


def lock_key(openid):
    return f"bot:lock:{openid}"


def live_key(openid):
    return f"bot:conv:{openid}"


def lapsed_key(openid):
    return f"bot:conv-lapsed:{openid}"


def _decoded(raw):
    if raw is None or raw == b"" or raw == "":
        return None
    return json.loads(raw)


class Conversation:
    """One message's view of a user's conversation: the copies as read, then the writes in the order asked."""

    def __init__(self, openid, live_raw=None, lapsed_raw=None):
        self.openid = openid
        self._live, self._lapsed = live_raw, lapsed_raw
        self.writes = []  # [(SAVE|CLEAR|TOLD, json text or "")]

    def load(self):
        """The live state dict, or None when there is none (never started, finished, or idle too long)."""
        return _decoded(self._live)

    def load_lapsed(self):
        """The copy of a conversation whose live state expired (or was just saved), or None."""
        return _decoded(self._lapsed)

    def save(self, state):
        """Keep the live state (expires after IDLE_SECONDS) and its lapsed copy (kept LAPSED_SECONDS)."""
        raw = json.dumps(state, ensure_ascii=False)
        self._live = self._lapsed = raw
        self.writes.append((SAVE, raw))

    def clear(self):
        """Forget the conversation, live and lapsed."""
        self._live = self._lapsed = None
        self.writes.append((CLEAR, ""))

    def mark_lapse_told(self, state):
        """Remember that the owner was told about the lapse, so it is said once; keep the copy for 「继续」."""
        state["lapse_told"] = True
        raw = json.dumps(state, ensure_ascii=False)
        self._lapsed = raw
        self.writes.append((TOLD, raw))

    def write_args(self):
        """The writes as a flat list of script arguments: op, text, op, text, …"""
        return [part for write in self.writes for part in write]


# The writes of a Conversation, in order, as a Lua fragment: KEYS[live], KEYS[lapsed] and ARGV from `first` on
# (op, text pairs). Shared with the webhook's closing script.
APPLY_WRITES_LUA = f"""
local function apply_writes(live, lapsed, first)
  for i = first, #ARGV, 2 do
    local op, raw = ARGV[i], ARGV[i + 1]
    if op == 'save' then
      redis.call('SET', live, raw, 'EX', {IDLE_SECONDS})
      redis.call('SET', lapsed, raw, 'EX', {LAPSED_SECONDS})
    elseif op == 'clear' then
      redis.call('DEL', live, lapsed)
    elseif op == 'told' then
      redis.call('SET', lapsed, raw, 'KEEPTTL')
    end
  end
end
"""

_COMMIT = LuaScript(APPLY_WRITES_LUA + "apply_writes(KEYS[1], KEYS[2], 1)\nreturn 1\n")


def open(redis, openid):  # noqa: A001 (the module's verb: state.open)
    """The user's Conversation as stored now (one round trip; the caller holds the user lock)."""
    live, lapsed = redis.mget(live_key(openid), lapsed_key(openid))
    return Conversation(openid, live, lapsed)


def commit(redis, conversation):
    """Apply the conversation's writes in one round trip (none when there are none)."""
    if conversation.writes:
        _COMMIT(redis, [live_key(conversation.openid), lapsed_key(conversation.openid)], conversation.write_args())


# -- single operations (tests, tools) ------------------------------------------------------------------------------


def load(redis, openid):
    """The live state dict, or None."""
    return _decoded(redis.get(live_key(openid)))


def load_lapsed(redis, openid):
    """The copy of a conversation whose live state expired, or None."""
    return _decoded(redis.get(lapsed_key(openid)))


def clear(redis, openid):
    """Forget the conversation, live and lapsed."""
    redis.delete(live_key(openid), lapsed_key(openid))
