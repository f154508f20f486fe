"""What the staff WeCom groups read: the markdown of a new case's notice and of the daily reminders' lines, composed
here from the facts models/ keep, every outside value through `neutral` (docs/WECHAT.md §3), the console's links on
PUBLIC_BASE_URL."""

from jobs.compose import neutral
from models.policy.casework.cases import KINDS

REASON_SHOWN = 200  # characters of an owner's reason shown in the group


def case_url(case_id, base_url):
    """The case's page in the staff console."""
    return f"{base_url}/staff/cases/{case_id}"


def case_opened_markdown(case, base_url):
    """The WeCom markdown notice for a newly opened case."""
    record, enterprise = case.record, case.enterprise
    return "\n".join([
        f"### 新{KINDS[case.kind]} {case.number}",
        f"> 企业：{neutral(enterprise.name)}（{neutral(enterprise.uscc)}）",
        f"> 记录：{neutral(record.decision_no)}（{record.decided_on:%Y-%m-%d}，{neutral(record.authority)}）",
        f"> 理由：{neutral(case.reason, REASON_SHOWN)}",
        f"> 办理期限：<font color=\"warning\">{case.deadline:%Y-%m-%d}</font>",
        f"[点此办理]({case_url(case.id, base_url)})",
    ])


def case_reminder_line(case, when, base_url):
    """One line of the daily reminder about an open case due soon or overdue (`when` says which)."""
    return (f"> {KINDS[case.kind]} {case.number}｜{neutral(case.enterprise.name)}｜期限 {case.deadline:%Y-%m-%d}"
            f"（<font color=\"warning\">{when}</font>）[办理]({case_url(case.id, base_url)})")


def section_title(department, title):
    """A bold heading for one department's part of a reminder."""
    return f"**{neutral(department.name)}｜{title}**"


def notice_markdown(notice, base_url):
    """The markdown a StaffNotice sends: a new case's composed now from the case, any other as it was composed."""
    if notice.kind == "case_opened" and notice.case_id is not None:
        return case_opened_markdown(notice.case, base_url)
    return notice.body
