"""Daily reminders to each WeCom group: cases nearing or past their deadline, data feeds overdue.

Run by `flask scheduler` every few minutes; each robot gets one digest per working day, made once: the digest is a
StaffNotice whose unique `dedup_key` is `daily:<robot>:<date>`, so two schedulers or a flushed Redis never repeat it.
"""

import datetime as dt
from collections import defaultdict

from jobs import wecom
from jobs.compose import neutral
from jobs.staff_markdown import case_reminder_line, section_title
from models.base import LOCAL_TZ
from models.policy.staff import feed_freshness
from models.policy.workdays import is_workday, workdays_between
from models.tables.cases import Case, StaffNotice
from runtime import current

REMIND_AFTER = dt.time(8, 30)  # local time: the digest waits for the working day to begin


def send_daily_reminders(at=None):
    """Post today's digest to every robot that has something to remind (working days, after 08:30); return ids."""
    rt = current()
    at = at or dt.datetime.now(LOCAL_TZ)
    today = at.date()
    if not is_workday(today) or at.time() < REMIND_AFTER:
        return []
    sections = defaultdict(list)  # robot url (or None) -> markdown sections
    base = rt.config["PUBLIC_BASE_URL"]
    for department, lines in _case_lines(today, rt.config["CASE_REMIND_WORKDAYS"], base).items():
        sections[wecom.resolve_robot(department.robot_url, rt.config)].append(_section(department, "案件", lines))
    for department, lines in _feed_lines(today, rt.config["FEED_STALE_DAYS"]).items():
        sections[wecom.resolve_robot(department.robot_url, rt.config)].append(_section(department, "数据", lines))
    created = []
    for url, parts in sections.items():
        notice_id = _digest(url, today, parts)
        if notice_id is not None:
            wecom.enqueue_notice(rt, notice_id)
            created.append(notice_id)
    return created


def _digest(url, today, parts):
    """Create the robot's digest for `today` unless it exists; return its id or None."""
    key = wecom.robot_key(url) if url else "log"
    body = "\n".join([f"## 每日提醒 {today:%Y-%m-%d}", *parts])
    notice = StaffNotice.queue_once(f"daily:{key}:{today}", "daily_reminder", body, robot_url=url)
    return notice.id if notice else None


def _section(department, what, lines):
    title = "临近或超过办理期限的案件" if what == "案件" else "数据报送逾期"
    return "\n".join([section_title(department, title), *lines])


def _case_lines(today, remind_workdays, base_url):
    """{department: [lines]} for open cases due within `remind_workdays` working days or overdue."""
    result = defaultdict(list)
    for case in Case.open_by_deadline():
        left = workdays_between(today, case.deadline)
        if left > remind_workdays:
            continue
        when = f"已超期 {-left} 个工作日" if left < 0 else ("今日到期" if left == 0 else f"剩 {left} 个工作日")
        result[case.department].append(case_reminder_line(case, when, base_url))
    return result


def _feed_lines(today, stale_days):
    """{department: [lines]} for feeds never loaded or with 数据截至 older than `stale_days`."""
    result = defaultdict(list)
    for row in feed_freshness(today=today, stale_days=stale_days):
        if not row.overdue:
            continue
        scope = f"{row.kind_label}" + (f"·{neutral(row.domain.name)}" if row.domain else "")
        state = (
            "从未报送" if row.complete_until is None
            else f"数据截至 {row.complete_until:%Y-%m-%d}，已超过 {stale_days} 天"
        )
        result[row.department].append(f"> {scope}：{state}")
    return result
