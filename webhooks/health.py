"""GET /healthz: 200 when the database and Redis answer, 503 otherwise."""

from flask import Blueprint, current_app, jsonify
from peewee import PeeweeException
from redis.exceptions import RedisError

from models.base import ping

bp = Blueprint("health", __name__)


def _check_database():
    try:
        ping()
        return "ok"
    except PeeweeException as exc:
        return f"error: {type(exc).__name__}"


def _check_redis():
    try:
        current_app.extensions["hegui"].redis.ping()
        return "ok"
    except RedisError as exc:
        return f"error: {type(exc).__name__}"


@bp.get("/healthz")
def healthz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503
