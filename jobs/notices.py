"""Who hears about a case: the providing department (WeCom robot) when it opens, the owner when it is decided, and
the owners of reports that showed a corrected record (offered a new report)."""

from jobs import wecom
from jobs.delivery import queue_notice
from models.base import local_today, to_local
from models.policy.casework.cases import KINDS, STATUS_LABELS, outcome_text
from models.tables.cases import Case, StaffNotice
from models.tables.reports import Report

NEW_REPORT_TEXT = (
    "您于 {issued} 开具的专用信用报告（编号 {number}）所列的一条处罚记录已{what}，该报告状态已变更为“数据已更正”。"
    "如需使用，请发送“申请报告”重新开具。"
)


def case_opened(rt, case_id):
    """Send the providing department the notice of a new case now (the sweep would within a minute)."""
    notice = StaffNotice.get_or_none(StaffNotice.dedup_key == f"case-opened:{case_id}")
    return wecom.enqueue_notice(rt, notice.id) if notice else None


def case_decided(rt, case_id, report_ids=()):
    """Tell the owner the outcome in the chat; offer a new report to the owners of every corrected report."""
    case = Case.get_by_id(case_id)
    queued = []
    if case.user_id:
        fields = {
            "first": f"您的{KINDS[case.kind]}已有办理结果",
            "keyword1": case.number,
            "keyword2": STATUS_LABELS[case.status],
            "keyword3": f"{local_today():%Y-%m-%d}",
            "remark": "详情请在公众号内查看",
        }
        queued.append(queue_notice(case.user_id, outcome_text(case), fields, f"case-outcome:{case.id}"))
    what = "更正" if case.resolution != "repaired" else "完成信用修复"
    for report in Report.select().where(Report.id.in_(list(report_ids))):
        queued.append(_offer_new_report(report, what))
    return queued


def _offer_new_report(report, what):
    """Queue the 'your report shows corrected data, issue a new one' notice for the report's requester."""
    user_id = report.request.user_id
    text = NEW_REPORT_TEXT.format(issued=f"{to_local(report.issued_at):%Y-%m-%d}", number=report.number, what=what)
    fields = {
        "first": "您的专用信用报告数据已更正",
        "keyword1": report.number,
        "keyword2": "数据已更正",
        "keyword3": f"{local_today():%Y-%m-%d}",
        "remark": "请发送“申请报告”重新开具",
    }
    return queue_notice(user_id, text, fields, f"report-corrected:{report.id}")
