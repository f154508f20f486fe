"""The console's domain page (webhooks/staff/domains.py): the credit office adds domains and edits short names."""

from test_staff import PASSWORD, login, post

from models.policy.staff import create_staff
from models.tables.accounts import StaffAudit
from models.tables.registry import Domain


def test_the_office_adds_a_domain_and_edits_its_aliases(client, app):
    create_staff("office-dom", PASSWORD, "office")
    create_staff("eco-dom", PASSWORD, "department", "ecology")
    login(client, "office-dom")
    page = "/staff/domains"
    assert "城市管理" in client.get(page).get_data(as_text=True)
    post(client, page, {"code": "tobacco", "name": "烟草专卖", "aliases": "烟草、烟草局"}, page=page)
    domain = Domain.by_code("tobacco")
    assert (domain.position, domain.alias_list()) == (17, ["烟草", "烟草局"])
    post(client, "/staff/domains/tobacco/aliases", {"aliases": "烟草，烟草专卖局"}, page=page)
    assert Domain.by_code("tobacco").alias_list() == ["烟草", "烟草专卖局"]
    post(client, "/staff/domains/tobacco/aliases", {"aliases": "市监"}, page=page)
    assert Domain.by_code("tobacco").alias_list() == ["烟草", "烟草专卖局"]  # another domain's short name
    assert "已被领域“市场监管”使用" in client.get(page).get_data(as_text=True)
    assert {"domain_add", "domain_aliases"} <= {a.action for a in StaffAudit.select()}
    post(client, "/staff/logout", page="/staff/cases")
    login(client, "eco-dom")
    assert client.get(page).status_code == 403
