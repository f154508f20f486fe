import json
import logging
import time

from rq import SimpleWorker

from commands.worker import AppWorker
from runtime import (
    LRU,
    JSONFormatter,
    TraceFilter,
    current_trace_id,
    reset_trace_id,
    set_trace_id,
    trace_id_for,
)


def record_trace():
    """A job that returns the trace id it ran under."""
    return current_trace_id()


def test_a_retried_message_keeps_its_trace_id():
    assert trace_id_for("openid:123") == trace_id_for("openid:123")
    assert trace_id_for("openid:123") != trace_id_for("openid:124")


def test_jobs_carry_the_current_trace_id_and_the_worker_restores_it(rt):
    token = set_trace_id("abc123def456")
    try:
        job = rt.queue.enqueue(record_trace)
    finally:
        reset_trace_id(token)
    assert job.meta["trace_id"] == "abc123def456"
    assert current_trace_id() == "-"
    AppWorker(rt.queues, connection=rt.redis).work(burst=True)
    job.refresh()
    assert job.return_value() == "abc123def456"


def test_a_plain_worker_knows_no_trace_id(rt):
    job = rt.queue.enqueue(record_trace)
    SimpleWorker(rt.queues, connection=rt.redis).work(burst=True)
    job.refresh()
    assert job.return_value() == "-"


def test_json_log_lines_carry_the_trace_id():
    record = logging.LogRecord("hegui", logging.INFO, __file__, 1, "报告已生成 %s", ("HH-1",), None)
    token = set_trace_id("feedbeef0001")
    try:
        TraceFilter().filter(record)
    finally:
        reset_trace_id(token)
    line = json.loads(JSONFormatter().format(record))
    assert line["trace_id"] == "feedbeef0001"
    assert line["message"] == "报告已生成 HH-1"
    assert line["level"] == "INFO"


# -- the webhook's held Redis clients ---------------------------------------------------------------------------


def test_each_thread_holds_its_own_single_connection_client(rt):
    import threading

    from runtime import HeldClients

    held = HeldClients(rt.config["REDIS_URL"])
    mine = held.get()
    assert held.get() is mine and mine.connection is not None
    other = []
    thread = threading.Thread(target=lambda: other.append(held.get()))
    thread.start()
    thread.join()
    assert other[0] is not mine


def test_a_held_script_survives_a_script_flush_and_a_dropped_connection(rt):
    from runtime import LuaScript

    script = LuaScript("return {KEYS[1], ARGV[1]}")
    client = rt.turn_redis
    rt.redis.script_flush()
    assert script.on_held(client, ["k"], ["v"]) == [b"k", b"v"]  # NOSCRIPT: sent in full once
    client_id = client.client_id()
    rt.redis.client_kill_filter(_id=client_id)  # Redis drops the held connection
    assert script.on_held(client, ["k2"], ["v2"]) == [b"k2", b"v2"]  # reconnected through the client
    assert client.client_id() != client_id
    assert script.on_held(rt.redis, ["k3"], ["v3"]) == [b"k3", b"v3"]  # a pooled client takes the plain path


def test_a_script_sent_without_waiting_is_read_later_and_never_confused_with_the_next(rt):
    from runtime import LuaScript

    echo, count = LuaScript("return {KEYS[1], ARGV[1]}"), LuaScript("return redis.call('INCR', KEYS[1])")
    client = rt.turn_redis
    pending = count.send_on_held(client, ["sent"])
    assert rt.redis.get("sent") in (None, b"1")  # on its way: Redis may or may not have run it yet
    assert echo.on_held(client, ["k"], ["v"]) == [b"k", b"v"]  # the unread answer was read first, not taken for this
    assert pending.result() == 1 and pending.result() == 1  # read once, kept
    assert rt.redis.get("sent") == b"1"
    later = count.send_on_held(client, ["sent"])
    assert later.result() == 2 and echo.on_held(client, ["k2"], ["v2"]) == [b"k2", b"v2"]
    assert count.send_on_held(rt.redis, ["pooled"]).result() == 1  # a pooled client runs it at once


def test_a_script_sent_without_waiting_survives_a_script_flush_and_a_dropped_connection(rt):
    from runtime import LuaScript

    count = LuaScript("return redis.call('INCR', KEYS[1])")
    client = rt.turn_redis
    rt.redis.script_flush()
    assert count.send_on_held(client, ["n"]).result() == 1  # NOSCRIPT on reading: sent in full, run once
    assert rt.redis.get("n") == b"1"
    assert count.send_on_held(client, ["n"]).result() == 2
    client_id = client.client_id()
    dropped = count.send_on_held(client, ["m"])
    rt.redis.client_kill_filter(_id=client_id)  # the held connection dies after the script was written
    ran = dropped.result()  # its answer had arrived, or it is run again through the client (it may run twice)
    assert ran in (1, 2) and int(rt.redis.get("m")) == ran
    assert count.on_held(client, ["m"]) == ran + 1  # the next script reconnects
    assert client.client_id() != client_id


def test_an_unread_failure_is_logged_when_the_connection_is_next_used(rt, caplog):
    from runtime import LuaScript

    failing, echo = LuaScript("return redis.error_reply('broken')"), LuaScript("return ARGV[1]")
    client = rt.turn_redis
    failing.send_on_held(client)
    with caplog.at_level(logging.ERROR, logger="runtime"):
        assert echo.on_held(client, [], ["next"]) == b"next"
    assert "a script written before this command failed" in caplog.text


def test_the_lru_keeps_the_most_recently_used_and_forgets_the_old(monkeypatch):
    cache = LRU(2, max_age=10)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" used last: "b" goes first
    cache.put("c", 3)
    assert [cache.get(k) for k in "abc"] == [1, None, 3]
    cache.pop("a")
    assert cache.get("a") is None and list(cache.entries) == ["c"]
    later = time.monotonic() + 11
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert cache.get("c") is None and not cache.entries
    cache.put("d", 4)
    cache.clear()
    assert LRU(1).get("d") is None and not cache.entries
