"""The SMS job (jobs/sms.py) through a real worker against the SMS double, and the gateway's backends
(jobs/gateways/sms.py). The job's arguments hold an SmsMessage id, never the text; the text is blanked once used."""

import datetime as dt
import logging

import pytest
import requests
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from jobs import sms
from jobs.gateways import sms as gateway
from models.base import utcnow
from models.tables.accounts import SMS_EXPIRED, SMS_FAILED, SMS_PENDING, SMS_SENT, SmsMessage

CODE_TEXT = "【信用黑河】验证码 483920，用于在“合规一码通”绑定企业，5分钟内有效。"


def received(double, mobile=None):
    return requests.get(f"{double.base_url}/_double/sms", params={"mobile": mobile} if mobile else {},
                        timeout=5).json()


def queued(rt, mobile, text, key=None):
    row = SmsMessage.queue(key or f"test:{mobile}:{text}", mobile, text)
    return row, sms.enqueue_sms(rt, row.id)


def test_the_job_carries_the_rows_id_and_the_text_is_blanked_once_sent(sms_double, rt, drain):
    row, job = queued(rt, "13800000001", CODE_TEXT)
    assert job.args == (row.id,) and "483920" not in repr(job.args) + repr(job.kwargs)
    assert "483920" not in "".join(str(rt.redis.hgetall(f"rq:job:{job.id}")))
    assert drain() == 0
    assert [m["text"] for m in received(sms_double, "13800000001")] == [CODE_TEXT]
    sent = SmsMessage.find(row.id)
    assert (sent.state, sent.text, sent.attempts) == (SMS_SENT, "", 1) and sent.sent_at is not None
    assert received(sms_double, "13900000000") == []


def test_a_row_is_sent_once_even_when_its_job_runs_twice(sms_double, rt, drain):
    row, job = queued(rt, "13800000007", CODE_TEXT)
    assert drain() == 0
    rt.queue.enqueue_job(Job.fetch(job.id, connection=rt.redis))
    assert drain() == 0
    assert len(received(sms_double, "13800000007")) == 1


def test_gateway_failure_is_retried_with_the_text_kept_for_the_retry_only(sms_double, rt, drain):
    requests.post(f"{sms_double.base_url}/_double/fail", json={"status": 503, "times": 1}, timeout=5)
    row, job = queued(rt, "13800000002", "验证码 2")
    assert drain() == 0  # failed once, and RQ scheduled the retry instead of giving up
    waiting = SmsMessage.find(row.id)
    assert (waiting.state, waiting.text, waiting.attempts) == (SMS_PENDING, "验证码 2", 1)
    scheduled = ScheduledJobRegistry(queue=rt.queue)
    assert scheduled.get_job_ids() == [job.id]
    assert received(sms_double) == []
    scheduled.remove(job.id)
    rt.queue.enqueue_job(Job.fetch(job.id, connection=rt.redis))  # what RQ's scheduler does when the time comes
    assert drain() == 0
    assert [m["text"] for m in received(sms_double, "13800000002")] == ["验证码 2"]
    assert SmsMessage.find(row.id).text == ""


def test_the_last_failed_try_leaves_no_text(sms_double, app):
    requests.post(f"{sms_double.base_url}/_double/fail", json={"status": 503, "times": 9}, timeout=5)
    row = SmsMessage.queue("test:last", "13800000008", "验证码 8")
    for _ in range(len(sms.RETRY_INTERVALS) + 1):
        with pytest.raises(sms.SMSUnavailable):
            sms.send_sms(row.id)
    failed = SmsMessage.find(row.id)
    assert (failed.state, failed.text, failed.attempts) == (SMS_FAILED, "", 4)
    assert sms.send_sms(row.id) is None


def test_rejected_message_fails_for_good_without_text(sms_double, app):
    row = SmsMessage.queue("test:bad", "12345", "坏号码")
    with pytest.raises(sms.SMSRejected):
        sms.send_sms(row.id)
    assert (SmsMessage.find(row.id).state, SmsMessage.find(row.id).text) == (SMS_FAILED, "")
    assert received(sms_double) == []


def test_a_code_older_than_its_life_is_not_sent(sms_double, app):
    row = SmsMessage.queue("test:old", "13800000009", "验证码 9")
    SmsMessage.update(created_at=utcnow() - dt.timedelta(minutes=6)).where(SmsMessage.id == row.id).execute()
    assert sms.send_sms(row.id) is None
    assert (SmsMessage.find(row.id).state, SmsMessage.find(row.id).text) == (SMS_EXPIRED, "")
    assert received(sms_double) == []


def test_unreachable_gateway_is_unavailable(app):
    config = {"SMS_BACKEND": "http", "SMS_WEBHOOK_URL": "http://127.0.0.1:9/send"}
    with pytest.raises(gateway.SMSUnavailable):
        gateway.send(config, "13800000003", "x")


def test_http_without_url_is_not_configured(app):
    with pytest.raises(gateway.SMSNotConfigured):
        gateway.send({"SMS_BACKEND": "http", "SMS_WEBHOOK_URL": None}, "13800000003", "x")


def test_log_backend_writes_the_text_in_development(app, caplog):
    with caplog.at_level(logging.INFO, logger="jobs.gateways.sms"):
        assert gateway.send({"SMS_BACKEND": "log", "DEV_MODE": True}, "13800000004", "验证码 777777") == "logged"
    assert "13800000004" in caplog.text and "777777" in caplog.text


def test_log_backend_refuses_production(app, caplog):
    with caplog.at_level(logging.INFO, logger="jobs.gateways.sms"), pytest.raises(gateway.SMSNotConfigured):
        gateway.send({"SMS_BACKEND": "log", "DEV_MODE": False}, "13800000005", "验证码 888888")
    assert "888888" not in caplog.text


def test_unknown_backend(app):
    with pytest.raises(gateway.SMSNotConfigured):
        gateway.send({"SMS_BACKEND": "pigeon"}, "13800000006", "x")
