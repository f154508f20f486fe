"""Who hears about a case or a review: the providing department (WeCom robot) when a case opens, the owner when it is
decided, the owners of reports that showed a corrected record (offered a new report), the applicant of a reviewed
binding. The facts are gathered here; the texts and template fields are composed from them (jobs/notice_kinds.py)."""

from jobs import wecom
from jobs.delivery import queue_notice
from models.base import to_local, utcnow
from models.policy.casework.cases import KINDS, RESOLUTIONS
from models.tables.accounts import REVIEW_APPROVED
from models.tables.cases import ACCEPTED, Case, StaffNotice
from models.tables.reports import Report


def _now_local():
    return f"{to_local(utcnow()):%Y-%m-%d %H:%M}"


def case_opened(rt, case_id):
    """Send the providing department the notice of a new case now (the sweep would within a minute)."""
    notice = StaffNotice.by_key(f"case-opened:{case_id}")
    return wecom.enqueue_notice(rt, notice.id) if notice else None


def case_decided(rt, case_id, report_ids=()):
    """Tell the owner the outcome in the chat; offer a new report to the owners of every corrected report."""
    case = Case.load(case_id)
    queued = []
    if case.user_id:
        queued.append(queue_notice(case.user_id, "case_outcome", case_facts(case), f"case-outcome:{case.id}"))
    for report in Report.among(report_ids):
        queued.append(_offer_new_report(report, case.resolution))
    return queued


def case_facts(case):
    """What the owner is told about a decided case."""
    accepted = case.status == ACCEPTED
    return {"kind": KINDS[case.kind], "number": case.number, "decision_no": case.record.decision_no,
            "accepted": accepted, "resolution": RESOLUTIONS[case.resolution] if accepted else None,
            "reason": case.resolution_reason or "", "at": _now_local()}


def _offer_new_report(report, resolution):
    """Queue the 'your report shows corrected data, issue a new one' notice for the report's requester."""
    facts = {"issued": f"{to_local(report.issued_at):%Y-%m-%d}", "number": report.number,
             "resolution": resolution, "at": _now_local()}
    return queue_notice(report.request.user_id, "report_corrected", facts, f"report-corrected:{report.id}")


def binding_decided(review):
    """Tell the applicant of a reviewed binding the decision."""
    facts = {"name": review.enterprise.name, "approved": review.status == REVIEW_APPROVED,
             "reason": review.reason or "", "at": _now_local()}
    return queue_notice(review.user_id, "binding_outcome", facts, f"binding-review:{review.id}")
