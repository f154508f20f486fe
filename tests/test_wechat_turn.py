"""The webhook's fast path (webhooks/wechat_turn.py, jobs/interactions.py): two Redis round trips and no database
statement per message from a known user, deferred message times that are flushed and never lost, the mentions
flag, the user lock, and what an error releases."""

import datetime as dt
import json
import threading
import time

import pytest
from peewee import Database, OperationalError
from redis.connection import AbstractConnection
from test_wechat_webhook import post_plain, reply_of, text_xml

from bot import engine, state, texts
from jobs import delivery, interactions
from models.base import utcnow
from models.tables.accounts import Binding, WechatUser
from models.tables.cases import PendingNotice
from models.tables.outbound import DEFERRED, SENT, OutboundMessage
from webhooks import wechat_turn

NOW = int(time.time()) - 300  # messages written a while ago: later ones stay in the past, where they are not clamped


class Counts:
    """Redis commands sent and SQL statements run inside the block."""

    def __init__(self, monkeypatch):
        self.redis, self.sql = 0, []
        send, execute = AbstractConnection.send_packed_command, Database.execute_sql

        def counting_send(conn, command, check_health=True):
            self.redis += 1
            return send(conn, command, check_health)

        def counting_sql(db, sql, params=None, *args, **kwargs):
            self.sql.append(sql)
            return execute(db, sql, params, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counting_send)
        monkeypatch.setattr(Database, "execute_sql", counting_sql)


def say(client, app, text, msg_id, openid="o_fast", create_time=NOW):
    return post_plain(client, app, text_xml(text, msg_id=str(msg_id), openid=openid, create_time=create_time))


def user(openid="o_fast"):
    return WechatUser.get(WechatUser.openid == openid)


# -- round trips -------------------------------------------------------------------------------------------------


def test_a_known_users_message_takes_two_redis_round_trips_and_no_sql(client, app, monkeypatch):
    assert reply_of(say(client, app, "帮助", 1))["Content"]  # a new user: read, created, cached
    counts = Counts(monkeypatch)
    reply = reply_of(say(client, app, "帮助", 2, create_time=NOW + 1))
    assert reply["Content"].startswith("可回复以下关键词办理")
    assert counts.redis == 2
    assert counts.sql == []


def test_a_new_user_is_read_once_and_cached(client, app, rt):
    reply_of(say(client, app, "你好", 1))
    cached = interactions.decode_user(rt.redis.get(interactions.user_key("o_fast")))
    stored = user()
    assert (cached.id, cached.openid, cached.subscribed, cached.last_message_at) == \
        (stored.id, stored.openid, stored.subscribed, stored.last_message_at)
    assert 86_000 < rt.redis.ttl(interactions.user_key("o_fast")) <= interactions.USER_TTL


def test_the_cached_row_is_written_back_only_when_the_message_changed_it(client, app, rt):
    reply_of(say(client, app, "你好", 1))
    rt.redis.expire(interactions.user_key("o_fast"), 100)
    reply_of(say(client, app, "你好", 2, create_time=NOW + 1))  # its time deferred: the row as it was
    assert rt.redis.ttl(interactions.user_key("o_fast")) <= 100
    later = NOW + int(interactions.WINDOW_SLACK.total_seconds()) + 5
    reply_of(say(client, app, "你好", 3, create_time=later))  # stored at once: the cached row follows
    assert rt.redis.ttl(interactions.user_key("o_fast")) > 86_000
    cached = interactions.decode_user(rt.redis.get(interactions.user_key("o_fast")))
    assert cached.last_message_at == user().last_message_at


def test_an_unreadable_cached_row_is_read_again(client, app, rt):
    reply_of(say(client, app, "你好", 1))
    rt.redis.set(interactions.user_key("o_fast"), "{not json")
    assert reply_of(say(client, app, "你好", 2, create_time=NOW + 1))["Content"]
    assert WechatUser.select().count() == 1


# -- message times -------------------------------------------------------------------------------------------------


