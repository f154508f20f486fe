"""Delivery through a real RQ worker to the WeChat double: at most once, deferred, template fallback, mentions."""

import datetime as dt

import pytest
import requests
from rq.registry import ScheduledJobRegistry

from jobs import delivery
from jobs.gateways.wechat import Busy
from models.base import utcnow
from models.tables.accounts import WechatUser
from models.tables.cases import PendingNotice
from models.tables.outbound import OutboundMessage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 128


def control(double, path, **body):
    requests.post(f"{double.base_url}/_double/{path}", json=body, timeout=5).raise_for_status()


def inbox(double, openid):
    return requests.get(f"{double.base_url}/_double/sent", params={"openid": openid}, timeout=5).json()


def calls(double, api):
    return requests.get(f"{double.base_url}/_double/stats", timeout=5).json().get(api, 0)


@pytest.fixture(autouse=True)
def fast_backoff(app_config):
    app_config["WECHAT_BUSY_BACKOFF"] = (0.01, 0.02)


@pytest.fixture
def user(wechat_double, app):
    """A user who wrote a minute ago (our row and the double agree)."""
    control(wechat_double, "interaction", openid="o_u", kind="message")
    return WechatUser.create(openid="o_u", last_message_at=utcnow() - dt.timedelta(minutes=1))


def state(row_id):
    return OutboundMessage.get_by_id(row_id).state


def test_text_is_sent_once_per_dedup_key(wechat_double, user, drain):
    first = delivery.queue_text(user.id, "您的报告已生成。", "report-1-ready")
    again = delivery.queue_text(user.id, "您的报告已生成。", "report-1-ready")
    assert first == again
    assert OutboundMessage.select().count() == 1
    assert drain() == 0
    assert state(first) == "sent"
    assert OutboundMessage.get_by_id(first).sent_at is not None
    delivery.queue_text(user.id, "您的报告已生成。", "report-1-ready")  # after sending: still once
    assert drain() == 0
    assert [m["text"] for m in inbox(wechat_double, "o_u")] == ["您的报告已生成。"]


def test_deliver_twice_sends_once(wechat_double, user, rt):
    row_id = delivery.queue_text(user.id, "一次", "once")
    assert delivery.deliver(row_id) == "sent"
    assert delivery.deliver(row_id) == "sent"
    assert len(inbox(wechat_double, "o_u")) == 1
    assert OutboundMessage.get_by_id(row_id).attempts == 1


def test_row_left_sending_is_never_resent_and_is_swept_to_unknown(wechat_double, user, drain):
    row_id = delivery.queue_text(user.id, "崩溃前发出的消息", "crash-1")
    OutboundMessage.update(state="sending", sending_at=utcnow() - dt.timedelta(minutes=30)).where(
        OutboundMessage.id == row_id).execute()  # a worker died mid-send
    assert drain() == 0
    assert state(row_id) == "sending"
    assert inbox(wechat_double, "o_u") == []
    fresh = delivery.queue_text(user.id, "正在发送", "crash-2")
    OutboundMessage.update(state="sending", sending_at=utcnow()).where(OutboundMessage.id == fresh).execute()
    assert delivery.sweep_unknown(dt.timedelta(minutes=10)) == 1
    assert state(row_id) == "unknown"
    assert state(fresh) == "sending"
    assert delivery.deliver(row_id) == "unknown"
    assert calls(wechat_double, "message/custom/send") == 0
    mentions = delivery.pending_mentions(user)
    assert len(mentions) == 1 and "崩溃前发出的消息" in mentions[0] and "可能未能送达" in mentions[0]
    assert delivery.pending_mentions(user) == []


