"""bot/flows/my_reports.py: 我的报告 (details with the QR code again, revoke, views) and 重发二维码."""

import datetime as dt
import json

import pytest

from bot import state
from models.base import local_today
from models.tables.accounts import Binding
from models.tables.outbound import OutboundMessage
from models.tables.registry import Domain
from models.tables.reports import Report
from models.tables.requests import ReportRequest
from models.tables.views import ViewLog

TODAY = local_today()


def years_ago(years):
    try:
        return TODAY.replace(year=TODAY.year - years) + dt.timedelta(days=1)
    except ValueError:
        return TODAY.replace(year=TODAY.year - years, day=28) + dt.timedelta(days=1)


def build_jobs(rt):
    return [job.args[0] for job in rt.queue.jobs if job.func_name == "jobs.pipeline.build_report"]


@pytest.fixture
def owner(bot_chat, bot_enterprise):
    """A user bound to one enterprise."""
    chat = bot_chat("o-report-owner")
    chat.enterprise = bot_enterprise("黑河市北辰商贸有限公司")
    Binding.create(user=chat.user(), enterprise=chat.enterprise)
    return chat


def all_codes():
    return [d.code for d in Domain.ordered()]


def test_my_reports_lists_reports_and_requests(owner, make_signed_report, rt):
    report = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    ReportRequest.create(user=owner.user(), enterprise=owner.enterprise, msg_key="pending", domains=["hrss"],
                         period_start=TODAY - dt.timedelta(days=30), period_end=TODAY, purpose_category="金融",
                         purpose="上市")
    reply = owner.say("我的报告")
    assert f"1. {report.number}【有效】" in reply
    assert f"http://hegui.test/v/{report.token}" in reply
    assert "正在生成：1 份" in reply
    detail = owner.say("1")
    assert "用途：金融·银行贷款" in detail and "已重新发送该报告的二维码" in detail and report.token in detail
    qr = OutboundMessage.get(OutboundMessage.kind == "image")
    assert qr.user_id == owner.user().id and qr.dedup_key.startswith(f"report-qr-again-{report.id}-")
    assert [j.args for j in rt.queue.jobs if j.func_name == "jobs.delivery.deliver"] == [(qr.id,)]
    owner.say("1", msg_key="again")
    owner.say("1", msg_key="again")  # a repeated message sends nothing more
    assert OutboundMessage.select().where(OutboundMessage.kind == "image").count() == 2


def test_my_reports_without_reports(owner):
    assert "暂无已生成的报告" in owner.say("我的报告")


def test_revoke_a_report_with_confirmation(owner, make_signed_report):
    report = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    owner.say("我的报告")
    assert "确认撤销报告" in owner.say("撤销1")
    assert "报告未撤销" in owner.say("返回")
    assert Report.get_by_id(report.id).revoked_at is None
    owner.say("撤销1")
    assert "已撤销" in owner.say("确认")
    assert Report.get_by_id(report.id).revoked_at is not None
    assert "【已撤销】" in owner.say("我的报告")
    assert "无需重复" in owner.say("撤销1")


def test_a_replayed_revocation_never_revokes_a_newer_report(owner, make_signed_report, rt):
    """我的报告 / 撤销1 / 确认 recorded and sent again after Redis lost its memory: the 确认 was handled once (in the
    database), so the newer report now listed first stays valid."""
    older = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    recorded = [("我的报告", "m-list"), ("撤销1", "m-pick"), ("确认", "m-confirm")]
    for text, key in recorded:
        owner.say(text, msg_key=key)
    assert Report.get_by_id(older.id).revoked_at is not None
    newer = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    rt.redis.flushdb()
    for text, key in recorded:
        owner.say(text, msg_key=key)
    assert Report.get_by_id(newer.id).revoked_at is None


def test_view_log_shows_time_and_unit_only(owner, make_signed_report):
    report = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    ViewLog.create(report=report, unit="中国建设银行黑河分行", openid="o-verifier-secret", ip="10.1.2.3")
    ViewLog.create(report=report, openid="o-verifier-2", ip="10.9.9.9")
    owner.say("我的报告")
    reply = owner.say("查看记录1")
    assert "共被查验 2 次" in reply and "中国建设银行黑河分行" in reply and "未填写单位" in reply
    assert "o-verifier" not in reply and "10.1.2.3" not in reply


def test_another_enterprises_reports_are_never_shown(owner, bot_chat, bot_enterprise, make_signed_report, rt):
    other_enterprise = bot_enterprise("黑河市他人公司")
    secret = make_signed_report(enterprise=other_enterprise)
    mine = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    reply = owner.say("我的报告")
    assert mine.number in reply and secret.number not in reply
    tampered = json.loads(rt.redis.get(state.live_key(owner.openid)))
    tampered["data"]["reports"] = [secret.id]
    rt.redis.set(state.live_key(owner.openid), json.dumps(tampered))
    reply = owner.say("撤销1")
    assert "尚未绑定该企业" in reply and secret.number not in reply
    owner.say("确认")
    assert Report.get_by_id(secret.id).revoked_at is None