def test_a_message_soon_after_the_stored_one_is_kept_in_redis_then_flushed(client, app, rt):
    reply_of(say(client, app, "你好", 1))
    first = user().last_message_at
    reply_of(say(client, app, "你好", 2, create_time=NOW + 20))
    assert user().last_message_at == first  # no database write for this one…
    exact = first + dt.timedelta(seconds=20)
    assert interactions.last_message_at(user(), rt.redis) == exact  # …but the window check sees it
    assert interactions.flush_windows() == 1
    assert user().last_message_at == exact
    assert rt.redis.hlen(interactions.WROTE) == 0
    assert interactions.flush_windows() == 0


def test_a_message_a_slack_after_the_stored_one_is_written_at_once(client, app, rt):
    reply_of(say(client, app, "你好", 1))
    first = user().last_message_at
    later = NOW + int(interactions.WINDOW_SLACK.total_seconds())
    reply_of(say(client, app, "你好", 2, create_time=later))
    assert user().last_message_at == first + interactions.WINDOW_SLACK
    assert rt.redis.hlen(interactions.WROTE) == 0


def test_an_older_message_never_moves_the_time_back(client, app, rt):
    reply_of(say(client, app, "你好", 1, create_time=NOW))
    reply_of(say(client, app, "你好", 2, create_time=NOW + 30))
    reply_of(say(client, app, "你好", 3, create_time=NOW + 10))  # a late retry of an older message
    interactions.flush_windows()
    assert user().last_message_at == dt.datetime.fromtimestamp(NOW + 30, dt.UTC).replace(tzinfo=None)


def test_a_later_time_written_during_a_flush_is_not_lost(app, rt, monkeypatch):
    someone = WechatUser.create(openid="o_busy", last_message_at=utcnow() - dt.timedelta(minutes=5))
    first, later = utcnow() - dt.timedelta(seconds=30), utcnow()
    rt.redis.hset(interactions.WROTE, str(someone.id), first.isoformat())
    store = WechatUser.note_messages

    def store_while_a_message_arrives(times):
        store(times)
        rt.redis.hset(interactions.WROTE, str(someone.id), later.isoformat())  # the webhook, meanwhile

    monkeypatch.setattr(WechatUser, "note_messages", store_while_a_message_arrives)
    interactions.flush_windows()
    assert WechatUser.get_by_id(someone.id).last_message_at == first
    assert rt.redis.hget(interactions.WROTE, str(someone.id)).decode() == later.isoformat()
    monkeypatch.setattr(WechatUser, "note_messages", store)
    interactions.flush_windows()
    assert WechatUser.get_by_id(someone.id).last_message_at == later


def test_the_delivery_window_counts_a_deferred_message(app, rt):
    someone = WechatUser.create(openid="o_window", last_message_at=utcnow() - dt.timedelta(hours=49))
    assert not delivery.window_allows(someone)
    rt.redis.hset(interactions.WROTE, str(someone.id), (utcnow() - dt.timedelta(seconds=5)).isoformat())
    assert delivery.window_allows(someone)


def test_the_scheduler_flushes_the_message_times():
    from commands.scheduler import PERIODIC

    assert ("flush-user-windows", 30, "jobs.interactions.flush_windows") in PERIODIC


# -- mentions ----------------------------------------------------------------------------------------------------


def test_mentions_are_looked_for_only_when_flagged(client, app, rt, monkeypatch):
    reply_of(say(client, app, "你好", 1))
    someone = user()
    assert rt.redis.get(interactions.mentions_key("o_fast")) is None  # nothing pending: no flag after the first
    row_id = delivery.queue_text(someone.id, "报告已生成", "t-1")  # a delivery on its way
    assert rt.redis.get(interactions.mentions_key("o_fast")) == b"1"
    reply_of(say(client, app, "你好", 2, create_time=NOW + 1))
    assert rt.redis.get(interactions.mentions_key("o_fast")) == b"1"  # still pending: asked again next time
    assert OutboundMessage.claim(row_id)  # the delivery job: sending, then deferred (outside the window)
    OutboundMessage.finish(row_id, DEFERRED, "outside the window")
    told = reply_of(say(client, app, "你好", 3, create_time=NOW + 2))["Content"]
    assert told.startswith(texts.PENDING_HEAD) and "报告已生成" in told
    assert rt.redis.get(interactions.mentions_key("o_fast")) is None
    counts = Counts(monkeypatch)
    again = reply_of(say(client, app, "帮助", 4, create_time=NOW + 3))["Content"]
    assert "报告已生成" not in again and counts.sql == []


