"""Process plumbing: what jobs, the bot and the webhooks need from the process they run in, and the trace id.

The app factory (web) and `flask worker` / `flask scheduler` install one Runtime per process; it holds
configuration and connections only, never state that a second node would need.

One id follows a message from the webhook to its jobs and deliveries, and logs carry it: the webhook sets the id from
the message's dedup key (so WeChat's retries share it); `TracedQueue` copies the current id into every job it creates;
the worker restores it before running the job, so the jobs that job enqueues inherit it.
"""


import contextvars
import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import redis
from rq import Queue

log = logging.getLogger(__name__)
_trace_id = contextvars.ContextVar("trace_id", default="-")


class LRU:
    """A bounded least-recently-used map in this process's memory, safe across threads: a cache, never state (another
    node keeps its own). An entry older than `max_age` seconds (None: no limit) is absent."""

    def __init__(self, size, max_age=None):
        self.size, self.max_age, self.lock = size, max_age, threading.Lock()
        self.entries = OrderedDict()  # key -> (stored at, value), least recently used first

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if self.max_age is not None and time.monotonic() - entry[0] > self.max_age:
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def put(self, key, value):
        with self.lock:
            self.entries[key] = (time.monotonic(), value)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def pop(self, key):
        with self.lock:
            self.entries.pop(key, None)

    def clear(self):
        with self.lock:
            self.entries.clear()


def trace_id_for(key):
    """A short stable id for a message key: the same WeChat message, retried, keeps its id."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def set_trace_id(value):
    """Make `value` the current id; returns a token for `reset_trace_id`."""
    return _trace_id.set(value or "-")


def reset_trace_id(token):
    _trace_id.reset(token)


def current_trace_id():
    return _trace_id.get()


class TracedQueue(Queue):
    """A Queue whose jobs carry the current trace id in their meta."""

    def create_job(self, *args, **kwargs):
        meta = dict(kwargs.get("meta") or {})
        meta.setdefault("trace_id", current_trace_id())
        kwargs["meta"] = meta
        return super().create_job(*args, **kwargs)


class TraceFilter(logging.Filter):
    """Adds `trace_id` to every record so formatters can print it."""

    def filter(self, record):
        record.trace_id = current_trace_id()
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, trace id, message (and the traceback, if any)."""

    def format(self, record):
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "trace_id": getattr(record, "trace_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(trace_id)s] %(name)s: %(message)s"


def configure_logging(json_lines=False, level=logging.INFO):
    """Route the root logger through one handler that prints the trace id (JSON lines in production)."""
    handler = logging.StreamHandler()
    handler.addFilter(TraceFilter())
    handler.setFormatter(JSONFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_hegui", False)]:
        root.removeHandler(old)
    handler._hegui = True
    root.addHandler(handler)
    root.setLevel(level)


class LuaScript:
    """A Redis script run by its SHA (loaded on first use, again after a script flush): one round trip."""

    def __init__(self, source):
        self.source = source
        self.sha = hashlib.sha1(source.encode("utf-8")).hexdigest()

    def __call__(self, conn, keys=(), args=()):
        try:
            return conn.evalsha(self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            return conn.eval(self.source, len(keys), *keys, *args)

    def on_held(self, client, keys=(), args=()):
        """Run on a HeldClients client: written to its one connection and read back, without redis-py's per-call
        machinery (a third of the call again); a connection error falls back to the client, which reconnects and
        retries."""
        return self.send_on_held(client, keys, args).result()

    def send_on_held(self, client, keys=(), args=()):
        """Write the script on a HeldClients client's connection and return at once: its answer is read by the
        Pending's `result()` — the webhook's, once its response is sent — and at the latest before the connection's
        next command. A connection error on writing runs it now through the client, which reconnects, so a failure
        that can be seen before the answer is read is still raised here. A pooled client runs it at once."""
        held = getattr(client, "connection", None)
        if held is None:
            return Pending.settled(self(client, keys, args))
        settle_pending(held)
        try:
            held.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            held.disconnect()
            return Pending.settled(self(client, keys, args))
        held.pending = Pending(self, client, keys, args)
        return held.pending


class Pending:
    """A script written on a held connection whose answer has not been read yet (`LuaScript.send_on_held`)."""

    def __init__(self, script, client, keys, args):
        self.script, self.client, self.keys, self.args = script, client, keys, args
        self.done, self.value = False, None

    @classmethod
    def settled(cls, value):
        pending = cls(None, None, (), ())
        pending.done, pending.value = True, value
        return pending

    def result(self):
        """The script's answer (read once). Redis had lost the script: run again with its source; the connection
        failed: reconnected and run again through the client, as redis-py's own retry would (the scripts this
        serves are safe to repeat). Errors are raised."""
        if self.done:
            return self.value
        self.done = True
        held = self.client.connection
        if getattr(held, "pending", None) is self:
            held.pending = None
        try:
            try:
                self.value = held.read_response()
            except redis.exceptions.NoScriptError:
                held.send_command("EVAL", self.script.source, len(self.keys), *self.keys, *self.args)
                self.value = held.read_response()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            held.disconnect()
            self.value = self.script(self.client, self.keys, self.args)
        return self.value


def settle_pending(held):
    """Read a script's answer still waiting on this connection before it carries another command (a caller that
    never asked for it: its errors are logged, not raised on the next one)."""
    pending = getattr(held, "pending", None)
    if pending is None:
        return
    try:
        pending.result()
    except redis.exceptions.RedisError:
        log.exception("a script written before this command failed")


class HeldClients:
    """A single-connection Redis client per process and thread, for the webhook's two round trips per message:
    borrowing a connection from redis-py's pool and giving it back was a third of each call's cost (90 µs against
    60 µs per EVALSHA here; bench/webhook_bench.py). The connection is a cache, not state: a new process or thread
    opens its own, and redis-py's retry reconnects one that Redis dropped."""

    def __init__(self, url):
        self.url, self.local = url, threading.local()

    def get(self):
        held = getattr(self.local, "held", None)
        if held is None or held[0] != os.getpid():  # a forked child never writes on its parent's socket
            held = self.local.held = (os.getpid(), redis.Redis.from_url(self.url, single_connection_client=True))
        return held[1]


@dataclass
class Runtime:
    config: dict
    redis: redis.Redis
    queue: TracedQueue  # build, delivery, notices: what a person is waiting for
    slow_queue: TracedQueue  # PDF rendering: workers take it only when `queue` is empty
    held: HeldClients = None

    @property
    def turn_redis(self):
        """This thread's single-connection client (the webhook's hot path); the pooled `redis` everywhere else."""
        return self.held.get()

    @property
    def queues(self):
        """The queues a worker listens to, in priority order."""
        return [self.queue, self.slow_queue]


_current = None


class RuntimeNotInstalled(RuntimeError):
    """A job or gateway ran in a process that never called `install`."""


def build(config):
    """Connect to Redis and make the queues named by the configuration."""
    conn = redis.Redis.from_url(config["REDIS_URL"])
    name = config["RQ_QUEUE"]
    return Runtime(
        config=config, redis=conn,
        queue=TracedQueue(name, connection=conn), slow_queue=TracedQueue(f"{name}-slow", connection=conn),
        held=HeldClients(config["REDIS_URL"]),
    )


def install(runtime):
    """Make `runtime` the one `current()` returns in this process."""
    global _current
    _current = runtime
    return runtime


def current():
    """The installed Runtime."""
    if _current is None:
        raise RuntimeNotInstalled("no runtime installed: create the app or run `flask worker`")
    return _current
