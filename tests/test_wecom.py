import datetime as dt
import logging
import time
from types import SimpleNamespace

import pytest
import requests
from rq import SimpleWorker

from jobs import wecom
from jobs.notices import case_opened
from models.policy.casework.cases import open_case
from models.tables.cases import StaffNotice
from models.tables.registry import Department

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def app_config(app_config, wecom_double):
    app_config.update(
        WECOM_ROBOT_URL=wecom_double.url_for("office"), WECOM_RATE_WINDOW=wecom_double.window,
        WECOM_RATE_LIMIT=20, WECOM_BATCH_SECONDS=0, WECOM_BATCH_MAX=10,
    )
    return app_config


def pump(rt, rounds=40):
    """Run real burst workers with RQ's scheduler (it moves due `enqueue_in` jobs) until no notice is pending."""
    for _ in range(rounds):
        SimpleWorker(rt.queues, connection=rt.redis).work(burst=True, with_scheduler=True)
        if not StaffNotice.select().where(StaffNotice.state == "pending").exists():
            return
        time.sleep(0.25)
    raise AssertionError("notices still pending")


def _open_many(world, n):
    cases = []
    for i in range(n):
        cases.append(open_case("objection", world.user, world.enterprise, world.record(), f"理由{i}", f"burst-{i}",
                               today=TODAY))
    return cases


def _max_per_window(messages, window):
    times = sorted(m["at"] for m in messages)
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_split_and_compose_respect_the_byte_limit():
    text = "\n".join(["### 标题"] + ["> 很长的一行" * 80] * 6)
    pieces = wecom.split_markdown(text, 4096)
    assert all(len(p.encode()) <= 4096 for p in pieces) and "".join(pieces).replace("\n", "") == text.replace(
        "\n", ""
    )
    notices = [SimpleNamespace(id=i, body=f"### 通知{i}\n" + "内容" * 300) for i in range(8)]
    messages = wecom.compose(notices, batch_max=10)
    assert all(len(c.encode()) <= 4096 for c, _ in messages)
    assert sorted(i for _, ids in messages for i in ids) == list(range(8)) and len(messages) < 8


def test_burst_of_50_cases_merged_and_all_delivered(rt, case_world, wecom_double):
    cases = _open_many(case_world, 50)
    for case in cases:
        case_opened(rt, case.id)
    pump(rt)
    received = wecom_double.received("office")
    text = "\n".join(m["content"] for m in received)
    assert all(c.number in text for c in cases)
    assert len(received) <= 10 and all(len(m["content"].encode()) <= 4096 for m in received)
    assert "http://hegui.test/staff/cases/" in text and "{base_url}" not in text
    assert StaffNotice.select().where(StaffNotice.state == "sent").count() == 50
    assert wecom_double.rejected == []


def test_burst_unmerged_never_exceeds_20_a_window(rt, case_world, wecom_double):
    rt.config["WECOM_BATCH_MAX"] = 1  # one notice a message: 50 messages, the limiter must pace them
    cases = _open_many(case_world, 50)
    for case in cases:
        case_opened(rt, case.id)
    pump(rt, rounds=80)
    received = wecom_double.received("office")
    assert len(received) == 50
    assert _max_per_window(received, wecom_double.window) <= 20
    assert wecom_double.rejected == []


def test_department_robot_used_and_busy_answer_retried(rt, case_world, wecom_double):
    Department.update(robot_url=wecom_double.url_for("market")).where(Department.code == "market").execute()
    requests.post(f"{wecom_double.base_url}/_double/fail?key=market&count=1&errcode=-1", timeout=5)
    case = _open_many(case_world, 1)[0]
    case_opened(rt, case.id)
    SimpleWorker(rt.queues, connection=rt.redis).work(burst=True, with_scheduler=True)
    notice = StaffNotice.get(StaffNotice.case == case)
    assert notice.state == "pending" and notice.attempts == 1 and "-1" in notice.error
    rt.redis.delete("wecom:queued:" + wecom.robot_key(wecom_double.url_for("market")))
    rt.queue.enqueue(wecom.flush_robot, wecom.robot_key(wecom_double.url_for("market")))
    pump(rt)
    assert [case.number in m["content"] for m in wecom_double.received("market")] == [True]
    assert wecom_double.received("office") == []


def test_bad_department_key_falls_back_to_the_default_robot(rt, case_world, wecom_double):
    wecom_double.keys = {"office"}
    Department.update(robot_url=wecom_double.url_for("nosuchkey")).where(Department.code == "market").execute()
    case = _open_many(case_world, 1)[0]
    case_opened(rt, case.id)
    pump(rt)
    assert ("nosuchkey", 93000) in wecom_double.rejected
    assert case.number in wecom_double.received("office")[0]["content"]
    assert StaffNotice.get(StaffNotice.case == case).state == "sent"


def test_no_robot_configured_logs_the_notice(rt, case_world, caplog):
    caplog.set_level(logging.INFO, logger="jobs.wecom")
    rt.config["WECOM_ROBOT_URL"] = None
    case = _open_many(case_world, 1)[0]
    case_opened(rt, case.id)
    assert StaffNotice.get(StaffNotice.case == case).state == "logged"
    assert case.number in caplog.text


def test_flushed_redis_loses_no_notice(rt, case_world, wecom_double):
    cases = _open_many(case_world, 3)
    for case in cases:
        case_opened(rt, case.id)
    rt.redis.flushdb()
    assert wecom.sweep_outbox() == 3
    pump(rt)
    text = "\n".join(m["content"] for m in wecom_double.received("office"))
    assert all(c.number in text for c in cases)