def test_a_sent_delivery_clears_the_flag_without_a_mention(client, app, rt):
    reply_of(say(client, app, "你好", 1))
    row_id = delivery.queue_text(user().id, "报告已生成", "t-2")
    assert OutboundMessage.claim(row_id)
    OutboundMessage.finish(row_id, SENT, "custom", "custom")
    assert "报告已生成" not in reply_of(say(client, app, "你好", 2, create_time=NOW + 1))["Content"]
    assert rt.redis.get(interactions.mentions_key("o_fast")) is None


def test_a_held_notice_is_told_after_a_flushed_cache(client, app, rt):
    reply_of(say(client, app, "你好", 1))
    PendingNotice.hold(user().id, "异议已办结")  # written without a flag (as by an older worker)
    rt.redis.delete(interactions.user_key("o_fast"))  # the cached row expired
    assert "异议已办结" in reply_of(say(client, app, "你好", 2, create_time=NOW + 1))["Content"]


def test_an_event_without_a_reply_keeps_the_flag(client, app, rt):
    from test_wechat_webhook import message_xml

    reply_of(say(client, app, "你好", 1))
    delivery.queue_text(user().id, "报告已生成", "t-3")
    view = message_xml("o_fast", "event", create_time=NOW + 5, Event="VIEW", EventKey="http://hegui.test/guide")
    assert post_plain(client, app, view).data == b"success"
    assert rt.redis.get(interactions.mentions_key("o_fast")) == b"1"


def test_the_sweep_flags_stale_rows(app, rt):
    someone = WechatUser.create(openid="o_stale")
    row = OutboundMessage.create_once(someone.id, "text", {"text": "久等"}, "stale-1")
    OutboundMessage.update(created_at=utcnow() - dt.timedelta(hours=1)).where(OutboundMessage.id == row.id).execute()
    delivery.sweep_outbound()
    assert rt.redis.get(interactions.mentions_key("o_stale")) == b"1"


# -- the lock, errors --------------------------------------------------------------------------------------------


def test_a_message_waits_for_the_users_lock(client, app, rt):
    held = rt.redis.lock(state.lock_key("o_fast"), timeout=15, thread_local=False)  # released by another thread
    assert held.acquire()
    threading.Timer(0.3, held.release).start()
    assert reply_of(say(client, app, "帮助", 1))["Content"]
    assert rt.redis.get(state.lock_key("o_fast")) is None


def test_a_lock_held_too_long_is_a_busy_answer_and_the_retry_works(client, app, rt, monkeypatch):
    monkeypatch.setattr(state, "LOCK_WAIT", 0.3)
    held = state.user_lock(rt.redis, "o_fast")
    assert held.acquire()
    try:
        assert reply_of(say(client, app, "帮助", 1))["Content"] == texts.SERVICE_BUSY
    finally:
        held.release()
    assert rt.redis.get(wechat_turn.inflight_key("o_fast", "1")) is None
    assert reply_of(say(client, app, "帮助", 1))["Content"] != texts.SERVICE_BUSY  # WeChat's retry


def test_a_database_error_releases_the_lock_and_keeps_the_flag(client, app, rt, monkeypatch):
    reply_of(say(client, app, "你好", 1))
    delivery.queue_text(user().id, "报告已生成", "t-4")

    def failing(*args, **kwargs):
        raise OperationalError("database is away")

    monkeypatch.setattr(engine, "handle", failing)
    assert reply_of(say(client, app, "你好", 2, create_time=NOW + 1))["Content"] == texts.SERVICE_BUSY
    assert rt.redis.get(state.lock_key("o_fast")) is None
    assert rt.redis.get(wechat_turn.inflight_key("o_fast", "2")) is None
    assert rt.redis.get(interactions.mentions_key("o_fast")) == b"1"


