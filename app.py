"""The app factory: `flask` finds `create_app` here; gunicorn serves `app:create_app()`."""

import os
from pathlib import Path

from flask import Flask, request

import runtime
from config import ROOT, ConfigError, load_config, require_settings
from jobs import live_reports, notice_kinds
from models.base import bind_database, db, release_connection
from runtime import configure_logging

# A known user's message needs no database (jobs/interactions.py), nor a verify page seen before
# (jobs/live_reports.py and the page cache).
CONNECT_ON_FIRST_QUERY = frozenset({"wechat", "verify"})


def create_app(config=None):
    """Build the app: the settings (the `config` mapping, tests', over the environment over the defaults; read and
    checked once, config.py), then integrations. Served (not run as a `flask` command), production refuses to start
    without its required settings."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(load_config(app.instance_path, config))  # every setting typed and checked, once
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":  # the web; `flask worker|scheduler|menu push` check themselves
        require_settings(app.config)
    try:
        notice_kinds.check_settings(app.config)
    except notice_kinds.TemplateSettingError as exc:
        raise ConfigError(str(exc)) from exc
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    configure_logging(json_lines=app.config["LOG_FORMAT"] == "json")
    init_database(app)
    init_runtime(app)
    register_blueprints(app)
    register_commands(app)
    return app


def init_database(app):
    """Bind the models to DATABASE_URL; connect per request (on the first query for CONNECT_ON_FIRST_QUERY: peewee
    connects then), close in teardown."""
    bind_database(app.config["DATABASE_URL"])

    @app.before_request
    def _connect():
        if request.blueprint not in CONNECT_ON_FIRST_QUERY:
            db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        release_connection()


def init_runtime(app):
    """Redis and the RQ queue, shared with the bot and jobs of this process; the verify page's copy of reports'
    live fields forgotten after each commit that changes them."""
    app.extensions["hegui"] = runtime.install(runtime.build(app.config))
    live_reports.bind()


def register_blueprints(app):
    from webhooks import api, guide, health, rq_admin, security, simulator, staff, verify, wechat

    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    wechat.init_app(app)  # before the proxy fix, which then wraps its Callback too
    security.init_app(app)
    verify.init_app(app)
    app.register_blueprint(guide.bp)
    staff.init_app(app)
    rq_admin.init_app(app)
    simulator.init_app(app)  # development mode only


def register_commands(app):
    from commands import database, demo, departments, domains, holidays, imports, menu, scheduler, worker
    from commands import staff as staff_commands

    database.init_app(app)
    imports.init_app(app)
    departments.init_app(app)
    domains.init_app(app)
    demo.init_app(app)
    menu.init_app(app)
    holidays.init_app(app)
    staff_commands.init_app(app)
    scheduler.init_app(app)
    worker.init_app(app)
