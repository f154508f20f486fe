"""Rate limits on misses (guessed tokens and lookups), the proxy setting, security headers; limits live in Redis."""

import pytest

from app import create_app
from jobs.views import flush_view_log
from models.tables.views import ViewLog


def _guess(client, n, ip="203.0.113.7", headers=None):
    return [client.get(f"/v/guess{i:04d}-{'x' * 20}", environ_base={"REMOTE_ADDR": ip}, headers=headers or {})
            for i in range(n)]


def test_token_guessing_is_limited_but_genuine_views_are_not_counted(client, make_signed_report, rt):
    report = make_signed_report()
    ip = {"REMOTE_ADDR": "203.0.113.7"}
    assert {r.status_code for r in _guess(client, 29)} == {404}
    for _ in range(60):  # a bank clerk checking genuine reports all day is never blocked
        assert client.get(f"/v/{report.token}", environ_base=ip).status_code == 200
    assert _guess(client, 1)[0].status_code == 404  # the 30th miss
    blocked = _guess(client, 1)[0]
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert "请稍后再试" in html and "guess" not in html and blocked.headers["Retry-After"] == "60"
    assert blocked.headers["X-Robots-Tag"] == "noindex, nofollow" and "default-src 'none'" in \
        blocked.headers["Content-Security-Policy"]
    assert client.get(f"/v/guess-{'y' * 20}/json", environ_base=ip).status_code == 429  # one budget for /v/…
    assert _guess(client, 1, ip="198.51.100.20")[0].status_code == 404  # another client is not affected
    assert list(rt.redis.scan_iter("*hegui-limit/203.0.113.7/verify-token-miss*"))  # in Redis: shared by all nodes
    other_node = create_app(dict(rt.config)).test_client()
    assert other_node.get(f"/v/guess-{'z' * 20}", environ_base=ip).status_code == 429
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert ViewLog.select().count() == 1  # the 60 refreshes within a minute were one view


def test_lookup_guessing_is_limited_and_successes_are_not_counted(client, make_signed_report):
    report = make_signed_report()
    ip = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(15):
        ok = client.post("/verify", data={"number": report.number, "code": report.check_code}, environ_base=ip)
        assert ok.status_code == 303
    for i in range(10):
        miss = client.post("/verify", data={"number": report.number, "code": f"WRONG{i:05d}"}, environ_base=ip)
        assert miss.status_code == 404
    blocked = client.post("/verify", data={"number": report.number, "code": report.check_code}, environ_base=ip)
    assert blocked.status_code == 429 and "请稍后再试" in blocked.get_data(as_text=True)
    assert client.get("/verify", query_string={"number": report.number, "code": "X"}, environ_base=ip).status_code \
        == 429
    other = client.post("/verify", data={"number": report.number, "code": report.check_code},
                        environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert other.status_code == 303


def test_forwarded_for_is_ignored_without_a_configured_proxy(client):
    spoofed = [client.get(f"/v/guess{i:04d}-{'x' * 20}", headers={"X-Forwarded-For": f"10.9.0.{i}"})
               for i in range(31)]
    assert spoofed[-1].status_code == 429  # a new fake address per request does not reset the count


@pytest.fixture
def proxied_client(app_config):
    app_config["PROXY_COUNT"] = 1
    application = create_app(app_config)
    with application.app_context():
        from models.tables.schema import seed, upgrade

        upgrade()
        seed()
    return application.test_client()


def test_forwarded_for_is_honoured_behind_one_proxy(proxied_client):
    blocked = _guess(proxied_client, 31, headers={"X-Forwarded-For": "192.0.2.1"})[-1]
    assert blocked.status_code == 429
    other = _guess(proxied_client, 1, headers={"X-Forwarded-For": "192.0.2.2"})[0]
    assert other.status_code == 404  # the proxy's own address is shared; the client's is what counts


def test_security_headers_on_every_verify_response(client, make_signed_report):
    report = make_signed_report()
    for path in (f"/v/{report.token}", f"/v/{report.token}/json", f"/v/{report.token}/pdf", "/verify", "/keys",
                 "/v/unknown-token-xxxxxxxx"):
        headers = client.get(path).headers
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Cache-Control"] == "no-store", path
        assert headers["X-Robots-Tag"] == "noindex, nofollow", path
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        oauth = client.application.config["WECHAT_OAUTH_BASE"]
        # The one outside origin: WeChat's OAuth page, where a form's redirect chain goes inside WeChat.
        assert csp.replace(f"form-action 'self' {oauth};", "form-action 'self';").count("http") == 0, (path, csp)


def test_stated_units_are_limited_per_client_and_one_per_viewer(client, make_signed_report, rt):
    """Issue 13, item 10: anyone with a report's token added unlimited fake 「查验单位」 entries."""
    report = make_signed_report()
    ip = {"REMOTE_ADDR": "203.0.113.30"}
    for n in range(10):
        for key in rt.redis.scan_iter("hegui:view:*"):
            rt.redis.delete(key)  # the page's one-minute refresh window has passed each time
        stated = client.post(f"/v/{report.token}/unit", data={"unit": f"伪造单位{n}号"}, environ_base=ip,
                             headers={"User-Agent": f"agent-{n}"})  # a new User-Agent each time is no new viewer
        assert stated.status_code == 303
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert [v.unit for v in ViewLog.select().where(ViewLog.report == report)] == ["伪造单位9号"]
    blocked = client.post(f"/v/{report.token}/unit", data={"unit": "伪造单位10号"}, environ_base=ip)
    assert blocked.status_code == 429 and "请稍后再试" in blocked.get_data(as_text=True)
    other = client.post(f"/v/{report.token}/unit", data={"unit": "黑河农商银行"},
                        environ_base={"REMOTE_ADDR": "198.51.100.30"})
    assert other.status_code == 303
    flush_view_log()
    assert sorted(v.unit for v in ViewLog.select()) == ["伪造单位9号", "黑河农商银行"]
    assert client.get(f"/v/{report.token}", environ_base=ip).status_code == 200  # reading is not limited by it


def test_limits_count_in_this_process_while_redis_is_away(app):
    from limits import parse

    from webhooks.security import Limits

    limits, limit = Limits("redis://127.0.0.1:1/0"), parse("2 per minute")  # nothing listens on port 1
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.50"}):
        assert limits.within(limit, "s") and limits.count(limit, "s") and limits.count(limit, "s")
        assert not limits.within(limit, "s") and not limits.count(limit, "s")  # spent, counted locally
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.51"}):
        assert limits.count(limit, "s")  # per client


def test_no_limit_hook_runs_outside_the_limited_pages(app):
    limited = {name for name, funcs in app.before_request_funcs.items() for f in funcs if "security" in f.__module__}
    assert limited == {"verify", "verify_lookup"}  # the webhook and the console pay nothing for the verify limits


def test_session_cookies_are_signed_by_one_signer_per_key_set(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    token = first.dumps({"openid": "o-1"})
    app.config["SECRET_KEY_FALLBACKS"], app.secret_key = [app.secret_key], "rotated-" + "k" * 32
    rotated = interface.get_signing_serializer(app)
    assert rotated is not first and rotated.loads(token) == {"openid": "o-1"}  # the old key still reads
    assert len(interface.signers) == 1
