"""A local double of the WeCom group robot (`/cgi-bin/webhook/send?key=`), answering like the real one.

Errors as the real robot: 93000 for an unknown key, 45009 over `limit` messages per `window` seconds per key (a sliding
window; 20 per 60 s like the real one unless told otherwise), 40058 for markdown over 4,096 bytes or text over 2,048.
Control endpoints for tests: `GET /_double/messages?key=` lists what a key received,
`POST /_double/fail?key=&count=&errcode=`
makes the next `count` sends to a key fail with `errcode` (e.g. -1 busy), `POST /_double/reset` forgets everything.
Run alone: `python -m devtools.wecom_double [PORT]` (any key is accepted then).
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MARKDOWN_LIMIT = 4096
TEXT_LIMIT = 2048


class WecomDouble:
    """The robot's state: known keys, messages received per key with their times, injected failures."""

    def __init__(self, host="127.0.0.1", port=0, limit=20, window=60.0, keys=None):
        self.limit, self.window = limit, window
        self.keys = set(keys) if keys is not None else None  # None: any non-empty key is valid
        self.messages = {}  # key -> [{"at": float, "msgtype": str, "content": str}]
        self.failures = {}  # key -> [errcode, remaining]
        self.rejected = []  # (key, errcode) of every refused send
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.thread = None

    @property
    def base_url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, key):
        """The webhook URL for robot `key`, as WeCom shows it in the group settings."""
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

    def start(self):
        """Serve in a daemon thread; return self."""
        self.thread = threading.Thread(target=self.server.serve_forever, name="wecom-double", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def received(self, key):
        """Messages `key` accepted, oldest first."""
        with self.lock:
            return list(self.messages.get(key, []))

    def send(self, key, payload):
        """Apply the robot's rules to one send; return the JSON answer."""
        with self.lock:
            if not key or (self.keys is not None and key not in self.keys):
                return self._refuse(key, 93000, "invalid webhook url, hint: [double] key not found")
            failure = self.failures.get(key)
            if failure and failure[1] > 0:
                failure[1] -= 1
                return self._refuse(key, failure[0], "system busy" if failure[0] == -1 else "injected failure")
            error = _content_error(payload)
            if error:
                return self._refuse(key, *error)
            now = time.monotonic()
            recent = [m for m in self.messages.get(key, []) if now - m["mono"] < self.window]
            if len(recent) >= self.limit:
                return self._refuse(key, 45009, "api freq out of limit")
            msgtype = payload["msgtype"]
            self.messages.setdefault(key, []).append(
                {"at": time.time(), "mono": now, "msgtype": msgtype, "content": payload[msgtype]["content"]}
            )
            return {"errcode": 0, "errmsg": "ok"}

    def _refuse(self, key, errcode, errmsg):
        self.rejected.append((key, errcode))
        return {"errcode": errcode, "errmsg": errmsg}


def _content_error(payload):
    """(errcode, errmsg) when the body is not a text/markdown message the robot accepts, else None."""
    msgtype = payload.get("msgtype") if isinstance(payload, dict) else None
    if msgtype not in ("text", "markdown") or not isinstance(payload.get(msgtype), dict):
        return 40008, "invalid message type"
    content = payload[msgtype].get("content")
    if not isinstance(content, str) or not content:
        return 44004, "empty content"
    limit = MARKDOWN_LIMIT if msgtype == "markdown" else TEXT_LIMIT
    if len(content.encode("utf-8")) > limit:
        return 40058, f"markdown.content exceed max length {limit}"
    return None


def _handler_for(double):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # keep test output quiet
            return

        def _json(self, status, body):
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _query(self):
            url = urlparse(self.path)
            return url.path, {k: v[0] for k, v in parse_qs(url.query).items()}

        def do_GET(self):
            path, query = self._query()
            if path == "/_double/messages":
                messages = [{k: v for k, v in m.items() if k != "mono"} for m in double.received(query.get("key", ""))]
                return self._json(200, {"messages": messages})
            return self._json(404, {"errcode": 404, "errmsg": "not found"})

        def do_POST(self):
            path, query = self._query()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path == "/cgi-bin/webhook/send":
                try:
                    payload = json.loads(body or b"null")
                except ValueError:
                    return self._json(200, {"errcode": 40001, "errmsg": "invalid json"})
                return self._json(200, double.send(query.get("key", ""), payload))
            if path == "/_double/fail":
                with double.lock:
                    double.failures[query["key"]] = [int(query.get("errcode", -1)), int(query.get("count", 1))]
                return self._json(200, {"ok": True})
            if path == "/_double/reset":
                with double.lock:
                    double.messages.clear()
                    double.failures.clear()
                    double.rejected.clear()
                return self._json(200, {"ok": True})
            return self._json(404, {"errcode": 404, "errmsg": "not found"})

    return Handler


def start_wecom_double(port=0, **options):
    """Start a double on 127.0.0.1:`port` in a thread (devtools.doubles' starter); return it."""
    return WecomDouble(port=port, **options).start()


def main(argv=None):
    """Serve on 127.0.0.1:PORT (default 5103) until interrupted."""
    argv = sys.argv[1:] if argv is None else argv
    double = WecomDouble(port=int(argv[0]) if argv else 5103)
    print(f"WeCom robot double on {double.base_url}", flush=True)
    try:
        double.server.serve_forever()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
