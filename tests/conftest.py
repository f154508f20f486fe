"""Fixtures: a fresh database (SQLite or PostgreSQL, by TEST_DB) and a flushed Redis database per test.

Services are real. Nothing here skips: when Redis or PostgreSQL is missing, the tests fail.
"""

import datetime as dt
import os
import secrets
import threading
import uuid
from types import SimpleNamespace

import flask
import openpyxl
import pytest
import redis
from flask.testing import FlaskClient
from peewee import ProgrammingError
from rq import SimpleWorker
from werkzeug.serving import make_server

from app import create_app
from bot import engine
from bot.messages import Incoming
from devtools import pg
from devtools.sms_double import start_sms_double
from devtools.wechat_double import start_wechat_double
from devtools.wecom_double import WecomDouble
from jobs import views
from models.base import db, local_today, utcnow
from models.policy.report import feeds, signing, sm2
from models.policy.uscc import make_org_code, make_uscc
from models.tables.accounts import Binding, WechatUser
from models.tables.cases import OBJECTION, Case
from models.tables.records import NO_PENALTY, REPAIRED, SIMPLIFIED, ArrearsRecord, CreditRepair, PenaltyRecord
from models.tables.registry import PENALTY, SOCIAL_ARREARS, Department, Domain, Enterprise
from models.tables.reports import Report
from models.tables.requests import ReportRequest
from models.tables.schema import ALL_MODELS, SchemaVersion, seed, upgrade
from webhooks.wechat import record_interaction

os.environ["HEGUI_ENV"] = "development"  # development mode only when asked for (docs/CONTRACT.md §1)
TEST_DB = os.environ.get("TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))


class ClosingClient(FlaskClient):
    """Flask's test client, closing each response as a WSGI server does once the body is sent (werkzeug's leaves an
    unbuffered one open): POST /wechat reads its last Redis answer on close (webhooks/wechat.py `_Then`)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


flask.Flask.test_client_class = ClosingClient  # every app a test makes, the conftest's and its own


def _pg_admin(sql):
    """One statement on the test PostgreSQL admin database."""
    pg.admin(PG_ADMIN_URL, sql)


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database made for this test run and dropped after it (only when TEST_DB=postgres)."""
    if TEST_DB != "postgres":
        yield None
        return
    name = f"hegui_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    if not db.is_closed():
        db.close()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_database, tmp_path):
    return pg_database or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def redis_url():
    url = f"{REDIS_BASE}/{REDIS_DB}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@pytest.fixture
