"""models/refusals.py: one base for the refusals a person reads, and the entries that render it (issue 15, item 5).

The staff console flashes a refusal on the page its view names (`refused_back_to`) or shows it on a page of its own;
the API answers `{"ok": false, "error": …}` with the refusal's status (docs/CONTRACT.md §4). No view catches a
refusal class one by one any more.
"""

import ast

import pytest
from test_staff import PASSWORD, login, post

from bot.flows.base import NotBound
from bot.flows.codes import CodeLocked, EnterpriseBusy
from bot.parse import ParseError
from devtools.layout import ROOT, production_files
from models.policy import departments
from models.policy.casework.cases import CaseError, NotEligible
from models.policy.departments import DepartmentError
from models.policy.ingestion.formats import UnreadableFile
from models.policy.ingestion.review import ReleaseRefused
from models.policy.staff import ReviewError, StaffError, create_staff
from models.policy.uscc import InvalidUSCC
from models.policy.workdays import CalendarError
from models.refusals import Refusal
from models.tables.accounts import StaffAudit
from models.tables.registry import Department, DomainError

REFUSALS = (ParseError, CodeLocked, EnterpriseBusy, NotBound, DomainError, CalendarError, CaseError, NotEligible,
            StaffError, ReviewError, InvalidUSCC, ReleaseRefused, UnreadableFile, DepartmentError)
STILL_VALUE_ERRORS = (ParseError, DomainError, CalendarError, StaffError, InvalidUSCC, DepartmentError)


@pytest.mark.parametrize("cls", REFUSALS, ids=lambda c: c.__name__)
def test_every_refusal_a_person_reads_is_a_refusal(cls):
    refusal = cls("统一社会信用代码应为18位")
    assert isinstance(refusal, Refusal) and refusal.message == "统一社会信用代码应为18位"
    assert str(refusal) == refusal.message and refusal.status == 400


@pytest.mark.parametrize("cls", STILL_VALUE_ERRORS, ids=lambda c: c.__name__)
def test_an_except_value_error_still_catches_what_it_did(cls):
    with pytest.raises(ValueError):
        raise cls("不对")


def test_a_status_given_by_the_raiser_wins():
    assert Refusal("无权报送", status=403).status == 403 and NotEligible("尚未满足", eligible_on=None).status == 400


def test_no_class_but_refusal_repeats_the_constructor():
    """The constructor that ten classes repeated (`self.message = message`) lives in models/refusals.py alone."""
    found = []
    for path in production_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for assign in ast.walk(node):
                    if isinstance(assign, ast.Assign) and any(
                            isinstance(t, ast.Attribute) and t.attr == "message" and getattr(t.value, "id", "") ==
                            "self" for t in assign.targets):
                        found.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert found == ["models/refusals.py:Refusal"]


@pytest.fixture
def office(client, app):
    create_staff("office-ref", PASSWORD, "office")
    login(client, "office-ref")
    return client


def test_the_console_flashes_a_refusal_on_the_page_the_view_names(office):
    page = "/staff/domains"
    response = post(office, page, {"code": "market", "name": "烟草专卖"}, page=page)
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    html = office.get(page).get_data(as_text=True)
    assert '<div class="flash error">“market”已被领域“市场监管”使用。</div>' in html
    assert not StaffAudit.select().where(StaffAudit.action == "domain_add").exists()  # refused: nothing audited


def test_the_console_goes_back_to_the_page_of_the_thing_refused(office):
    page = "/staff/departments/market"
    response = post(office, f"{page}/grants", {"kind": "penalty"}, page=page)  # a domain kind without its domain
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    assert 'class="flash error"' in office.get(page).get_data(as_text=True)


def test_a_refusal_from_a_view_naming_no_page_is_shown_with_its_status(app, office):
    def refusing():
        raise DepartmentError("该部门已停用，无法查看。", status=409)

    app.view_functions["staff.cases"] = refusing
    response = office.get("/staff/cases")
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "该部门已停用，无法查看。" in html and "未能办理" in html
    assert response.headers["Content-Security-Policy"]  # the console's headers, as on every page of it


def test_the_api_renders_a_refusal_as_its_error_with_its_status(app, client):
    key = departments.create_api_key(Department.get(Department.code == "housing"))
    headers = {"Authorization": f"Bearer {key}"}
    forbidden = client.post("/api/v1/records", json={"kind": "social_arrears", "items": [{}]}, headers=headers)
    assert forbidden.status_code == 403
    assert forbidden.get_json() == {"ok": False, "error": "黑河市住房和城乡建设局无权报送社保欠缴数据"}
    unknown = client.post("/api/v1/records", json={"kind": "penalty", "items": [{}]})
    assert unknown.status_code == 401 and unknown.get_json()["ok"] is False and "Bearer" in unknown.get_json()["error"]

    def refusing():
        raise UnreadableFile("文件无法读取：不是有效的表格。")

    app.view_functions["api.push_records"] = refusing
    unreadable = client.post("/api/v1/records", json={}, headers=headers)
    assert unreadable.status_code == 400
    assert unreadable.get_json() == {"ok": False, "error": "文件无法读取：不是有效的表格。"}