def test_outside_the_window_is_deferred_without_calling(wechat_double, app, drain):
    old = WechatUser.create(openid="o_old", last_message_at=utcnow() - dt.timedelta(hours=49))
    row_id = delivery.queue_text(old.id, "过期窗口", "late-1")
    assert drain() == 0
    assert state(row_id) == "deferred"
    assert calls(wechat_double, "message/custom/send") == 0
    assert delivery.pending_mentions(old.id) == ["此前有一条消息未能送达，内容如下：过期窗口"]
    assert delivery.deliver(row_id) == "deferred"  # once mentioned, never sent as well


def test_45015_from_wechat_defers(wechat_double, app, drain):
    quiet = WechatUser.create(openid="o_quiet", last_message_at=utcnow())  # the double never saw them write
    row_id = delivery.queue_text(quiet.id, "窗口外", "w-1")
    assert drain() == 0
    assert state(row_id) == "deferred"
    assert "45015" in OutboundMessage.get_by_id(row_id).error


def test_quota_of_five_after_a_message(wechat_double, user, drain):
    ids = [delivery.queue_text(user.id, f"第{i}条", f"q-{i}") for i in range(6)]
    assert drain() == 0
    assert [state(i) for i in ids].count("sent") == 5
    assert [state(i) for i in ids].count("deferred") == 1
    assert len(inbox(wechat_double, "o_u")) == 5


def test_busy_leaves_the_row_pending_for_rq_retry(wechat_double, user, drain, rt):
    control(wechat_double, "fail", api="message/custom/send", errcode=-1, times=100)
    row_id = delivery.queue_text(user.id, "稍后重试", "busy-1")
    with pytest.raises(Busy):
        delivery.deliver(row_id)
    assert calls(wechat_double, "message/custom/send") == 3  # the gateway's bounded tries, then RQ's turn
    assert state(row_id) == "pending"
    assert OutboundMessage.get_by_id(row_id).attempts == 1
    assert drain() == 0  # the job failed and RQ scheduled a retry with back-off
    assert ScheduledJobRegistry(queue=rt.queue).get_job_ids() == [f"deliver-{row_id}"]
    assert state(row_id) == "pending"
    assert inbox(wechat_double, "o_u") == []


def test_unreachable_wechat_leaves_the_row_pending(app_config, user, rt):
    rt.config["WECHAT_API_BASE"] = "http://127.0.0.1:9/cgi-bin/"
    row_id = delivery.queue_text(user.id, "连不上", "down-1")
    with pytest.raises(requests.ConnectionError):
        delivery.deliver(row_id)
    assert state(row_id) == "pending"


def test_image_is_uploaded_and_sent(wechat_double, user, drain):
    row_id = delivery.queue_image(user.id, PNG, "qr-report-1")
    assert delivery.queue_image(user.id, PNG, "qr-report-1") == row_id
    assert drain() == 0
    sent = inbox(wechat_double, "o_u")
    assert [m["kind"] for m in sent] == ["image"]
    assert OutboundMessage.get_by_id(row_id).payload["media_id"] == sent[0]["media_id"]
    assert calls(wechat_double, "media/upload") == 1


OUTCOME = {"kind": "异议申诉", "number": "YY-20261127-0001", "decision_no": "黑市监罚〔2026〕1号", "accepted": True,
           "resolution": "记录已更正", "reason": "经核实处罚对象有误", "at": "2026-11-27 09:30"}
OUTCOME_TEXT = ("您提交的异议申诉（编号 YY-20261127-0001，处罚决定书 黑市监罚〔2026〕1号）已办结：记录已更正。"
                "说明：经核实处罚对象有误")


def test_notice_inside_the_window_is_a_customer_service_message(wechat_double, user, drain):
    row_id = delivery.queue_notice(user.id, "case_outcome", OUTCOME, "case-1-done")
    assert drain() == 0
    assert state(row_id) == "sent"
    assert [m["kind"] for m in inbox(wechat_double, "o_u")] == ["text"]


