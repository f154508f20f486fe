"""The daily view digest: one message per report owner per day listing yesterday's views (time and unit only)."""

import datetime as dt
import logging
from collections import defaultdict

from jobs.delivery import queue_notice
from models.base import LOCAL_TZ, local_today, to_local
from models.tables.accounts import Binding, WechatUser
from models.tables.reports import Report, ReportRequest, ViewLog

log = logging.getLogger(__name__)

MAX_LINES = 20
NO_UNIT = "未填写单位"


def send_view_digests(day=None):
    """Queue yesterday's (or `day`'s, ISO date) digest for every owner whose reports were viewed; return the count."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else (day or local_today() - dt.timedelta(days=1))
    queued = 0
    for user_id, views in views_by_owner(day).items():
        text, fields = digest_message(day, views)
        queue_notice(user_id, text, fields, f"view-digest:{user_id}:{day.isoformat()}")
        queued += 1
    log.info("view digests for %s: %s owners", day, queued)
    return queued


def _utc_bounds(day):
    """The local (China) day as a naive-UTC half-open range."""
    start = dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(dt.UTC).replace(tzinfo=None)
    return start, start + dt.timedelta(days=1)


def views_by_owner(day):
    """{owner user id: [(local time, report number, unit)]} for views on `day`, the owner's own views left out.

    The owner is who requested the report, while still bound to its enterprise: someone who unbound (an employee who
    left) learns nothing more about who checks the company."""
    start, end = _utc_bounds(day)
    rows = (
        ViewLog.select(ViewLog.at, ViewLog.unit, ViewLog.openid, Report.number, WechatUser.id, WechatUser.openid)
        .join(Report)
        .join(ReportRequest)
        .join(WechatUser)
        .join(Binding, on=((Binding.user == WechatUser.id) & (Binding.enterprise == Report.enterprise)))
        .where((ViewLog.at >= start) & (ViewLog.at < end) & Binding.revoked_at.is_null())
        .order_by(ViewLog.at)
        .tuples()
    )
    grouped = defaultdict(list)
    for at, unit, viewer, number, owner_id, owner_openid in rows:
        if viewer and viewer == owner_openid:
            continue
        grouped[owner_id].append((to_local(at), number, unit))
    return grouped


def digest_message(day, views):
    """The text (one line per view, capped) and the template fields of one owner's digest."""
    lines = [f"【查验提醒】{day.month}月{day.day}日，您的专用信用报告被查验 {len(views)} 次："]
    for at, number, unit in views[:MAX_LINES]:
        lines.append(f"· {at:%H:%M} {unit or NO_UNIT}（{number}）")
    if len(views) > MAX_LINES:
        lines.append(f"……另有 {len(views) - MAX_LINES} 次")
    lines.append("发送“我的报告”可查看查验记录。仅显示查验时间和查验单位。")
    units = sorted({unit for _, _, unit in views if unit})
    fields = {
        "first": "您的专用信用报告昨日被查验",
        "keyword1": f"共 {len(views)} 次",
        "keyword2": "、".join(units) if units else NO_UNIT,
        "keyword3": day.isoformat(),
        "remark": "发送“我的报告”查看详情",
    }
    return "\n".join(lines), fields
