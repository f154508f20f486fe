import datetime as dt
import re

import pytest

from models.base import utcnow
from models.policy.staff import create_staff
from models.tables.accounts import StaffSession

PASSWORD = "correct-horse-battery"


@pytest.fixture
def accounts(app):
    create_staff("office1", PASSWORD, "office")
    create_staff("market1", PASSWORD, "department", "market")


def _login(client, username):
    html = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_dashboard_needs_a_staff_login(client, accounts):
    response = client.get("/staff/rq/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_department_staff_are_refused(client, accounts):
    _login(client, "market1")
    assert client.get("/staff/rq/").status_code == 403
    assert client.get("/staff/rq/0/data/queues.json").status_code == 403


def test_office_sees_our_queues_with_their_jobs(client, accounts, rt):
    rt.queue.enqueue("jobs.retention.purge_view_logs")
    _login(client, "office1")
    assert client.get("/staff/rq/").status_code == 200
    queues = {q["name"]: q["count"] for q in client.get("/staff/rq/0/data/queues.json").json["queues"]}
    assert queues[rt.queue.name] == 1


def test_actions_only_from_our_own_origin(client, accounts, rt):
    job = rt.queue.enqueue("jobs.retention.purge_view_logs")
    _login(client, "office1")
    forged = client.post(f"/staff/rq/job/{job.id}/delete", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and rt.queue.count == 1
    own = client.post(f"/staff/rq/job/{job.id}/delete", headers={"Origin": "http://localhost"})
    assert own.status_code == 200 and rt.queue.count == 0


def test_a_state_changing_get_needs_our_origin_too(client, accounts, rt):
    """Issue 13, item 7: `GET /requeue/<queue>` requeues every failed job; it passed a POST-only origin check."""
    _login(client, "office1")
    cross = client.get(f"/staff/rq/requeue/{rt.queue.name}", headers={"Referer": "https://evil.example/page"})
    assert cross.status_code == 403
    assert client.get(f"/staff/rq/requeue/{rt.queue.name}").status_code == 403  # no origin at all: refused too
    own = client.get(f"/staff/rq/requeue/{rt.queue.name}", headers={"Origin": "http://localhost"})
    assert own.status_code == 200
    assert client.get("/staff/rq/0/data/queues.json").status_code == 200  # reading needs no origin
    page = client.get("/staff/rq/")
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in \
        page.headers["Content-Security-Policy"] and page.headers["Cache-Control"] == "no-store"


def _seen(minutes_ago):
    StaffSession.update(seen_at=utcnow() - dt.timedelta(minutes=minutes_ago)).execute()
    return StaffSession.get().seen_at


def test_the_dashboards_polling_does_not_keep_an_idle_session_alive(client, accounts):
    _login(client, "office1")
    seen = _seen(29)
    assert client.get("/staff/rq/0/data/queues.json").status_code == 200
    assert StaffSession.get().seen_at == seen
    assert client.get("/staff/rq/").status_code == 200  # a page the person opens does count
    assert StaffSession.get().seen_at > seen