def test_notice_whose_custom_send_may_have_arrived_is_not_sent_again_as_a_template(wechat_double, user, drain):
    control(wechat_double, "fail", api="message/custom/send", status=502)
    row_id = delivery.queue_notice(user.id, "case_outcome", OUTCOME, "case-502")
    assert drain() == 0
    assert state(row_id) == "unknown"
    assert calls(wechat_double, "message/template/send") == 0
    assert inbox(wechat_double, "o_u") == []
    assert PendingNotice.select().count() == 0
    mentions = delivery.pending_mentions(user)
    assert len(mentions) == 1 and mentions[0].endswith(f"内容如下：{OUTCOME_TEXT}")


def test_notice_outside_the_window_falls_back_to_its_kinds_typed_template(wechat_double, app, drain):
    """Issue 13, item 12: typed fields, nothing in first/remark; the reason waits for the owner's next message."""
    away = WechatUser.create(openid="o_away", last_message_at=utcnow() - dt.timedelta(days=5))
    app.config["WECHAT_TEMPLATE_CASE_OUTCOME"] = "tpl-outcome"
    row_id = delivery.queue_notice(away.id, "case_outcome", {**OUTCOME, "kind": "信用修复"}, "case-2-done")
    assert drain() == 0
    assert state(row_id) == "sent" and OutboundMessage.get_by_id(row_id).via == "template"
    [sent] = inbox(wechat_double, "o_away")
    assert sent["kind"] == "template" and sent["template_id"] == "tpl-outcome"
    assert sent["data"] == {"thing1": {"value": "信用修复"}, "character_string2": {"value": "YY-20261127-0001"},
                            "phrase3": {"value": "已办结"}, "time4": {"value": "2026-11-27 09:30"}}
    assert delivery.pending_mentions(away) == [OUTCOME_TEXT.replace("异议申诉", "信用修复")]


def test_a_template_setting_may_renumber_the_keys(wechat_double, app, drain):
    away = WechatUser.create(openid="o_renumbered")
    app.config["WECHAT_TEMPLATE_CASE_OUTCOME"] = "tpl-2 kind=thing7 number=character_string2 result=phrase9 at=time1"
    delivery.queue_notice(away.id, "case_outcome", OUTCOME, "case-renumbered")
    assert drain() == 0
    assert set(inbox(wechat_double, "o_renumbered")[0]["data"]) == {"thing7", "character_string2", "phrase9", "time1"}


def test_notice_over_quota_falls_back_to_a_template(wechat_double, user, app, drain):
    app.config["WECHAT_TEMPLATE_CASE_OUTCOME"] = "tpl-outcome"
    for i in range(5):
        delivery.queue_text(user.id, f"第{i}条", f"fill-{i}")
    notice = delivery.queue_notice(user.id, "case_outcome", OUTCOME, "repair-1")
    assert drain() == 0
    assert state(notice) == "sent"
    assert inbox(wechat_double, "o_u")[-1]["kind"] == "template"


def test_notice_that_cannot_be_delivered_becomes_a_pending_notice(wechat_double, app, drain):
    gone = WechatUser.create(openid="o_gone", last_message_at=utcnow() - dt.timedelta(days=3))
    control(wechat_double, "user", openid="o_gone", following=False)
    row_id = delivery.queue_notice(gone.id, "case_outcome", OUTCOME, "case-3-done")
    assert drain() == 0
    assert state(row_id) == "failed"
    assert PendingNotice.get().text == OUTCOME_TEXT
    assert delivery.pending_mentions(gone) == [OUTCOME_TEXT]
    assert PendingNotice.get().shown_at is not None
    assert delivery.pending_mentions(gone) == []


def test_without_a_template_for_its_kind_a_notice_waits_for_the_next_message(wechat_double, app, drain):
    away = WechatUser.create(openid="o_notemplate", last_message_at=None)
    app.config["WECHAT_TEMPLATE_CASE_OUTCOME"] = None
    delivery.queue_notice(away.id, "case_outcome", OUTCOME, "case-4")
    assert drain() == 0
    assert [n.text for n in PendingNotice.select()] == [OUTCOME_TEXT]
    assert inbox(wechat_double, "o_notemplate") == []
    assert calls(wechat_double, "message/template/send") == 0


