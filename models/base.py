"""The database handle, declared without settings and bound by `bind_database` (the app factory or a worker)."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from peewee import DatabaseProxy, Model, PostgresqlDatabase, TextField
from playhouse.db_url import connect

db = DatabaseProxy()
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow():
    """Naive UTC now: every DateTimeField stores naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_today():
    """Today's date in 黑河 (China Standard Time)."""
    return dt.datetime.now(LOCAL_TZ).date()


def to_local(moment):
    """A naive-UTC datetime as an aware Asia/Shanghai one, for display."""
    return moment.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ) if moment else None


def bind_database(url, pooled=True):
    """Open the database named by a peewee db_url and bind the proxy to it; return the Database.

    Pooled by default: a request or job "connects" by taking an open connection from this process's pool, which
    spares the connect (and SQLite's pragmas) that dominated the cost of a short request.
    """
    scheme, rest = url.split("://", 1)
    if pooled and not scheme.endswith("+pool"):
        url = f"{scheme}+pool://{rest}"
    pool = {"max_connections": 32, "stale_timeout": 300} if pooled else {}
    if scheme.startswith("sqlite"):
        # BEGIN IMMEDIATE: a deferred transaction that reads, then writes, fails at once with "database is locked"
        # (no busy wait) when another process wrote in between; taking the write lock first makes it wait instead.
        database = connect(
            url,
            pragmas={"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1, "synchronous": "normal"},
            timeout=10, lock_type="IMMEDIATE", check_same_thread=not pooled, **pool,
        )
    else:
        database = connect(url, autoconnect=True, **pool)
    db.initialize(database)
    return database


def transaction(work):
    """`work()` in one database transaction (a savepoint inside another): its writes stand or fall together."""
    with db.atomic():
        return work()


def is_postgres():
    """True when the bound database is PostgreSQL."""
    return isinstance(db.obj, PostgresqlDatabase)


class JSONText(TextField):
    """JSON stored as text, identical on SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def ping():
    """One round trip to the database (the health check); peewee's error when it does not answer."""
    db.execute_sql("SELECT 1").fetchone()
