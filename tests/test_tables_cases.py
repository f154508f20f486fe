"""models/tables/cases.py: which cases a console user sees, the open ones by deadline, a case's evidence and history,
and the WeCom notices' states."""

import datetime as dt

from models.tables.blobs import StoredBlob
from models.tables.cases import (
    IN_REVIEW,
    NOTICE_FAILED,
    NOTICE_LOGGED,
    NOTICE_PENDING,
    NOTICE_SENT,
    OBJECTION,
    REJECTED,
    REPAIR_REQUEST,
    Case,
    CaseEvent,
    CaseEvidence,
    StaffNotice,
)
from models.tables.registry import Department


def _case(world, number, domain="market", kind=OBJECTION, status="submitted", days=5):
    record = world.record(domain)
    return Case.create(number=number, kind=kind, enterprise=world.enterprise, user=world.user, record=record,
                       department=record.department, reason="理由", status=status,
                       deadline=dt.date(2026, 12, 1) + dt.timedelta(days=days))


def test_visible_to_a_department_its_own_and_to_the_office_all_with_filters(case_world):
    market = _case(case_world, "YY-1")
    ecology = _case(case_world, "YY-2", domain="ecology", kind=REPAIR_REQUEST, status=IN_REVIEW)
    closed = _case(case_world, "YY-3", status=REJECTED)
    market_id = Department.get(Department.code == "market").id
    assert [c.id for c in Case.visible_to(None)] == [closed.id, ecology.id, market.id]
    assert [c.id for c in Case.visible_to(market_id)] == [closed.id, market.id]
    assert [c.id for c in Case.visible_to(None, statuses=("submitted", IN_REVIEW))] == [ecology.id, market.id]
    assert [c.id for c in Case.visible_to(None, kind=REPAIR_REQUEST)] == [ecology.id]
    assert [c.id for c in Case.visible_to(None, department_code="ecology")] == [ecology.id]
    assert len(Case.visible_to(None, limit=1)) == 1


def test_open_cases_come_by_deadline_and_a_missing_case_is_none(case_world):
    late = _case(case_world, "YY-1", days=9)
    soon = _case(case_world, "YY-2", days=1)
    _case(case_world, "YY-3", status=REJECTED, days=0)
    assert [c.id for c in Case.open_by_deadline()] == [soon.id, late.id]
    assert Case.find(late.id).number == "YY-1" and Case.find(99999) is None


def test_evidence_history_placeholders_and_who_sees_a_blob(case_world):
    case = _case(case_world, "YY-1")
    photo, other = StoredBlob.media_placeholder("m-1"), StoredBlob.media_placeholder("m-2")
    CaseEvidence.create(case=case, blob=photo, label="证据")
    CaseEvidence.create(case=case, blob=other, label="证据")
    assert [e.blob_id for e in case.evidence_list()] == [photo.id, other.id]
    assert CaseEvidence.placeholder(case.id, "m-2").id == other.id
    assert CaseEvidence.placeholder(case.id, "m-3") is None
    assert CaseEvidence.departments_showing(photo.id) == [case.department_id]
    CaseEvent.note_once(case.id, "system", "evidence_missing", "微信临时素材已失效")
    CaseEvent.note_once(case.id, "system", "evidence_missing", "微信临时素材已失效")
    CaseEvent.create(case=case, actor="staff:a", action="review")
    assert [e.action for e in case.history()] == ["evidence_missing", "review"]


def test_a_notice_queued_once_then_sent_failed_logged_or_given_up(app):
    first = StaffNotice.queue_once("daily:r:2026-12-01", "daily_reminder", "## 每日提醒", robot_url="https://r")
    assert StaffNotice.queue_once("daily:r:2026-12-01", "daily_reminder", "again") is None
    second = StaffNotice.queue_once("daily:s:2026-12-01", "daily_reminder", "## 每日提醒")
    third = StaffNotice.queue_once("daily:t:2026-12-01", "daily_reminder", "## 每日提醒")
    assert [n.id for n in StaffNotice.pending()] == [first.id, second.id, third.id]
    assert StaffNotice.note_failure([first.id], "errcode 93000") == 1
    assert StaffNotice.note_failure([first.id, second.id], "timeout") == 2
    StaffNotice.mark_sent([first.id])
    assert [n.id for n in StaffNotice.pending_among([first.id, second.id])] == [second.id]
    StaffNotice.load(second.id).reroute("https://default")
    StaffNotice.load(second.id).give_up()
    StaffNotice.load(third.id).mark_logged()
    states = {n.id: (n.state, n.attempts, n.robot_url) for n in StaffNotice.select()}
    assert states == {first.id: (NOTICE_SENT, 3, "https://r"), second.id: (NOTICE_FAILED, 1, "https://default"),
                      third.id: (NOTICE_LOGGED, 0, None)}
    assert StaffNotice.pending() == [] and NOTICE_PENDING == "pending"
