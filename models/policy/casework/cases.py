"""Objections (异议申诉) and credit-repair requests (信用修复) as cases: eligibility, opening, the review states.

Credit repair follows 《信用修复管理办法》（国家发展改革委令第36号, in force from 2026-04-01; it abolished 令第58号): an
administrative penalty may be repaired once its minimum publicity period has passed — 轻微: none, 一般: 3 months,
严重: 1 year, counted from the decision date — when the penalty has been carried out and the enterprise makes a public
信用承诺 (a signed 信用承诺书 photo; the department checks it in review). The class is the department's (see
`models/policy/casework/severity.py`); a refusal says from when the owner may apply. A department's own repair
decision (修复决定, 谁认定谁修复) is recorded as sent through the repairs import, without these checks.

Deadlines are counted in working days after the day a case is opened (weekends and the national calendar in the
`Holiday` table observed): objections 5 (the providing department verifies and answers), repairs 5 (the deciding
department decides after acceptance). Both are settings (`CASE_DEADLINE_OBJECTION_DAYS`, `CASE_DEADLINE_REPAIR_DAYS`).
"""

import datetime as dt
from dataclasses import dataclass

from peewee import IntegrityError

from models.base import db, local_today, utcnow
from models.policy.casework.severity import MIN_PUBLICITY_MONTHS, record_severity, repair_eligible_on
from models.policy.report.corrections import mark_reports_corrected
from models.policy.report.numbering import next_sequence
from models.policy.report.present import cn_date
from models.policy.report.rules import is_no_penalty
from models.policy.workdays import add_workdays
from models.refusals import Refusal
from models.tables.accounts import Binding
from models.tables.cases import (
    ACCEPTED,
    IN_REVIEW,
    OBJECTION,
    OPEN_STATES,
    REJECTED,
    REPAIR_REQUEST,
    SUBMITTED,
    Case,
    CaseEvent,
    CaseEvidence,
    StaffNotice,
)
from models.tables.records import (
    ACTIVE,
    CORRECTED,
    REPAIRED,
    VERIFIED,
    WITHDRAWN,
    CreditRepair,
    PenaltyRecord,
    RecordChange,
)

KINDS = {OBJECTION: "异议申诉", REPAIR_REQUEST: "信用修复"}
NUMBER_PREFIX = {OBJECTION: "YY", REPAIR_REQUEST: "XF"}
DEFAULT_DEADLINE_DAYS = {OBJECTION: 5, REPAIR_REQUEST: 5}
DEADLINE_SETTINGS = {OBJECTION: "CASE_DEADLINE_OBJECTION_DAYS", REPAIR_REQUEST: "CASE_DEADLINE_REPAIR_DAYS"}
RESOLUTIONS = {CORRECTED: "记录已更正", WITHDRAWN: "记录已撤回", REPAIRED: "已完成信用修复"}
STATUS_LABELS = {SUBMITTED: "已提交", IN_REVIEW: "审核中", ACCEPTED: "已受理办结", REJECTED: "不予支持"}
REASON_MAX = 1000


class CaseError(Refusal):
    """A case cannot be opened or moved; `message` is a Chinese sentence for the owner or the staff member."""


class NotEligible(CaseError):
    """A credit-repair request whose record is not yet eligible; the message says why and, when known, from when."""

    def __init__(self, message, eligible_on=None):
        super().__init__(message)
        self.eligible_on = eligible_on


@dataclass(frozen=True)
class Eligibility:
    severity: str
    eligible_on: dt.date


def open_case_for(record):
    """The open case about `record`, or None."""
    return Case.select().where((Case.record == record) & Case.status.in_(OPEN_STATES)).first()


def check_repair_eligibility(record, today=None):
    """Raise NotEligible with the reason when `record` cannot be repaired yet; return its Eligibility otherwise."""
    today = today or local_today()
    if record.status == REPAIRED:
        raise NotEligible("该处罚记录已完成信用修复，无需重复申请。")
    if record.status in (CORRECTED, WITHDRAWN):
        raise NotEligible("该处罚记录已由部门更正或撤回，无需申请信用修复。")
    pending = open_case_for(record)
    if pending is not None:
        raise NotEligible(f"该处罚记录已有正在办理的申请（编号 {pending.number}），请等待办理结果。")
    severity = record_severity(record)
    eligible_on = repair_eligible_on(record, severity)
    if today < eligible_on:
        months = MIN_PUBLICITY_MONTHS[severity.level]
        raise NotEligible(
            f"该处罚属于{severity.level}失信信息，依《信用修复管理办法》（国家发展改革委令第36号），最短公示期为"
            f"{months}个月（自处罚决定之日 {cn_date(record.decided_on)} 起算），尚未期满。"
            f"请于 {cn_date(eligible_on)} 起再申请信用修复。",
            eligible_on=eligible_on,
        )
    return Eligibility(severity=severity.level, eligible_on=eligible_on)


