"""The console's department pages (webhooks/staff/departments.py): add, grants, authorities, default severity."""

import pytest
from test_staff import PASSWORD, login, post

from models.policy.staff import create_staff
from models.tables.accounts import StaffAudit
from models.tables.registry import Department, DepartmentGrant


@pytest.fixture
def office(client, app):
    create_staff("office-dept", PASSWORD, "office")
    create_staff("market-dept", PASSWORD, "department", "market")
    login(client, "office-dept")
    return client


def actions():
    return [a.action for a in StaffAudit.select().order_by(StaffAudit.id)]


def test_the_office_adds_a_county_bureau_and_grants_it_more(office):
    page = "/staff/departments"
    response = post(office, page, {"code": "beian_market", "name": "北安市市场监督管理局", "kind": "penalty",
                                   "domain": "market"}, page=page)
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/departments/beian_market")
    department = Department.by_code("beian_market")
    post(office, "/staff/departments/beian_market/grants", {"kind": "enforcement", "domain": "market"}, page=page)
    assert {(g.kind, g.domain.code) for g in department.grant_list()} == {
        ("penalty", "market"), ("enforcement", "market")}
    grant = DepartmentGrant.get(department=department, kind="enforcement")
    post(office, f"/staff/departments/beian_market/grants/{grant.id}/revoke", page=page)
    assert [g.kind for g in department.grant_list()] == ["penalty"]
    refused = post(office, page, {"code": "beian_market", "name": "重复", "kind": "criminal"}, page=page)
    assert refused.status_code == 303 and "已存在" in office.get(page).get_data(as_text=True)
    assert actions()[-3:] == ["department_add", "grant_add", "grant_revoke"]


def test_the_office_edits_authorities_and_the_default_severity(office):
    page = "/staff/departments/market"
    html = office.get(page).get_data(as_text=True)
    assert "孙吴县市场监督管理局" in html and "执法机关名单" in html
    names = "爱辉区市场监督管理局\n北安市市场监督管理局\n新设开发区市场监管分局"
    post(office, f"{page}/authorities", {"authorities": names}, page=page)
    market = Department.by_code("market")
    assert market.authority_names() == ["黑河市市场监督管理局", "爱辉区市场监督管理局", "北安市市场监督管理局",
                                        "新设开发区市场监管分局"]
    audit = StaffAudit.get(StaffAudit.action == "authorities_set")
    assert audit.detail["added"] == ["新设开发区市场监管分局"] and "孙吴县市场监督管理局" in audit.detail["removed"]
    post(office, f"{page}/severity", {"severity": "严重"}, page=page)
    assert Department.by_code("market").default_severity == "严重"
    assert 'value="严重" selected' in office.get(page).get_data(as_text=True)
    post(office, f"{page}/severity", {"severity": "很重"}, page=page)
    assert Department.by_code("market").default_severity == "严重"


def test_a_department_cannot_touch_departments(client, office):
    post(client, "/staff/logout", page="/staff/cases")
    login(client, "market-dept")
    assert client.get("/staff/departments").status_code == 403
    response = post(client, "/staff/departments/market/authorities", {"authorities": "黑河市公安局"},
                    page="/staff/cases")
    assert response.status_code == 403 and "黑河市公安局" not in Department.by_code("market").authority_names()
