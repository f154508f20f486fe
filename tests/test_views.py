"""jobs.views: verifiers' views buffered in a Redis stream and flushed into ViewLog once each, nothing lost."""

import time

import redis as redis_lib

from jobs import views
from models.tables.views import ViewLog


def _entries(rt):
    return rt.redis.xlen(views.STREAM)


def test_a_view_is_buffered_then_flushed_once(app, rt, make_signed_report):
    report = make_signed_report()
    assert views.record_view(rt.redis, report.id, "10.0.0.1", "UA-1", None, None)
    assert not views.record_view(rt.redis, report.id, "10.0.0.1", "UA-1", None, None)  # a refresh: nothing more
    assert views.record_view(rt.redis, report.id, "10.0.0.2", "UA-1", "o-bank", "中国银行黑河分行")
    assert ViewLog.select().count() == 0 and _entries(rt) == 2
    assert views.flush_view_log() == 2
    rows = sorted((v.ip, v.openid, v.unit) for v in ViewLog.select())
    assert rows == [("10.0.0.1", None, None), ("10.0.0.2", "o-bank", "中国银行黑河分行")]
    assert _entries(rt) == 0 and views.flush_view_log() == 0


def test_a_batch_stored_twice_is_stored_once(app, rt, make_signed_report):
    """A flusher that stored its batch and died before acknowledging it: the next one takes the batch again."""
    report = make_signed_report()
    views.record_view(rt.redis, report.id, "10.0.0.1", "UA-1", None, None)
    views._ensure_group(rt.redis)
    [(entry_id, fields)] = rt.redis.xreadgroup(views.GROUP, "dead-flusher", {views.STREAM: ">"})[0][1]
    views._store([views._parse(entry_id, fields)])  # stored, never acknowledged
    rt.redis.xclaim(views.STREAM, views.GROUP, "dead-flusher", 0, [entry_id], idle=views.CLAIM_IDLE_MS + 1)
    assert views.flush_view_log() == 1  # reclaimed and handled again
    assert ViewLog.select().count() == 1 and _entries(rt) == 0


def test_a_stated_unit_names_the_view_it_follows(app, rt, make_signed_report):
    report = make_signed_report()
    views.record_view(rt.redis, report.id, "10.0.0.1", "UA-1", None, None)
    views.record_view(rt.redis, report.id, "10.0.0.1", "UA-1", None, "黑河市公共资源交易中心", kind="unit")
    views.flush_view_log()
    assert [(v.ip, v.unit) for v in ViewLog.select()] == [("10.0.0.1", "黑河市公共资源交易中心")]
    views.record_view(rt.redis, report.id, "10.0.0.9", "UA-9", None, "黑河农商银行", kind="unit")  # no view before
    views.flush_view_log()
    assert ViewLog.select().where(ViewLog.unit == "黑河农商银行").count() == 1


def test_without_redis_the_view_goes_to_the_database_at_once(app, make_signed_report):
    report = make_signed_report()
    away = redis_lib.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    assert views.record_view(away, report.id, "10.0.0.1", "UA-1", None, "某银行")
    assert [(v.ip, v.unit) for v in ViewLog.select()] == [("10.0.0.1", "某银行")]


def test_the_page_logs_its_view_for_the_scheduler_to_flush(client, rt, make_signed_report):
    report = make_signed_report()
    first = client.get(f"/v/{report.token}", headers={"User-Agent": "UA-A"})
    again = client.get(f"/v/{report.token}", headers={"User-Agent": "UA-B"})
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data()  # one rendering, served twice
    views.flush_view_log()
    assert sorted(v.user_agent for v in ViewLog.select()) == ["UA-A", "UA-B"]


def test_the_page_buffer_hands_views_to_the_stream_in_pipelines(app, rt, make_signed_report):
    report = make_signed_report()
    views.BUFFER.drain()
    for agent in ("UA-1", "UA-1", "UA-2"):  # the second is a refresh: the script drops it as before
        views.buffer_view(rt.redis, report.id, "10.0.0.1", agent, None, None)
    deadline = time.monotonic() + 30
    while _entries(rt) < 2 and time.monotonic() < deadline:  # the buffer's own thread, without being asked
        time.sleep(0.02)
    assert _entries(rt) == 2 and views.BUFFER.drain() == 0
    assert views.flush_view_log() == 2 and ViewLog.select().count() == 2


def test_the_scheduler_flush_takes_this_process_buffer_first(app, rt, make_signed_report):
    report = make_signed_report()
    with views.BUFFER.lock:  # held (re-entrant) through the flush: the buffer's thread cannot take the view first
        views.BUFFER.queue.append((rt.redis, views._view(report.id, "10.0.0.3", "UA-3", None, None, "view")))
        assert views.flush_view_log() == 1
    assert [v.ip for v in ViewLog.select()] == ["10.0.0.3"]


def test_a_buffered_view_goes_to_the_database_when_redis_is_away(app, make_signed_report):
    report = make_signed_report()
    away = redis_lib.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    with views.BUFFER.lock:
        views.BUFFER.queue.append((away, views._view(report.id, "10.0.0.4", "UA-4", None, None, "view")))
        assert views.BUFFER.drain() == 1
    assert [v.ip for v in ViewLog.select()] == ["10.0.0.4"]