def records_for_case(enterprise, kind):
    """Penalty records the owner may raise an objection (kind='objection') or a repair (kind='repair') about; a
    decision not to punish has nothing to repair."""
    states = (ACTIVE, REPAIRED) if kind == OBJECTION else (ACTIVE,)
    busy = Case.select(Case.record).where(Case.status.in_(OPEN_STATES))
    records = (
        PenaltyRecord.select()
        .where(
            (PenaltyRecord.enterprise == enterprise)
            & PenaltyRecord.status.in_(states)
            & (PenaltyRecord.review == VERIFIED)
            & PenaltyRecord.id.not_in(busy)
        )
        .order_by(PenaltyRecord.decided_on.desc(), PenaltyRecord.id.desc())
    )
    return [r for r in records if kind == OBJECTION or not is_no_penalty(r)]


def deadline_days(kind, settings=None):
    """Working days allowed for a case of `kind`, from the settings mapping (config) or the default."""
    settings = settings or {}
    return int(settings.get(DEADLINE_SETTINGS[kind], DEFAULT_DEADLINE_DAYS[kind]))


def case_number(kind, day):
    """`YY-20261127-0001` (objection) / `XF-…` (repair), from the database sequence of the day."""
    prefix = NUMBER_PREFIX[kind]
    return f"{prefix}-{day:%Y%m%d}-{next_sequence(prefix, day):04d}"


def _check_request(kind, user, enterprise, record, reason):
    """Raise CaseError when the request itself is malformed or not the owner's to make."""
    if kind not in KINDS:
        raise CaseError("无法识别的申请类型。")
    if record.enterprise_id != enterprise.id:
        raise CaseError("所选处罚记录不属于该企业，请重新选择。")
    if not reason.strip():
        raise CaseError(f"请说明{KINDS[kind]}的理由。")
    if len(reason) > REASON_MAX:
        raise CaseError(f"理由请控制在 {REASON_MAX} 字以内。")
    if user is not None and not (
        Binding.select()
        .where((Binding.user == user) & (Binding.enterprise == enterprise) & Binding.revoked_at.is_null())
        .exists()
    ):
        raise CaseError("您尚未绑定该企业，请先发送“绑定企业”完成绑定。")


def open_case(
    kind, user, enterprise, record, reason, msg_key, evidence_blob_ids=(), commitment_blob_id=None,
    *, penalty_fulfilled=None, settings=None, today=None,
):
    """Open a case (idempotent per msg_key), notify the providing department; return the Case.

    `settings` is the configuration mapping (deadline days); `penalty_fulfilled=False` (the owner says the penalty
    is not yet carried out) refuses a repair. The department's notice is a StaffNotice row that the WeCom outbox
    (`jobs.wecom`) sends; call `jobs.notices.case_opened(rt, case.id)` to send it at once.
    """
    existing = Case.get_or_none(Case.msg_key == msg_key) if msg_key else None
    if existing is not None:
        return existing
    reason = (reason or "").strip()
    _check_request(kind, user, enterprise, record, reason)
    today = today or local_today()
    if kind == REPAIR_REQUEST:
        _check_repair_request(record, penalty_fulfilled, commitment_blob_id, today)
    elif (pending := open_case_for(record)) is not None:
        raise CaseError(f"该处罚记录已有正在办理的申请（编号 {pending.number}），请等待办理结果。")
    try:
        with db.atomic():
            return _create_case(kind, user, enterprise, record, reason, msg_key, evidence_blob_ids,
                                commitment_blob_id, settings, today)
    except IntegrityError:
        existing = Case.get_or_none(Case.msg_key == msg_key) if msg_key else None
        if existing is None:
            raise
        return existing


def _check_repair_request(record, penalty_fulfilled, commitment_blob_id, today):
    """Raise when a repair request lacks what 令第36号 requires."""
    check_repair_eligibility(record, today)
    if penalty_fulfilled is False:
        raise NotEligible("信用修复须先履行行政处罚决定（如缴清罚款），履行完毕后再申请。")
    if not commitment_blob_id:
        raise CaseError("申请信用修复须提交加盖公章的《信用承诺书》照片，请上传后再提交。")