def test_a_bug_releases_everything_and_is_not_remembered(client, app, rt, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(engine, "handle", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert say(client, app, "你好", 1).status_code == 500
    assert rt.redis.get(state.lock_key("o_fast")) is None
    assert rt.redis.get(wechat_turn.inflight_key("o_fast", "1")) is None
    assert not rt.redis.keys(wechat_turn.SEEN_PREFIX + "*")


def test_a_replay_with_a_broken_body_gets_the_first_answer(client, app):
    from test_wechat_webhook import query

    args = query(app)
    first = client.post("/wechat", query_string=args, data=text_xml("帮助", openid="o_fast").encode())
    again = client.post("/wechat", query_string=args, data=b"<xml><broken")
    assert again.status_code == 200 and again.data == first.data


def test_the_active_enterprise_is_read_again_with_the_bindings(app, bot_enterprise):
    someone = WechatUser.create(openid="o_active")
    enterprise = bot_enterprise()
    Binding.bind(someone, enterprise)
    WechatUser.update(active_enterprise=enterprise.id).where(WechatUser.id == someone.id).execute()  # staff did
    stale = interactions.decode_user(interactions.encode_user(someone))  # the cached row, from before
    assert stale.active_enterprise_id is None
    assert Binding.enterprises_and_active(stale) == ([enterprise], enterprise.id)
    assert Binding.enterprises_and_active(WechatUser.create(openid="o_none")) == ([], None)


# -- the conversation ----------------------------------------------------------------------------------------------


def test_a_conversation_applies_its_writes_in_order_in_one_round_trip(app, rt, monkeypatch):
    conversation = state.open(rt.redis, "o_conv")
    assert conversation.load() is None and conversation.load_lapsed() is None
    conversation.save({"flow": "bind", "step": "a"})
    conversation.clear()
    assert conversation.load_lapsed() is None
    conversation.save({"flow": "apply", "step": "b"})
    rt.redis.script_load(state._COMMIT.source)  # one round trip once Redis knows the script (a flush costs one more)
    counts = Counts(monkeypatch)
    state.commit(rt.redis, conversation)
    assert counts.redis == 1
    assert state.load(rt.redis, "o_conv")["flow"] == "apply"
    assert 1790 < rt.redis.ttl(state.live_key("o_conv")) <= state.IDLE_SECONDS
    later = state.open(rt.redis, "o_conv")
    rt.redis.delete(state.live_key("o_conv"))
    later.mark_lapse_told(later.load_lapsed())
    state.commit(rt.redis, later)
    assert json.loads(rt.redis.get(state.lapsed_key("o_conv")))["lapse_told"] is True
    assert 86_000 < rt.redis.ttl(state.lapsed_key("o_conv")) <= state.LAPSED_SECONDS


@pytest.mark.parametrize("content", ["帮助", "你好", "报告有效期多久？"])
def test_the_fast_path_answers_as_the_bot_does_on_its_own(client, app, bot_chat, content):
    via_webhook = reply_of(say(client, app, content, 1))["Content"]
    assert bot_chat("o_direct").say(content) == via_webhook


def test_what_the_keys_hold_reads_back_and_so_does_the_json_kept_before():
    from webhooks.wechat import Answer

    answer = Answer("<xml>\n<Encrypt>x</Encrypt></xml>", "application/xml")
    assert wechat_turn.recalled(wechat_turn.remembered(answer)) == (answer.body, answer.mimetype)
    assert wechat_turn.recalled(json.dumps({"body": "success", "mimetype": "text/plain"})) == ("success", "text/plain")
    for text in ("您好\n第二行", "", None, "{not json"):
        assert wechat_turn.read_reply(wechat_turn.stored_reply(text).encode()) == text
    assert wechat_turn.read_reply(json.dumps({"text": "旧"}, ensure_ascii=False).encode()) == "旧"


def test_the_waits_start_at_two_milliseconds_double_to_fifty_and_stop_at_the_deadline(monkeypatch):
    from webhooks import wechat_turn

    clock, slept = [100.0], []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        clock[0] += seconds

    monkeypatch.setattr(wechat_turn.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(wechat_turn.time, "sleep", sleep)
    yielded = list(wechat_turn.pauses(0.5))
    assert yielded == pytest.approx(slept)  # each sleep yielded after it
    assert slept[:6] == [0.002, 0.004, 0.008, 0.016, 0.032, 0.05] and set(slept[6:-1]) == {0.05}
    assert round(sum(slept), 6) == 0.5  # the last sleep is cut to the deadline, none after it
    assert list(wechat_turn.pauses(0)) == []
