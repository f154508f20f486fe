import json
import logging

from rq import SimpleWorker

from commands.worker import AppWorker
from runtime import (
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
