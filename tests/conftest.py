"""Fixtures: a fresh database (SQLite or PostgreSQL, by TEST_DB) and a flushed Redis database per test.

Services are real. Nothing here skips: when Redis or PostgreSQL is missing, the tests fail.
"""

import os
import uuid

import psycopg2
import pytest
import redis
from rq import SimpleWorker

from app import create_app
from models.base import db
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
