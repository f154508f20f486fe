"""The database handle, declared without settings and bound by `bind_database` (the app factory or a worker)."""

import datetime as dt
import json
import select
from zoneinfo import ZoneInfo

from peewee import DatabaseProxy, Model, PostgresqlDatabase, TextField
from playhouse.db_url import connect, parse
from playhouse.pool import PooledPostgresqlDatabase
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_UNKNOWN

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
    elif pooled:
        database = PooledPostgres(**parse(url), autoconnect=True, **pool)
    else:
        database = connect(url, autoconnect=True)
    db.initialize(database)
    return database


class PooledPostgres(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, checking a connection it hands out without a round trip: peewee sends `SELECT 1` on
    every checkout, a fifth of a verify page's time (bench/verify_bench.py --profile). An idle connection has
    nothing to read; when its socket is readable the server has said goodbye (terminated, restarted) and it is
    replaced. A connection lost silently (no FIN from a dead host) fails its first query instead, and none lives
    past the pool's stale timeout."""

    def _is_closed(self, conn):
        status = conn.get_transaction_status()
        if conn.closed or status == TRANSACTION_STATUS_UNKNOWN:
            return True
        if status != TRANSACTION_STATUS_IDLE:
            return super()._is_closed(conn)  # left in a transaction: peewee rolls it back
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
        return bool(readable)


def transaction(work):
    """`work()` in one database transaction (a savepoint inside another): its writes stand or fall together."""
    with db.atomic():
        return work()


def release_connection():
    """Close this thread's database connection if a request opened one (the end of every web request)."""
    if not db.is_closed():
        db.close()


def connected(work):
    """`work()` with a database connection: this thread's own, opened and closed here, when it has none (a
    background thread such as the verify page's view buffer)."""
    if not db.is_closed():
        return work()
    with db.connection_context():
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


class Prepared:
    """A select of fixed shape whose SQL is built once and run again with other values (issue 14: building a
    snapshot's SQL cost more than running it). `build(*values)` makes the query; it is built with `standins`, values
    no real call passes (one per argument, of its type), and each real call puts its values where the stand-ins' went.
    The rows are what the query itself would give (models, joined ones attached)."""

    def __init__(self, build, *standins):
        self.build, self.standins = build, standins
        self._compiled = {}  # (database class, its parameter style): (query, sql, params, slots)

    def _compile(self, database):
        query = self.build(*self.standins)
        sql, params = database.get_sql_context().sql(query).query()
        slots = [(i, j) for i, value in enumerate(params) for j, standin in enumerate(self.standins)
                 if type(value) is type(standin) and value == standin]
        # Built again with other stand-ins, the SQL must be the same and differ only in those slots: a value the
        # query converted (so that it is no longer found) would otherwise be run as its stand-in.
        other_sql, other = database.get_sql_context().sql(self.build(*map(_other, self.standins))).query()
        changed = {i for i, (a, b) in enumerate(zip(params, other, strict=True)) if a != b}
        if other_sql != sql or changed != {i for i, _j in slots}:
            raise ValueError(f"the stand-ins of {sql!r} do not map onto its parameters")
        return query, sql, tuple(params), slots

    def __call__(self, *values):
        database = db.obj
        key = (type(database), database.param)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(database)
        query, sql, params, slots = compiled
        params = list(params)
        for i, j in slots:
            params[i] = values[j]
        return list(query._get_cursor_wrapper(database.execute_sql(sql, params)))  # peewee's own row reading


def _other(standin):
    """Another stand-in of the same type."""
    if isinstance(standin, dt.date):
        return standin + dt.timedelta(days=1)
    return standin + (1 if isinstance(standin, int) else "'")