def app_config(database_url, redis_url, tmp_path):
    """Settings for a test app; tests may add to it before `app` is built."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PUBLIC_BASE_URL": "http://hegui.test",
        "SECRET_KEY": "test-secret",
        "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    with application.app_context():
        db.connect(reuse_if_open=True)
        upgrade()
        seed()
        yield application
        views.BUFFER.drain()  # a view the test's pages buffered goes to this test's Redis, not the next test's tables
        _empty_database()
        if not db.is_closed():
            db.close()


def _empty_database():
    """PostgreSQL keeps its schema for the whole run (creating it costs ~1 s); each test leaves empty tables."""
    if TEST_DB != "postgres":
        return
    try:
        with db.atomic():  # DELETE, not TRUNCATE: no exclusive locks, no new files; ~50x faster on small tables
            db.execute_sql("SET LOCAL session_replication_role = replica")
            for model in ALL_MODELS:
                table = model._meta.table_name
                db.execute_sql(f'DELETE FROM "{table}"')
                db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), 1, false)")
    except ProgrammingError:  # a test dropped a table: start the next one from nothing
        every = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS + [SchemaVersion])
        db.execute_sql(f"DROP TABLE IF EXISTS {every} CASCADE")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def rt(app):
    """The Runtime (config, Redis, queue) the app installed."""
    return app.extensions["hegui"]


@pytest.fixture
def drain(rt):
    """Run a real RQ worker in burst mode until the queue is empty; return the number of failed jobs."""

    def _drain():
        worker = SimpleWorker(rt.queues, connection=rt.redis)
        worker.work(burst=True)
        return sum(q.failed_job_registry.count for q in rt.queues)

    return _drain


WECOM_TEST_WINDOW = 1.0  # seconds: the robot's minute, scaled down for tests (the double and our limiter agree)


@pytest.fixture
def wecom_double():
    """The WeCom group-robot double on a loopback port: 20 messages per WECOM_TEST_WINDOW per key."""
    double = WecomDouble(limit=20, window=WECOM_TEST_WINDOW).start()
    yield double
    double.stop()


@pytest.fixture
def case_world(app):
    """An enterprise bound to a WeChat user, and a factory of its penalty records (market domain by default)."""
    uscc = make_uscc("91231100" + make_org_code("MA1B2C3D"))
    enterprise = Enterprise.create(uscc=uscc, name="黑河市北辰商贸有限公司", legal_rep="张伟")
    user = WechatUser.create(openid="o-owner-1")
    Binding.create(user=user, enterprise=enterprise)
    counter = iter(range(1, 10_000))

    def record(domain="market", **fields):
        n = next(counter)
        values = {
            "subject_name": enterprise.name, "uscc": enterprise.uscc, "enterprise": enterprise,
            "decision_no": f"黑市监罚〔2026〕{n}号", "violation_type": "虚假宣传", "category": "罚款",
            "content": "罚款人民币5000元", "decided_on": dt.date(2026, 1, 5), "authority": "黑河市市场监督管理局",
            "domain": Domain.get(Domain.code == domain), "procedure": "普通程序",
            "department": Department.get(Department.code == domain),
        }
        values.update(fields)
        return PenaltyRecord.create(**values)

    return SimpleNamespace(enterprise=enterprise, user=user, record=record)



def _verify_snapshot(number, token, issued, valid_until, enterprise, public_base):
    """A realistic hegui.report/1 snapshot: 16 domains, one penalty, one repaired record, arrears, a stale feed."""
    local = dt.timezone(dt.timedelta(hours=8))
    domains = []
    for d in Domain.ordered():
        part = {"code": d.code, "name": d.name, "coverage": {"state": "complete", "complete_until": "2026-11-20"},
                "statement": f"报告期内，未查见该主体在{d.name}领域的违法记录。", "records": []}
        if d.code == "market":
            part["statement"] = f"报告期内，查见该主体在{d.name}领域的违法记录 1 条。"
            part["records"].append({
                "id": 17, "decision_no": "黑市监罚〔2025〕88号", "authority": "黑河市市场监督管理局",
                "decided_on": "2025-03-05", "violation_type": "发布虚假广告", "category": "罚款",
                "content": "罚款人民币一万五千元", "fine_wan": "1.5000", "status": "active",
                "under_objection": False, "repair": None})
        if d.code == "ecology":
            part["statement"] = f"报告期内，查见该主体在{d.name}领域的违法记录 1 条（已信用修复）。"
            part["records"].append({
                "id": 18, "decision_no": "黑环罚〔2024〕12号", "authority": "黑河市生态环境局",
                "decided_on": "2024-06-10", "violation_type": "未按规定申报排污", "category": "警告", "content": "警告",
                "fine_wan": None, "status": "repaired", "under_objection": False,
                "repair": {"decision_no": "黑环修〔2025〕3号", "repaired_on": "2025-01-20"}})
        if d.code == "landscaping":
            part["coverage"] = {"state": "stale", "complete_until": "2026-06-30"}
            part["statement"] = f"报告期内，未查见该主体在{d.name}领域的违法记录（数据截至2026年6月30日）。"
        if d.code == "urban":
            part["coverage"] = {"state": "missing", "complete_until": None}
            part["statement"] = f"{d.name}领域数据未归集，无法出具该领域结论。"
        domains.append(part)
    return {
        "schema": "hegui.report/1", "title": "市场主体专用信用报告（替代有无违法记录证明）", "number": number,
        "issuer": "黑河市社会信用体系建设领导小组办公室（信用黑河）",
        "issued_at": issued.replace(tzinfo=dt.UTC).astimezone(local).isoformat(timespec="seconds"),
        "valid_until": valid_until.replace(tzinfo=dt.UTC).astimezone(local).isoformat(timespec="seconds"),
        "enterprise": {"name": enterprise.name, "uscc": enterprise.uscc, "legal_rep": enterprise.legal_rep,
                       "address": enterprise.address, "county": enterprise.county},
        "period": {"start": "2023-11-28", "end": "2026-11-27"},
        "purpose": {"category": "金融", "text": "银行贷款"},
        "rule_set": {"version": "heihe-2024",
                     "notes": ["依据简易程序作出的行政处罚及不予行政处罚决定，不列入违法记录。"]},
        "domains": domains,
        "arrears": [
            {"kind": "social_arrears", "label": "社保欠缴", "coverage": {"state": "complete",
             "complete_until": "2026-10-31"}, "statement": "报告期内，查见社保欠缴记录 1 条。",
             "items": [{"period_start": "2025-01-01", "period_end": "2025-03-31", "amount": "1200.00",
                        "settled": False, "settled_on": None}]},
            {"kind": "fund_arrears", "label": "公积金欠缴", "coverage": {"state": "complete",
             "complete_until": "2026-10-31"}, "statement": "报告期内，未查见公积金欠缴记录。", "items": []},
        ],
        "repairs": [{"record_decision_no": "黑环罚〔2024〕12号", "domain": "生态环境",
                     "decision_no": "黑环修〔2025〕3号", "repaired_on": "2025-01-20"}],
        "verify": {"url": f"{public_base}/v/{token}", "lookup": f"{public_base}/verify"},
    }


def _check_code():
    return "".join(secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(10))


@pytest.fixture
def make_signed_report(app):
    """Factory of issued Report rows with a realistic snapshot signed by the app's key (verify-page tests)."""
    key = signing.load_private_key(app.config.get("SIGNING_KEY"), app.config["INSTANCE_PATH"], True)
    sm2_key = sm2.load_private_key(app.config.get("SM2_SIGNING_KEY"), app.config["INSTANCE_PATH"], True)
    counter = iter(range(1, 10_000))

    def _make(owner=None, enterprise=None, issued=None, valid_days=30, purpose="银行贷款", legacy=False, **fields):
        """`legacy`: a report issued before migration 4, with its Ed25519 signature only."""
        n = next(counter)
        owner = owner or WechatUser.get_or_create(openid="o-report-owner")[0]
        enterprise = enterprise or Enterprise.get_or_create(
            uscc=make_uscc("91231100MA1B2C3D4"),
            defaults={"name": "黑河市瑷珲边贸物流有限公司", "legal_rep": "王建国", "mobile": "13904561234",
                      "address": "黑河市爱辉区王肃街 18 号", "county": "爱辉区"})[0]
        issued = issued or utcnow()
        valid_until = issued + dt.timedelta(days=valid_days)
        number, token = f"HH-{issued:%Y%m%d}-{n:06d}", secrets.token_urlsafe(24)
        snap = _verify_snapshot(number, token, issued, valid_until, enterprise, app.config["PUBLIC_BASE_URL"])
        payload = signing.canonical_json(snap)
        request = ReportRequest.create(
            user=owner, enterprise=enterprise, msg_key=f"verify-{n}", domains=[d["code"] for d in snap["domains"]],
            period_start=dt.date(2023, 11, 28), period_end=dt.date(2026, 11, 27), purpose_category="金融",
            purpose=purpose, status="delivered")
        values = dict(
            request=request, enterprise=enterprise, number=number, check_code=_check_code(), token=token,
            issued_at=issued, valid_until=valid_until, rule_version="heihe-2024", snapshot=payload.decode("utf-8"),
            digest=signing.digest(payload), signature=signing.sign(key, payload), algorithm="Ed25519",
            key_id=signing.key_id(key.public_key()))
        if not legacy:
            values["signatures"] = [
                {"algorithm": sm2.ALGORITHM, "key_id": sm2_key.key_id, "value": sm2_key.sign(payload)},
                {"algorithm": "Ed25519", "key_id": values["key_id"], "value": values["signature"]}]
        values.update(fields)
        return Report.create(**values)

    return _make