def test_deliver_before_commit_is_retried(app):
    with pytest.raises(delivery.OutboundMissing):
        delivery.deliver(999_999)


def test_a_click_opens_three_messages_for_a_minute_not_48_hours(wechat_double, app, drain):
    """Issue 13, item 13: a menu click, follow or scan opened a 48-hour window here; WeChat allows 3 in 1 minute."""
    clicked = WechatUser.create(openid="o_click", last_event_at=utcnow())
    control(wechat_double, "interaction", openid="o_click", kind="event", event="CLICK")
    ids = [delivery.queue_text(clicked.id, f"第{i}条", f"click-{i}") for i in range(4)]
    assert drain() == 0
    assert [state(i) for i in ids] == ["sent", "sent", "sent", "deferred"]
    assert calls(wechat_double, "message/custom/send") == 3  # the fourth was held back here, not refused there
    earlier = WechatUser.create(openid="o_clicked_earlier", last_event_at=utcnow() - dt.timedelta(minutes=2))
    late = delivery.queue_text(earlier.id, "两分钟后", "click-late")
    assert drain() == 0
    assert state(late) == "deferred" and calls(wechat_double, "message/custom/send") == 3


def test_windows_by_what_the_user_did(app):
    now = utcnow()
    wrote = WechatUser.create(openid="o_w", last_message_at=now - dt.timedelta(hours=47))
    clicked = WechatUser.create(openid="o_k", last_event_at=now - dt.timedelta(seconds=30))
    clicked_long_ago = WechatUser.create(openid="o_kk", last_event_at=now - dt.timedelta(hours=1))
    assert delivery.window_allows(wrote, now) and delivery.window_allows(clicked, now)
    assert not delivery.window_allows(clicked_long_ago, now)
    assert not delivery.window_allows(WechatUser.create(openid="o_none"), now)


def test_a_pending_row_whose_job_was_lost_is_swept_and_sent(wechat_double, user, rt, drain):
    """Issue 13, item 4: after a Redis flush the row stayed pending and nothing sent it."""
    row_id = delivery.queue_text(user.id, "二维码说明", "lost-1")
    rt.redis.flushdb()  # the job is gone; the row is not
    assert drain() == 0 and state(row_id) == "pending"
    assert delivery.sweep_outbound() == 0  # too young: its job may still be on its way
    OutboundMessage.update(created_at=utcnow() - dt.timedelta(minutes=5)).execute()
    delivery.queue_text(user.id, "二维码说明", "lost-1")  # queued again meanwhile: a job is waiting, no second one
    assert delivery.sweep_outbound() == 0
    assert drain() == 0 and state(row_id) == "sent"
    second = delivery.queue_text(user.id, "再次丢失", "lost-2")
    rt.redis.flushdb()
    OutboundMessage.update(created_at=utcnow() - dt.timedelta(minutes=5)).where(OutboundMessage.id == second).execute()
    assert delivery.sweep_outbound() == 1 and drain() == 0 and state(second) == "sent"
    assert [m["text"] for m in inbox(wechat_double, "o_u")] == ["二维码说明", "再次丢失"]


def test_a_row_still_pending_is_told_at_the_next_message_and_never_sent_after(wechat_double, user, rt, drain):
    row_id = delivery.queue_image(user.id, PNG, "report-qr-77")
    rt.redis.flushdb()
    OutboundMessage.update(created_at=utcnow() - dt.timedelta(minutes=5)).execute()
    assert delivery.pending_mentions(user) == ["此前发送给您的一张图片未能送达，请发送“我的报告”重新获取。"]
    assert state(row_id) == "deferred" and delivery.pending_mentions(user) == []
    assert delivery.deliver(row_id) == "deferred" and inbox(wechat_double, "o_u") == []
