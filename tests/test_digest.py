"""jobs.digest.send_view_digests: one notice per owner per day with yesterday's views (time and unit only)."""

import datetime as dt

from commands.scheduler import PERIODIC
from jobs.digest import send_view_digests
from jobs.notice_kinds import notice_text, template_for
from models.base import LOCAL_TZ, local_today, utcnow
from models.tables.accounts import Binding, WechatUser
from models.tables.outbound import OutboundMessage
from models.tables.views import ViewLog


def _at(day, hour, minute):
    """A local 黑河 time on `day` as naive UTC, as ViewLog stores it."""
    return dt.datetime.combine(day, dt.time(hour, minute), LOCAL_TZ).astimezone(dt.UTC).replace(tzinfo=None)


def test_one_digest_per_owner_per_day(app, rt, drain, make_signed_report):
    yesterday = local_today() - dt.timedelta(days=1)
    owner = WechatUser.create(openid="o-owner-a")
    other_owner = WechatUser.create(openid="o-owner-b")
    quiet_owner = WechatUser.create(openid="o-owner-c")
    first, second = make_signed_report(owner=owner), make_signed_report(owner=owner)
    theirs = make_signed_report(owner=other_owner)
    for user in (owner, other_owner):
        Binding.create(user=user, enterprise=first.enterprise)
    make_signed_report(owner=quiet_owner)
    ViewLog.create(report=first, at=_at(yesterday, 0, 5), unit="中国工商银行黑河分行", openid="o-bank", ip="1.1.1.1")
    ViewLog.create(report=second, at=_at(yesterday, 23, 55), unit=None, ip="2.2.2.2")
    ViewLog.create(report=first, at=_at(yesterday, 12, 0), openid="o-owner-a", ip="3.3.3.3")  # the owner's own look
    ViewLog.create(report=first, at=_at(yesterday, 0, 0) - dt.timedelta(minutes=1), unit="前一天", ip="4.4.4.4")
    ViewLog.create(report=first, at=_at(local_today(), 0, 1), unit="今天", ip="5.5.5.5")
    ViewLog.create(report=theirs, at=_at(yesterday, 9, 30), unit="黑河市公共资源交易中心", ip="6.6.6.6")

    assert send_view_digests() == 2
    assert send_view_digests() == 2  # run twice (a scheduler overlap): still one message per owner and day
    rows = {row.user_id: row for row in OutboundMessage.select()}
    assert set(rows) == {owner.id, other_owner.id}
    mine = rows[owner.id]
    assert mine.dedup_key == f"view-digest:{owner.id}:{yesterday.isoformat()}" and mine.kind == "notice"
    text = notice_text(mine.payload)
    assert "被查验 2 次" in text and "00:05 中国工商银行黑河分行" in text and "23:55 未填写单位" in text
    assert first.number in text and second.number in text
    for absent in ("前一天", "今天", "o-bank", "1.1.1.1", "12:00"):
        assert absent not in text
    template = template_for(mine.payload, {"WECHAT_TEMPLATE_VIEW_DIGEST": "tpl-digest"})
    fields = {"number1": "2", "thing2": "中国工商银行黑河分行", "date3": yesterday.isoformat()}
    assert template == ("tpl-digest", fields)
    assert "黑河市公共资源交易中心" in notice_text(rows[other_owner.id].payload)
    assert OutboundMessage.select().count() == 2


def test_digest_runs_on_a_worker_for_a_given_day_and_is_scheduled(app, rt, drain, make_signed_report):
    owner = WechatUser.create(openid="o-owner-d")
    report = make_signed_report(owner=owner)
    Binding.create(user=owner, enterprise=report.enterprise)
    day = dt.date(2026, 3, 8)
    ViewLog.create(report=report, at=_at(day, 10, 0), unit="黑河农商银行", ip="7.7.7.7")
    rt.queue.enqueue("jobs.digest.send_view_digests", "2026-03-08")
    rt.queue.enqueue("jobs.digest.send_view_digests", "2026-03-09")  # nobody looked that day: no message
    drain()
    row = OutboundMessage.get()
    assert row.dedup_key == f"view-digest:{owner.id}:2026-03-08" and "3月8日" in notice_text(row.payload)
    assert ("view-digests", 86400, "jobs.digest.send_view_digests") in PERIODIC


def test_a_former_owner_hears_nothing_more(app, make_signed_report):
    yesterday = local_today() - dt.timedelta(days=1)
    former = WechatUser.create(openid="o-former-employee")
    report = make_signed_report(owner=former)
    Binding.create(user=former, enterprise=report.enterprise, revoked_at=utcnow())
    ViewLog.create(report=report, at=_at(yesterday, 10, 0), unit="中国建设银行黑河分行", ip="7.7.7.7")
    assert send_view_digests() == 0
    assert OutboundMessage.select().count() == 0
