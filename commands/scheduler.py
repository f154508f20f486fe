"""`flask scheduler`: runs the periodic tasks listed in code, so a flushed Redis loses no schedule.

Each task is `(name, every_seconds, "dotted.function")`; the function takes no arguments and is enqueued as an RQ job
(id `periodic-<name>-<slot>`) once per slot of `every_seconds`, so its failures reach RQ's failure registry and its
work runs on the workers. A Redis lock makes one scheduler active at a time; a per-slot claim key (SET NX) makes a
slot run once even if two schedulers overlap for a moment. Other engineers append to PERIODIC.
"""

import logging
import signal
import sys
import time
import uuid

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import LockError

from commands import require_production_settings

log = logging.getLogger(__name__)

PERIODIC = [
    ("sweep-report-requests", 60, "jobs.pipeline.sweep_stuck_requests"),
    ("wecom-sweep-outbox", 60, "jobs.wecom.sweep_outbox"),
    ("wechat-sweep-unknown", 300, "jobs.delivery.sweep_unknown"),  # rows left `sending` by a dead worker
    ("wechat-sweep-outbound", 60, "jobs.delivery.sweep_outbound"),  # pending rows whose job was lost
    ("staff-daily-reminders", 600, "jobs.reminders.send_daily_reminders"),
    ("flush-view-log", 5, "jobs.views.flush_view_log"),  # verifiers' views, buffered in Redis by the verify page
    ("flush-user-windows", 30, "jobs.interactions.flush_windows"),  # message times the webhook left in Redis
    ("purge-view-logs", 3600, "jobs.retention.purge_view_logs"),
    ("view-digests", 86400, "jobs.digest.send_view_digests"),  # slots start 00:00 UTC = 08:00 in 黑河
]
LOCK_KEY = "hegui:scheduler:lock"
CLAIM_KEY = "hegui:scheduler:claim:{name}:{slot}"
LOCK_TTL = 30  # seconds; the holder renews it every tick
TICK = 1.0
JOB_TIMEOUT = 600


class Scheduler:
    """One scheduler process: holds (or waits for) the lock and enqueues due tasks."""

    def __init__(self, rt, tasks=None, lock_ttl=LOCK_TTL):
        self.rt = rt
        self.tasks = list(PERIODIC if tasks is None else tasks)
        self.lock = rt.redis.lock(LOCK_KEY, timeout=lock_ttl, blocking=False)
        self.identity = uuid.uuid4().hex[:8]

    def hold_lock(self):
        """True when this scheduler holds the lock (acquired now or renewed)."""
        if self.lock.local.token is not None:
            try:
                self.lock.reacquire()
                return True
            except LockError:  # expired or flushed: somebody else may have it now
                self.lock.local.token = None
        return bool(self.lock.acquire(blocking=False))

    def release(self):
        """Give the lock up (on exit) so another scheduler can take over at once."""
        if self.lock.local.token is not None:
            try:
                self.lock.release()
            except LockError:
                log.info("scheduler lock already gone")

    def run_due(self, now=None):
        """Enqueue every task whose current slot has not been claimed yet; return the names enqueued."""
        now = time.time() if now is None else now
        enqueued = []
        for name, every, func in self.tasks:
            slot = int(now // every)
            claim = CLAIM_KEY.format(name=name, slot=slot)
            if not self.rt.redis.set(claim, self.identity, nx=True, ex=max(2 * every, 60)):
                continue
            self.rt.queue.enqueue(func, job_id=f"periodic-{name}-{slot}", job_timeout=JOB_TIMEOUT,
                                  result_ttl=3600, failure_ttl=7 * 86400)
            enqueued.append(name)
        return enqueued

    def tick(self, now=None):
        """One turn of the loop: the due tasks' names, or None when another scheduler holds the lock."""
        if not self.hold_lock():
            return None
        return self.run_due(now)


def init_app(app):
    app.cli.add_command(scheduler_command)


def _exit_on_sigterm(signum, frame):
    sys.exit(0)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run one tick and exit.")
@with_appcontext
def scheduler_command(once):
    """Run the periodic tasks of PERIODIC (one active scheduler at a time, by a Redis lock)."""
    require_production_settings(current_app.config)
    scheduler = Scheduler(current_app.extensions["hegui"])
    if not once:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so `finally` hands the lock over at once
    try:
        while True:
            due = scheduler.tick()
            if due:
                log.info("scheduler enqueued: %s", ", ".join(due))
            if once:
                click.echo("due: " + (", ".join(due) if due else "none") if due is not None else "lock held elsewhere")
                return
            time.sleep(TICK)
    finally:
        scheduler.release()
