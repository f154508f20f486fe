"""`flask worker`: an RQ worker on the configured queue, inside the app (database bound, runtime installed).

Why SimpleWorker: RQ's default Worker forks a work-horse per job, and the child would inherit this process's open
database connection (a psycopg2 socket or an SQLite handle) and share it with the parent. SimpleWorker runs each job
in this process instead; `AppWorker` opens the database connection for the job and closes it afterwards, so nothing
is held between jobs and RQ's scheduler process (forked at start) never sees one. Job timeouts still work (SIGALRM
in the main thread); slow outside work (wkhtmltopdf) runs in its own subprocess. A job that crashes the interpreter
takes the worker with it: the supervisor restarts it and `flask scheduler`'s sweep re-enqueues the request.
"""

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker

from commands import require_production_settings
from models.base import db
from runtime import reset_trace_id, set_trace_id


class AppWorker(SimpleWorker):
    """SimpleWorker that gives each job a fresh database connection and closes it afterwards."""

    def perform_job(self, job, queue, execution):
        db.connect(reuse_if_open=True)
        token = set_trace_id((job.meta or {}).get("trace_id"))
        try:
            return super().perform_job(job, queue, execution)
        finally:
            reset_trace_id(token)
            if not db.is_closed():
                db.close()


def init_app(app):
    app.cli.add_command(worker_command)



@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then exit (tests, benchmarks).")
@click.option("--max-jobs", type=int, default=None, help="Exit after this many jobs (a supervisor restarts it).")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
@with_appcontext
def worker_command(burst, max_jobs, name):
    """Run an RQ worker on RQ_QUEUE; retries scheduled with back-off are released by its scheduler."""
    require_production_settings(current_app.config)
    rt = current_app.extensions["hegui"]
    if not db.is_closed():
        db.close()
    worker = AppWorker(rt.queues, connection=rt.redis, name=name)
    worker.work(burst=burst, max_jobs=max_jobs, with_scheduler=True, logging_level="INFO")
