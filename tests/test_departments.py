"""`flask department add|key|revoke|grant` (commands/departments.py) and models.policy.departments."""

import pytest

from models.policy import departments
from models.tables.registry import Department, DepartmentGrant


def grants(code):
    return {(g.kind, g.domain.code if g.domain else None) for g in Department.by_code(code).grant_list()}


def test_department_add_with_grants_and_authorities(runner):
    result = runner.invoke(args=["department", "add", "aihui_market", "爱辉区市场监督管理局",
                                 "--grant", "penalty:market", "--grant", "enforcement:market",
                                 "--grant", "repair:market",
                                 "--authority", "爱辉区市场监督管理局西岗子所"])
    assert result.exit_code == 0, result.output
    assert "已添加爱辉区市场监督管理局（aihui_market）" in result.stdout
    assert grants("aihui_market") == {("penalty", "market"), ("enforcement", "market"), ("repair", "market")}
    assert Department.by_code("aihui_market").authority_names() == [
        "爱辉区市场监督管理局", "爱辉区市场监督管理局西岗子所"]


@pytest.mark.parametrize("args, needle", [
    (["x_dept", "某局", "--grant", "penalty"], "按领域授权"),
    (["x_dept", "某局", "--grant", "social_arrears:market"], "不分领域"),
    (["x_dept", "某局", "--grant", "penalty:nowhere"], "领域“nowhere”不存在"),
    (["x_dept", "某局", "--grant", "crime"], "数据类型“crime”不存在"),
    (["market", "某局", "--grant", "criminal"], "部门代码“market”已存在"),
    (["X", "某局", "--grant", "criminal"], "部门代码应为"),
])
def test_department_add_refusals(runner, args, needle):
    result = runner.invoke(args=["department", "add", *args])
    assert result.exit_code == 1 and needle in result.stderr
    assert Department.by_code("x_dept") is None


def test_department_grant_checks_the_domain(runner):
    assert runner.invoke(args=["department", "grant", "market", "enforcement", "market"]).exit_code == 0
    assert ("enforcement", "market") in grants("market")
    refused = runner.invoke(args=["department", "grant", "market", "enforcement"])
    assert refused.exit_code == 1 and "按领域授权" in refused.stderr


def test_authorities_seeded_for_the_seeded_departments(app):
    market = Department.by_code("market")
    assert market.authority_names() == ["黑河市市场监督管理局", "爱辉区市场监督管理局", "北安市市场监督管理局",
                                        "五大连池市市场监督管理局", "嫩江市市场监督管理局", "逊克县市场监督管理局",
                                        "孙吴县市场监督管理局"]
    assert "黑河市生态环境局逊克分局" in Department.by_code("ecology").authority_names()
    assert "孙吴县人民法院" in Department.by_code("court").authority_names()
    assert market.set_authorities(["爱辉区市场监督管理局", "黑河市市场监督管理局", " "]) == (
        [], ["北安市市场监督管理局", "五大连池市市场监督管理局", "嫩江市市场监督管理局", "逊克县市场监督管理局",
             "孙吴县市场监督管理局"])
    assert market.authority_keys() == {"黑河市市场监督管理局", "爱辉区市场监督管理局"}


def test_revoke_grant_and_default_severity(app):
    market = Department.by_code("market")
    grant = DepartmentGrant.get(department=market, kind="repair")
    assert departments.revoke_grant(market, grant.id) == ("repair", grant.domain)
    assert departments.revoke_grant(Department.by_code("ecology"), grant.id) is None
    departments.set_default_severity(market, "严重")
    assert Department.by_code("market").default_severity == "严重"
    with pytest.raises(departments.DepartmentError):
        departments.set_default_severity(market, "很重")
    departments.set_default_severity(market, "")
    assert Department.by_code("market").default_severity is None
