"""What jobs and the bot need from the process they run in: settings, Redis and the queue.

The app factory (web) and `flask worker` / `flask scheduler` install one Runtime per process; it holds
configuration and connections only, never state that a second node would need.
"""

from dataclasses import dataclass

import redis

from jobs.trace import TracedQueue


@dataclass
class Runtime:
    config: dict
    redis: redis.Redis
    queue: TracedQueue  # build, delivery, notices: what a person is waiting for
    slow_queue: TracedQueue  # PDF rendering: workers take it only when `queue` is empty

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
