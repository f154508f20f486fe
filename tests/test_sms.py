"""The SMS gateway: the `http` backend against the SMS double through a real worker, and the `log` backend."""

import logging

import pytest
import requests
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from jobs import sms


def received(double, mobile=None):
    return requests.get(f"{double.base_url}/_double/sms", params={"mobile": mobile} if mobile else {},
                        timeout=5).json()


def test_enqueued_sms_reaches_the_gateway(sms_double, rt, drain):
    sms.enqueue_sms(rt, "13800000001", "【信用黑河】您的绑定验证码为 483920，10 分钟内有效。")
    assert drain() == 0
    messages = received(sms_double, "13800000001")
    assert [m["text"] for m in messages] == ["【信用黑河】您的绑定验证码为 483920，10 分钟内有效。"]
    assert received(sms_double, "13900000000") == []


def test_gateway_failure_is_typed_and_retried(sms_double, rt, drain):
    requests.post(f"{sms_double.base_url}/_double/fail", json={"status": 503, "times": 2}, timeout=5)
    with pytest.raises(sms.SMSUnavailable):
        sms.send_sms("13800000002", "验证码 1")
    job = sms.enqueue_sms(rt, "13800000002", "验证码 2")
    assert drain() == 0  # failed once, and RQ scheduled the retry instead of giving up
    scheduled = ScheduledJobRegistry(queue=rt.queue)
    assert scheduled.get_job_ids() == [job.id]
    assert received(sms_double) == []
    scheduled.remove(job.id)
    rt.queue.enqueue_job(Job.fetch(job.id, connection=rt.redis))  # what RQ's scheduler does when the time comes
    assert drain() == 0
    assert [m["text"] for m in received(sms_double, "13800000002")] == ["验证码 2"]


def test_rejected_message_is_typed(sms_double, app):
    with pytest.raises(sms.SMSRejected):
        sms.send_sms("12345", "坏号码")
    assert received(sms_double) == []


def test_unreachable_gateway_is_unavailable(app_config, app):
    app.config.update(SMS_BACKEND="http", SMS_WEBHOOK_URL="http://127.0.0.1:9/send")
    with pytest.raises(sms.SMSUnavailable):
        sms.send_sms("13800000003", "x")


def test_http_without_url_is_not_configured(app):
    app.config.update(SMS_BACKEND="http", SMS_WEBHOOK_URL=None)
    with pytest.raises(sms.SMSNotConfigured):
        sms.send_sms("13800000003", "x")


def test_log_backend_writes_the_text_in_development(app, caplog):
    app.config.update(SMS_BACKEND="log", DEV_MODE=True)
    with caplog.at_level(logging.INFO, logger="jobs.gateways.sms"):
        assert sms.send_sms("13800000004", "验证码 777777") == "logged"
    assert "13800000004" in caplog.text and "777777" in caplog.text


def test_log_backend_refuses_production(app, caplog):
    app.config.update(SMS_BACKEND="log", DEV_MODE=False)
    with caplog.at_level(logging.INFO, logger="jobs.gateways.sms"), pytest.raises(sms.SMSNotConfigured):
        sms.send_sms("13800000005", "验证码 888888")
    assert "888888" not in caplog.text


def test_unknown_backend(app):
    app.config.update(SMS_BACKEND="pigeon")
    with pytest.raises(sms.SMSNotConfigured):
        sms.send_sms("13800000006", "x")