def _create_case(kind, user, enterprise, record, reason, msg_key, evidence_blob_ids, commitment_blob_id,
                 settings, today):
    """Insert the case, its evidence, its first event and the department's notice (inside a transaction)."""
    case = Case.create(
        number=case_number(kind, today), kind=kind, enterprise=enterprise, user=user, record=record,
        department=record.department_id, reason=reason, status=SUBMITTED,
        deadline=_deadline(kind, today, settings), msg_key=msg_key,
    )
    for blob_id in evidence_blob_ids or ():
        CaseEvidence.create(case=case, blob=blob_id, label="证明材料")
    if commitment_blob_id:
        CaseEvidence.create(case=case, blob=commitment_blob_id, label="信用承诺书")
    CaseEvent.create(case=case, actor=_owner_actor(user), action=SUBMITTED, note=reason)
    # The notice's markdown is composed when it is sent (jobs/staff_markdown.py); the row keeps the facts.
    StaffNotice.create(dedup_key=f"case-opened:{case.id}", kind="case_opened", department=case.department_id,
                       case=case, robot_url=case.department.robot_url)
    return case


def _deadline(kind, today, settings):
    return add_workdays(today, deadline_days(kind, settings))


def _owner_actor(user):
    return f"wechat:{user.openid}" if user is not None else "owner"


def _event(case, actor, action, note=""):
    return CaseEvent.create(case=case, actor=actor, action=action, note=note)


def _reload_for_update(case):
    """The case row re-read inside the transaction (SELECT … FOR UPDATE on PostgreSQL)."""
    query = Case.select().where(Case.id == case.id)
    if db.obj.for_update:
        query = query.for_update()
    return query.get()


def start_review(case, actor):
    """submitted → in review."""
    with db.atomic():
        case = _reload_for_update(case)
        if case.status != SUBMITTED:
            raise CaseError(f"该案件当前状态为“{STATUS_LABELS[case.status]}”，不能受理审核。")
        case.status = IN_REVIEW
        case.save()
        _event(case, actor, IN_REVIEW)
    return case


def reject_case(case, actor, reason):
    """in review → rejected, with the reason the owner will read."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError("请填写不予支持的理由。")
    with db.atomic():
        case = _reload_for_update(case)
        _require_in_review(case)
        case.status, case.resolution_reason, case.resolved_at = REJECTED, reason, utcnow()
        case.save()
        _event(case, actor, REJECTED, reason)
    return case


def accept_case(case, actor, resolution, reason):
    """in review → accepted: the record is corrected, withdrawn or repaired; return (case, affected report ids)."""
    reason = (reason or "").strip()
    if resolution not in RESOLUTIONS:
        raise CaseError("请选择办理结果：记录已更正、记录已撤回或已完成信用修复。")
    if not reason:
        raise CaseError("请填写办理说明。")
    with db.atomic():
        case = _reload_for_update(case)
        _require_in_review(case)
        case.status, case.resolution, case.resolution_reason, case.resolved_at = ACCEPTED, resolution, reason, utcnow()
        case.save()
        _change_record(case, actor, resolution, reason)
        _event(case, actor, ACCEPTED, f"{RESOLUTIONS[resolution]}：{reason}")
        report_ids = mark_reports_corrected(case.record_id, f"{RESOLUTIONS[resolution]}（{case.number}）")
    return case, report_ids


def _require_in_review(case):
    if case.status != IN_REVIEW:
        raise CaseError(f"该案件当前状态为“{STATUS_LABELS[case.status]}”，请先受理审核再作出决定。")


def _change_record(case, actor, resolution, reason):
    """Apply the outcome to the penalty record, with an audit row (and a CreditRepair for a repair)."""
    record = PenaltyRecord.get_by_id(case.record_id)
    before = {"status": record.status}
    record.status, record.updated_at = resolution, utcnow()
    record.save()
    if resolution == REPAIRED:
        CreditRepair.get_or_create(
            record=record, decision_no=case.number,
            defaults={"repaired_on": local_today(), "department": case.department_id, "note": reason},
        )
    RecordChange.create(
        table="penalty_record", record_id=record.id, action=f"case_{resolution}", actor=actor,
        before=before, after={"status": resolution, "case": case.number},
    )


def is_overdue(case, today=None):
    """True when an open case is past its deadline."""
    return case.status in OPEN_STATES and (today or local_today()) > case.deadline
