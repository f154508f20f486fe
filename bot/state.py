"""Per-user conversation state in Redis: an idle-expiring live copy and a longer-lived "lapsed" copy to resume from."""

import json

IDLE_SECONDS = 30 * 60
LAPSED_SECONDS = 24 * 60 * 60


def user_lock(redis, openid):
    """A lock that makes one user's messages take turns: two arriving at once would otherwise both read the same
    state and the later save would undo the earlier. Waits up to 4 s (inside WeChat's 5 s), then LockError."""
    return redis.lock(f"bot:lock:{openid}", timeout=15, blocking_timeout=4)


def live_key(openid):
    return f"bot:conv:{openid}"


def lapsed_key(openid):
    return f"bot:conv-lapsed:{openid}"


def load(redis, openid):
    """The live state dict, or None when there is none (never started, finished, or idle too long)."""
    raw = redis.get(live_key(openid))
    return json.loads(raw) if raw else None


def save(redis, openid, state):
    """Store the live state (expires after IDLE_SECONDS) and its lapsed copy (kept LAPSED_SECONDS)."""
    raw = json.dumps(state, ensure_ascii=False)
    pipe = redis.pipeline()
    pipe.set(live_key(openid), raw, ex=IDLE_SECONDS)
    pipe.set(lapsed_key(openid), raw, ex=LAPSED_SECONDS)
    pipe.execute()


def clear(redis, openid):
    """Forget the conversation, live and lapsed."""
    redis.delete(live_key(openid), lapsed_key(openid))


def load_lapsed(redis, openid):
    """The copy of a conversation whose live state expired, or None."""
    raw = redis.get(lapsed_key(openid))
    return json.loads(raw) if raw else None


def mark_lapse_told(redis, openid, state):
    """Remember that the owner was told about the lapse, so it is said once; keep the copy for 「继续」."""
    state["lapse_told"] = True
    redis.set(lapsed_key(openid), json.dumps(state, ensure_ascii=False), keepttl=True)
