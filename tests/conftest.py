"""Fixtures: a fresh database (SQLite or PostgreSQL, by TEST_DB) and a flushed Redis database per test.

Services are real. Nothing here skips: when Redis or PostgreSQL is missing, the tests fail.
"""

import datetime as dt
import os
import uuid
from types import SimpleNamespace

import psycopg2
import pytest
import redis
from rq import SimpleWorker

from app import create_app
from devtools.wecom_double import WecomDouble
from models.accounts import Binding, WechatUser
from models.base import db
from models.records import PenaltyRecord
from models.registry import Department, Domain, Enterprise
from models.schema import ALL_MODELS, SchemaVersion, seed, upgrade

TEST_DB = os.environ.get("TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))


def _pg_admin(sql):
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


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
        _empty_database()
        if not db.is_closed():
            db.close()


def _empty_database():
    if TEST_DB != "postgres":
        return
    tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS + [SchemaVersion])
    db.execute_sql(f"DROP TABLE IF EXISTS {tables} CASCADE")


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
        worker = SimpleWorker([rt.queue], connection=rt.redis)
        worker.work(burst=True)
        return rt.queue.failed_job_registry.count

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
    enterprise = Enterprise.create(uscc="91231100MA1B2C3D4E", name="黑河市北辰商贸有限公司", legal_rep="张伟")
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

