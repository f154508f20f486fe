"""Faults from outside: Redis restarted mid-flow, PostgreSQL connections dropped, a slow WeChat API, and a webhook
fuzzed with random XML, encodings and sizes. No 5xx, no report made twice, no confirmed request lost."""

import datetime as dt
import hashlib
import secrets
import shutil
import socket
import subprocess
import time

import psycopg2
import pytest
import redis
import requests
import xmltodict
from conftest import PG_ADMIN_URL, _pg_admin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from bot import texts
from commands.worker import AppWorker
from jobs import delivery
from jobs.pipeline import sweep_stuck_requests
from models.base import db, utcnow
from models.tables.outbound import OutboundMessage
from models.tables.reports import Report
from models.tables.requests import DELIVERED, ReportRequest
from models.tables.schema import seed, upgrade

SENTENCE = "帮我开一份近三年全部领域的报告，用于银行贷款"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisProcess:
    """A redis-server of our own, so that a test can stop and restart it (it keeps nothing on disk)."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required"
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL)
        conn = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                conn.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def private_redis():
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


def _sign(token, timestamp, nonce):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def post(client, app, body):
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)  # WeChat never reuses a nonce
    args = {"timestamp": timestamp, "nonce": nonce, "signature": _sign(app.config["WECHAT_TOKEN"], timestamp, nonce)}
    return client.post("/wechat", query_string=args, data=body, content_type="text/xml")


class Owner:
    """A WeChat user posting text through the real webhook; each message a new MsgId."""

    def __init__(self, client, app, openid):
        self.client, self.app, self.openid, self.n = client, app, openid, int(time.time())

    def say(self, text):
        self.n += 1
        xml = xmltodict.unparse({"xml": {"ToUserName": "gh_account", "FromUserName": self.openid,
                                         "CreateTime": str(self.n), "MsgType": "text", "Content": text,
                                         "MsgId": str(self.n)}})
        response = post(self.client, self.app, xml.encode())
        assert response.status_code == 200
        return xmltodict.parse(response.data)["xml"]["Content"] if response.data != b"success" else ""


# -- Redis restarted mid-flow ------------------------------------------------------------------------------------


@pytest.fixture
def app_config(app_config, request):
    if "private_redis" in request.fixturenames:
        app_config["REDIS_URL"] = request.getfixturevalue("private_redis").url
    if "wechat_double" in request.fixturenames:
        app_config["WECHAT_HTTP_TIMEOUT"] = 0.5
    return app_config


def test_redis_restarted_mid_flow_loses_no_confirmed_request(private_redis, wechat_double, report_world, app, client,
                                                              drain):
    owner = Owner(client, app, report_world.user.openid)
    assert "确认" in owner.say(SENTENCE)
    private_redis.stop()
    busy = owner.say("确认")  # Redis is away: a clear answer, no 5xx, nothing created
    assert busy == texts.SERVICE_BUSY and ReportRequest.select().count() == 0
    private_redis.start()  # back, empty: the conversation is gone, the owner starts again
    owner.say("确认")
    assert ReportRequest.select().count() == 0
    assert "确认" in owner.say(SENTENCE)
    owner.say("确认")
    [request] = ReportRequest.select()
    private_redis.stop()
    private_redis.start()  # the queued build is lost with Redis; the database still has the request
    assert drain() == 0 and ReportRequest.get_by_id(request.id).status == "queued"
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    ReportRequest.update(created_at=an_hour_ago, updated_at=an_hour_ago).execute()
    requests.post(f"{wechat_double.base_url}/_double/interaction", json={"openid": report_world.user.openid},
                  timeout=5).raise_for_status()  # WeChat saw the owner write
    sweep_stuck_requests()
    assert drain() == 0
    assert ReportRequest.get_by_id(request.id).status == DELIVERED  # its QR image was sent
    assert Report.select().where(Report.request == request).count() == 1


# -- PostgreSQL connections dropped ------------------------------------------------------------------------------


@pytest.fixture
def pg_app(app_config, tmp_path):
    """An app on a PostgreSQL database of its own (whatever TEST_DB says): its connections are killed mid-test."""
    name = f"hegui_fault_{int(time.time() * 1000)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    application = create_app(dict(app_config, DATABASE_URL=url))
    with application.app_context():
        upgrade()
        seed()
    yield application, name  # no app context held: each request connects and closes, as under gunicorn
    db.close_all()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _terminate_backends(name):
    """Terminate the database's backends and wait (up to 5 s each) until they have exited and closed their sockets:
    the server dropped the connections, as a restart does (without the wait, a request sent within that millisecond
    is a different case: its first statement fails and the pool replaces the connection for the next one)."""
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = %s",
                    (name,))
        killed = cur.fetchone()[0]
    conn.close()
    return killed


def test_dropped_postgresql_connections_are_replaced_without_an_error(pg_app):
    application, name = pg_app
    client = application.test_client()
    owner = Owner(client, application, "o-pg-fault")
    assert owner.say("帮助")
    assert client.get("/healthz").status_code == 200
    assert _terminate_backends(name) >= 1  # the pooled connections the requests left behind
    assert client.get("/healthz").status_code == 200
    assert "/guide" in owner.say("帮助")
    rt = application.extensions["hegui"]
    job = rt.queue.enqueue("jobs.retention.purge_view_logs")
    _terminate_backends(name)
    AppWorker(rt.queues, connection=rt.redis).work(burst=True)
    assert job.get_status() == "finished"


# -- a slow WeChat API -------------------------------------------------------------------------------------------


def test_a_slow_wechat_api_is_bounded_and_never_makes_a_message_go_twice(wechat_double, report_world, app, drain):
    requests.post(f"{wechat_double.base_url}/_double/interaction",
                  json={"openid": report_world.user.openid, "kind": "message"}, timeout=5).raise_for_status()
    requests.post(f"{wechat_double.base_url}/_double/fail",
                  json={"api": "message/custom/send", "delay": 1.5, "times": 5}, timeout=5).raise_for_status()
    outbound_id = delivery.queue_text(report_world.user.id, "您的报告已生成。", "slow-1")
    drain()
    assert OutboundMessage.get_by_id(outbound_id).state == "unknown"  # it may have arrived: never resent blindly
    delivery.queue_text(report_world.user.id, "您的报告已生成。", "slow-1")
    drain()
    time.sleep(1.6)  # let the double finish the call it was still answering
    sent = requests.get(f"{wechat_double.base_url}/_double/sent",
                        params={"openid": report_world.user.openid}, timeout=5).json()
    assert len([m for m in sent if "您的报告已生成" in str(m)]) == 1


# -- the webhook fuzzed ------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
tags = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
                        "EventKey", "MediaId", "Recognition", "Encrypt", "x", "xml"])
values = st.one_of(st.text(max_size=60), st.sampled_from(["text", "event", "image", "voice", "subscribe", "CLICK",
                                                           "]]>", "<![CDATA[", "&amp;", "1" * 40, "-1"]))


def _fuzz_xml(fields):
    inner = "".join(f"<{tag}><![CDATA[{value}]]></{tag}>" for tag, value in fields)
    return f"<xml>{inner}</xml>"


@FUZZ
@given(body=st.binary(max_size=2048))
def test_random_bytes_never_make_a_5xx(app, client, body):
    assert post(client, app, body).status_code in (200, 400, 413)


@FUZZ
@given(fields=st.lists(st.tuples(tags, values), max_size=10),
       encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "latin-1"]))
def test_random_xml_in_any_encoding_never_makes_a_5xx(app, client, fields, encoding):
    xml = _fuzz_xml(fields)
    body = f'<?xml version="1.0" encoding="{encoding}"?>'.encode(encoding) + xml.encode(encoding, "replace")
    response = post(client, app, body)
    assert response.status_code in (200, 400)
    if response.status_code == 200 and response.data != b"success":
        xmltodict.parse(response.data)  # whatever it answers is well-formed


@FUZZ
@given(content=st.text(max_size=600))
def test_any_text_gets_a_well_formed_reply(app, client, content):
    xml = xmltodict.unparse({"xml": {"ToUserName": "gh", "FromUserName": "o-fuzz", "CreateTime": "1790000000",
                                     "MsgType": "text", "Content": content,
                                     "MsgId": str(abs(hash(content)) % 10**12)}})
    response = post(client, app, xml.encode())
    assert response.status_code in (200, 400)
    if response.status_code == 200 and response.data != b"success":
        assert xmltodict.parse(response.data)["xml"]["MsgType"] == "text"


def test_oversized_bodies_are_refused_before_parsing(app, client):
    assert post(client, app, b"<xml>" + b"a" * (2 * 1024 * 1024) + b"</xml>").status_code == 413
