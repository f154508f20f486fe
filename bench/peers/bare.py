"""The baseline: a bare Flask app under the same gunicorn, answering what ours answers with no work behind it.

    gunicorn 'bench.peers.bare:create()'

POST /wechat reads the body and answers `success`. GET /v/<token> and /v/<token>/json answer the bytes of the files
named by BENCH_BARE_PAGE and BENCH_BARE_JSON (the bench saves our real answers there), read once at start.
"""

import os
from pathlib import Path

from flask import Flask, Response, request


def _bytes(name):
    path = os.environ.get(name)
    return Path(path).read_bytes() if path else b""


def create():
    """The bare app."""
    app = Flask("bare")
    page, document = _bytes("BENCH_BARE_PAGE"), _bytes("BENCH_BARE_JSON")

    @app.post("/wechat")
    def wechat():
        request.get_data()
        return Response("success", mimetype="text/plain")

    @app.get("/v/<token>")
    def verify(token):
        return Response(page, mimetype="text/html")

    @app.get("/v/<token>/json")
    def verify_json(token):
        return Response(document, mimetype="application/json")

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app
