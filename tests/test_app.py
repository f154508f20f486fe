from models.tables.registry import Department, DepartmentGrant, Domain
from models.tables.schema import MIGRATIONS, SchemaVersion


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_healthz_reports_redis_down(app_config):
    from app import create_app

    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    application = create_app(app_config)
    with application.app_context():
        from models.tables.schema import upgrade

        upgrade()
    response = application.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")


def test_init_db_seeds_domains_in_seed_order_and_is_idempotent(runner):
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0 and second.exit_code == 0
    codes = [d.code for d in Domain.ordered()]
    assert codes[:3] == ["hrss", "natural_resources", "ecology"] and codes[-1] == "urban"
    assert len(codes) == 16
    # 16 domain departments, tax, housing_fund, the credit office and the court (刑事, 565号)
    assert Department.select().count() == 20
    keepers = DepartmentGrant.select().join(Department).where(DepartmentGrant.kind == "enterprise")
    assert [g.department.code for g in keepers] == ["credit_office"]  # the register is the credit office's alone
    assert SchemaVersion.select().count() == len(MIGRATIONS)
    hrss = Department.get(Department.code == "hrss")
    assert {g.kind for g in DepartmentGrant.select().where(DepartmentGrant.department == hrss)} == {
        "penalty", "repair", "social_arrears"
    }


def test_sessions_without_a_cookie_are_empty_and_a_signed_one_is_read(app):
    from flask import request

    from webhooks.security import SessionCookies

    sessions = app.session_interface
    assert isinstance(sessions, SessionCookies)
    with app.test_request_context("/wechat"):
        opened = sessions.open_session(app, request)
        assert dict(opened) == {} and not opened.modified
    cookie = sessions.get_signing_serializer(app).dumps({"staff": "s-1"})
    with app.test_request_context("/", headers={"Cookie": f"{sessions.get_cookie_name(app)}={cookie}"}):
        assert dict(sessions.open_session(app, request)) == {"staff": "s-1"}
    with app.test_request_context("/", headers={"Cookie": f"{sessions.get_cookie_name(app)}=forged"}):
        assert dict(sessions.open_session(app, request)) == {}