@pytest.fixture
def wechat_double(app_config):
    """The WeChat API double on an ephemeral port, wired into app_config (request it before `app`)."""
    server = start_wechat_double()
    app_config["WECHAT_API_BASE"] = server.base_url + "/cgi-bin/"
    app_config["WECHAT_OAUTH_BASE"] = server.base_url
    yield server
    server.stop()


@pytest.fixture
def sms_double(app_config):
    """The SMS gateway double on an ephemeral port; SMS_BACKEND=http points at it (request it before `app`)."""
    server = start_sms_double()
    app_config["SMS_BACKEND"] = "http"
    app_config["SMS_WEBHOOK_URL"] = server.base_url + "/send"
    yield server
    server.stop()


@pytest.fixture
def write_table(tmp_path):
    """Write a department's file: `write_table(name, headers, rows, fmt)` with fmt utf-8, utf-8-sig, gb18030 or xlsx."""

    def _write(name, headers, rows, fmt="utf-8"):
        path = tmp_path / name
        if fmt == "xlsx":
            book = openpyxl.Workbook()
            sheet = book.active
            sheet.append(list(headers))
            for row in rows:
                sheet.append(list(row))
            book.save(path)
            return path
        lines = [",".join(_csv_cell(v) for v in row) for row in [headers, *rows]]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(fmt))
        return path

    return _write


def _csv_cell(value):
    text = "" if value is None else str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


