"""What jobs and the bot need from the process they run in: settings, Redis and the queue.

The app factory (web) and `flask worker` / `flask scheduler` install one Runtime per process; it holds
configuration and connections only, never state that a second node would need.
"""

from dataclasses import dataclass

import redis
from rq import Queue


@dataclass
class Runtime:
    config: dict
    redis: redis.Redis
    queue: Queue


_current = None


class RuntimeNotInstalled(RuntimeError):
    """A job or gateway ran in a process that never called `install`."""


def build(config):
    """Connect to Redis and make the queue named by the configuration."""
    conn = redis.Redis.from_url(config["REDIS_URL"])
    return Runtime(config=config, redis=conn, queue=Queue(config["RQ_QUEUE"], connection=conn))


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
