import datetime as dt

import pytest

from models.policy.casework.cases import (
    CaseError,
    NotEligible,
    accept_case,
    check_repair_eligibility,
    open_case,
    records_for_case,
    reject_case,
    start_review,
)
from models.tables.accounts import WechatUser
from models.tables.blobs import StoredBlob
from models.tables.cases import ACCEPTED, IN_REVIEW, REJECTED, SUBMITTED, Case, CaseEvent, CaseEvidence, StaffNotice
from models.tables.records import CreditRepair, PenaltyRecord, RecordChange

TODAY = dt.date(2026, 11, 27)  # a Friday


def _blob(name="承诺书.jpg"):
    return StoredBlob.create(mime="image/jpeg", filename=name, content=b"\xff\xd8jpeg").id


def test_repair_not_yet_eligible_says_when(case_world):
    serious = case_world.record(severity="严重", decided_on=dt.date(2026, 3, 10))
    with pytest.raises(NotEligible) as err:
        check_repair_eligibility(serious, today=TODAY)
    assert err.value.eligible_on == dt.date(2027, 3, 10)
    assert "2027年3月10日" in err.value.message and "严重" in err.value.message
    general = case_world.record(decided_on=dt.date(2026, 8, 27))
    assert check_repair_eligibility(general, today=TODAY).eligible_on == dt.date(2026, 11, 27)
    with pytest.raises(NotEligible):
        check_repair_eligibility(general, today=TODAY - dt.timedelta(days=1))


def test_repair_refused_without_commitment_or_unfulfilled(case_world):
    record = case_world.record()
    w = case_world
    with pytest.raises(CaseError, match="信用承诺书"):
        open_case("repair", w.user, w.enterprise, record, "已整改", "m1", today=TODAY)
    with pytest.raises(NotEligible, match="履行"):
        open_case("repair", w.user, w.enterprise, record, "已整改", "m2", commitment_blob_id=_blob(),
                  penalty_fulfilled=False, today=TODAY)
    assert Case.select().count() == 0 and StaffNotice.select().count() == 0


def test_open_objection_numbers_deadline_evidence_event_notice(case_world):
    w = case_world
    record = w.record()
    case = open_case("objection", w.user, w.enterprise, record, "该处罚已被复议撤销", "msg-1",
                     evidence_blob_ids=[_blob("复议决定.jpg")], today=TODAY,
                     settings={"CASE_DEADLINE_OBJECTION_DAYS": 5})
    assert case.number == "YY-20261127-0001"
    assert case.deadline == dt.date(2026, 12, 4)
    assert case.status == SUBMITTED and case.department.code == "market"
    assert [e.label for e in CaseEvidence.select().where(CaseEvidence.case == case)] == ["证明材料"]
    assert [e.action for e in case.events] == [SUBMITTED]
    notice = StaffNotice.get(StaffNotice.case == case)  # the facts: jobs/staff_markdown.py composes the markdown
    assert (notice.kind, notice.department_id, notice.body) == ("case_opened", case.department_id, "")
    # Idempotent per msg_key; a second objection on the same record is refused while this one is open.
    assert open_case("objection", w.user, w.enterprise, record, "x", "msg-1", today=TODAY).id == case.id
    with pytest.raises(CaseError, match="正在办理"):
        open_case("objection", w.user, w.enterprise, record, "再次申诉", "msg-2", today=TODAY)
    assert record not in records_for_case(w.enterprise, "objection")
    second = open_case("repair", w.user, w.enterprise, w.record(), "已整改完毕", "msg-3",
                       commitment_blob_id=_blob(), today=TODAY)
    assert second.number == "XF-20261127-0001"
    assert Case.select().count() == 2 and StaffNotice.select().count() == 2


def test_open_case_checks_binding_and_ownership(case_world):
    w = case_world
    stranger = WechatUser.create(openid="o-stranger")
    with pytest.raises(CaseError, match="绑定"):
        open_case("objection", stranger, w.enterprise, w.record(), "理由", "m-x", today=TODAY)
    with pytest.raises(CaseError, match="理由"):
        open_case("objection", w.user, w.enterprise, w.record(), "   ", "m-y", today=TODAY)
    assert Case.select().count() == 0


def test_deadline_across_national_day(case_world):
    w = case_world
    case = open_case("objection", w.user, w.enterprise, w.record(), "理由", "m-nd", today=dt.date(2026, 9, 30))
    assert case.deadline == dt.date(2026, 10, 13)


def test_accept_as_repaired_changes_record_and_history(case_world):
    w = case_world
    record = w.record()
    case = open_case("repair", w.user, w.enterprise, record, "已整改", "m-r", commitment_blob_id=_blob(),
                     today=TODAY)
    with pytest.raises(CaseError, match="受理审核"):
        accept_case(case, "staff:a", "repaired", "同意修复")
    case = start_review(case, "staff:a")
    case, report_ids = accept_case(case, "staff:a", "repaired", "材料齐全，同意修复")
    assert case.status == ACCEPTED and report_ids == []
    record = PenaltyRecord.get_by_id(record.id)
    assert record.status == "repaired"
    assert CreditRepair.get(CreditRepair.record == record).decision_no == case.number
    assert RecordChange.get(RecordChange.record_id == record.id).after["status"] == "repaired"
    assert [e.action for e in CaseEvent.select().where(CaseEvent.case == case).order_by(CaseEvent.id)] == [
        SUBMITTED, IN_REVIEW, ACCEPTED
    ]
    assert (case.resolution, case.resolution_reason) == ("repaired", "材料齐全，同意修复")
    with pytest.raises(CaseError):
        reject_case(case, "staff:a", "迟到的拒绝")


def test_reject_needs_reason_and_leaves_record(case_world):
    w = case_world
    record = w.record()
    case = start_review(open_case("objection", w.user, w.enterprise, record, "理由", "m-j", today=TODAY), "s")
    with pytest.raises(CaseError):
        reject_case(case, "s", " ")
    case = reject_case(case, "s", "经核实处罚事实清楚")
    assert case.status == REJECTED and PenaltyRecord.get_by_id(record.id).status == "active"
    assert case.resolution_reason == "经核实处罚事实清楚"
    assert record in records_for_case(w.enterprise, "objection")