@pytest.fixture
def report_world(app):
    """An owner inside WeChat's window, bound to an enterprise with records of every kind, and feeds: complete for
    most domains, stale for 园林绿化, missing for 城市管理 and 公积金. `world.request(...)` makes a ReportRequest."""
    today = local_today()
    enterprise = Enterprise.create(
        uscc=make_uscc("91231100MA1C5R7T2"), name="黑河市龙江边贸物流有限公司", legal_rep="李明",
        mobile="13904560000", address="黑河市爱辉区中央街 56 号", county="爱辉区")
    user = WechatUser.create(openid="o-report-world", last_message_at=utcnow())
    Binding.create(user=user, enterprise=enterprise)
    fresh = today - dt.timedelta(days=3)
    for domain in Domain.ordered():
        if domain.code != "urban":
            as_of = today - dt.timedelta(days=200) if domain.code == "landscaping" else fresh
            feeds.record_load(Department.get(Department.code == domain.code), PENALTY, [domain.id], as_of)
    feeds.record_load(Department.get(Department.code == "hrss"), SOCIAL_ARREARS, [None], fresh)
    counter = iter(range(1, 100_000))

    def record(domain="market", days_ago=100, **fields):
        n = next(counter)
        values = {
            "subject_name": enterprise.name, "uscc": enterprise.uscc, "enterprise": enterprise,
            "decision_no": f"黑{domain}罚〔2026〕{n}号", "violation_type": "未按规定履行义务", "category": "罚款",
            "content": f"罚款人民币{n}000元", "fine_wan": f"{n / 10:.4f}",
            "decided_on": today - dt.timedelta(days=days_ago),
            "authority": Department.get(Department.code == domain).name, "domain": Domain.get(Domain.code == domain),
            "procedure": "普通程序", "department": Department.get(Department.code == domain)}
        values.update(fields)
        return PenaltyRecord.create(**values)

    world = SimpleNamespace(enterprise=enterprise, user=user, record=record, today=today)
    world.market = record("market", decision_no="黑市监罚〔2026〕101号", violation_type="发布虚假广告")
    world.simplified = record("market", decision_no="黑市监简〔2026〕7号", procedure=SIMPLIFIED)
    world.no_penalty = record("ecology", decision_no="黑环不罚〔2026〕3号", category=NO_PENALTY, content="")
    world.repaired = record("ecology", decision_no="黑环罚〔2025〕12号", status=REPAIRED, days_ago=400)
    world.repair = CreditRepair.create(record=world.repaired, decision_no="黑环修〔2026〕5号",
                                       repaired_on=today - dt.timedelta(days=30),
                                       department=Department.get(Department.code == "ecology"))
    world.objected = record("health", decision_no="黑卫罚〔2026〕9号")
    Case.create(number="YY-20260101-0001", kind=OBJECTION, enterprise=enterprise, user=user, record=world.objected,
                department=world.objected.department, reason="处罚对象有误", deadline=today + dt.timedelta(days=5))
    world.withdrawn = record("transport", decision_no="黑交罚〔2026〕2号", status="withdrawn")
    world.arrears = ArrearsRecord.create(
        kind=SOCIAL_ARREARS, subject_name=enterprise.name, uscc=enterprise.uscc, enterprise=enterprise,
        period_start=today - dt.timedelta(days=120), period_end=today - dt.timedelta(days=60), amount="1200.00",
        department=Department.get(Department.code == "hrss"))

    def request(domains=None, purpose="银行贷款", category="金融", years=3):
        return ReportRequest.create(
            user=user, enterprise=enterprise, msg_key=uuid.uuid4().hex,
            domains=domains or [d.code for d in Domain.ordered()],
            period_start=today.replace(year=today.year - years) + dt.timedelta(days=1), period_end=today,
            purpose_category=category, purpose=purpose)

    world.request = request
    return world



@pytest.fixture
def bot_chat(rt):
    """`bot_chat(openid)`: a WeChat user talking to `bot.engine.handle` directly, as the webhook does (it records
    the interaction and hands the bot the user); each message gets a new MsgId."""
    ids = iter(range(1, 1_000_000))

    class Chat:
        def __init__(self, openid):
            self.openid = openid

        def send(self, **fields):
            n = next(ids)
            fields.setdefault("msg_key", f"{self.openid}-{n}")
            fields.setdefault("create_time", 1_790_000_000 + n)
            incoming = Incoming(openid=self.openid, **fields)
            return engine.handle(incoming, rt, record_interaction(incoming))

        def say(self, text, **fields):
            return self.send(kind="text", text=text, **fields)

        def image(self, media_id):
            return self.send(kind="image", media_id=media_id, raw_type="image")

        def click(self, key):
            return self.send(kind="event", event="click", event_key=key)

        def user(self):
            return WechatUser.get_or_create(openid=self.openid)[0]

    return Chat


@pytest.fixture
def bot_enterprise(app):
    """Factory of registered enterprises with a valid USCC (`mobile=""` for one without a usable mobile)."""
    counter = iter(range(1, 1000))

    def _make(name=None, mobile="13812341234"):
        n = next(counter)
        return Enterprise.create(
            uscc=make_uscc("91231100" + make_org_code(f"MA{n:06d}")), name=name or f"黑河市测试{n}号有限公司",
            legal_rep="赵敏", mobile=mobile, address="黑河市爱辉区", county="爱辉区")

    return _make


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server (werkzeug, port 0) in a thread; PUBLIC_BASE_URL points at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base
    yield base
    server.shutdown()
    server.server_close()
    thread.join()
