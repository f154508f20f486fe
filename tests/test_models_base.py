"""models.base: the pooled PostgreSQL connections are checked without a round trip, and replaced when the server
dropped them."""

import time

import psycopg2
import pytest
from conftest import PG_ADMIN_URL, _pg_admin

from models.base import PooledPostgres


@pytest.fixture
def pooled():
    """A PooledPostgres on a database of its own (whatever TEST_DB says), and that database's name."""
    name = f"hegui_pool_{int(time.time() * 1000)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    database = PooledPostgres(name, **{k: v for k, v in psycopg2.extensions.parse_dsn(PG_ADMIN_URL).items()
                                       if k != "dbname"}, max_connections=4, stale_timeout=300)
    yield database, name
    database.close_all()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _backend_pid(database):
    with database.connection_context():
        return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def test_a_healthy_idle_connection_is_taken_again_without_a_query(pooled, monkeypatch):
    database, _ = pooled
    first = _backend_pid(database)

    def no_round_trip(conn):
        raise AssertionError("the checkout asked the server")

    monkeypatch.setattr(database._adapter, "is_connection_closed", no_round_trip)
    assert _backend_pid(database) == first  # the same connection, no SELECT 1 before it


def test_a_connection_the_server_dropped_is_replaced(pooled):
    database, name = pooled
    first = _backend_pid(database)
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (first,))
    conn.close()
    time.sleep(0.1)  # the FATAL notice and the close reach the pooled socket
    assert _backend_pid(database) != first
