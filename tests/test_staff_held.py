"""The console's held records (webhooks/staff/held.py): why each is held; who may release it."""

import pytest
from test_staff import PASSWORD, login, post

from models.policy.staff import create_staff
from models.tables.accounts import StaffAudit
from models.tables.records import PenaltyRecord, RecordChange


@pytest.fixture
def held(case_world):
    authority = case_world.record(decision_no="黑市监罚〔2026〕7号", authority="黑河市公安局", review="held_authority",
                                  holds=[{"code": "held_authority", "reason": "处罚机关“黑河市公安局”不在名单中"}])
    implausible = case_world.record(decision_no="黑市监简罚〔2026〕8号", procedure="简易程序", fine_wan="0.5",
                                    review="held_implausible",
                                    holds=[{"code": "held_implausible", "reason": "罚款5000元超过第五十一条上限"}])
    other = case_world.record(domain="ecology", decision_no="黑环罚〔2026〕9号", review="held_name_mismatch")
    create_staff("office-held", PASSWORD, "office")
    create_staff("market-held", PASSWORD, "department", "market")
    return authority, implausible, other


def test_a_department_sees_its_own_and_releases_what_it_may(client, held):
    authority, implausible, other = held
    login(client, "market-held")
    page = client.get("/staff/held").get_data(as_text=True)
    assert "黑市监简罚〔2026〕8号" in page and "黑环罚〔2026〕9号" not in page and "须信用办核实" in page
    assert post(client, f"/staff/held/penalty/{authority.id}/release", page="/staff/held").status_code == 403
    assert post(client, f"/staff/held/penalty/{other.id}/release", page="/staff/held").status_code == 404
    post(client, f"/staff/held/penalty/{implausible.id}/release", {"procedure": "普通程序"}, page="/staff/held")
    released = PenaltyRecord.get_by_id(implausible.id)
    assert (released.review, released.procedure) == ("verified", "普通程序")
    change = RecordChange.get(RecordChange.action == "release")
    assert change.actor == "staff:market-held" and change.before["procedure"] == "简易程序"
    assert StaffAudit.get(StaffAudit.action == "held_release").detail["reasons"] == "罚款5000元超过第五十一条上限"


def test_the_office_releases_an_authority_hold(client, held):
    authority, _implausible, other = held
    login(client, "office-held")
    assert "黑环罚〔2026〕9号" in client.get("/staff/held").get_data(as_text=True)
    post(client, f"/staff/held/penalty/{authority.id}/release", page="/staff/held")
    assert PenaltyRecord.get_by_id(authority.id).review == "verified"


def test_the_console_shows_where_a_severity_came_from(client, held, case_world):
    from models.tables.cases import Case

    login(client, "office-held")
    assert "失信程度：一般（默认）" in client.get("/staff/held").get_data(as_text=True)
    record = case_world.record(decision_no="黑市监罚〔2026〕10号", severity="严重")
    case = Case.create(number="YY-20261201-0009", kind="objection", enterprise=case_world.enterprise,
                       user=case_world.user, record=record, department=record.department, reason="理由",
                       deadline="2026-12-08")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "严重（部门报送）" in page
