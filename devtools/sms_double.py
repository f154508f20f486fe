"""A double of an SMS gateway: receives `POST /send {"mobile", "text"}` and lists what it received.

Control endpoints: `GET /_double/sms?mobile=` (received messages, oldest first), `POST /_double/fail {"status",
"times"}` (the next `times` sends answer HTTP `status`), `POST /_double/reset`.
"""

import argparse
import re
import threading
import time

from flask import Flask, jsonify, request

from devtools.wechat_double import ServerThread

MOBILE = re.compile(r"^1\d{10}$")


class SmsState:
    """Received messages and injected faults, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        """Forget everything."""
        with self.lock:
            self.messages = []
            self.faults = []


def create_sms_app(state=None):
    """The Flask app of the SMS double; `state` is kept on `app.double`."""
    app = Flask("sms_double")
    app.double = state = state or SmsState()

    @app.post("/send")
    def send():
        with state.lock:
            fault = next((f for f in state.faults if f["times"] > 0), None)
            if fault:
                fault["times"] -= 1
                return jsonify(ok=False, error="injected"), fault["status"]
        body = request.get_json(silent=True) or {}
        mobile, text = str(body.get("mobile", "")), body.get("text")
        if not MOBILE.match(mobile) or not isinstance(text, str) or not text:
            return jsonify(ok=False, error="mobile must be 11 digits and text non-empty"), 400
        with state.lock:
            state.messages.append({"mobile": mobile, "text": text, "at": time.time()})
            return jsonify(ok=True, id=len(state.messages))

    @app.get("/_double/sms")
    def listing():
        mobile = request.args.get("mobile")
        with state.lock:
            return jsonify([m for m in state.messages if mobile in (None, m["mobile"])])

    @app.post("/_double/fail")
    def fail():
        body = request.get_json(force=True)
        with state.lock:
            state.faults.append({"status": int(body.get("status", 503)), "times": int(body.get("times", 1))})
        return jsonify(ok=True)

    @app.post("/_double/reset")
    def reset():
        state.reset()
        return jsonify(ok=True)

    return app


def start_sms_double(port=0):
    """Start the SMS double on 127.0.0.1:`port` (0: any free port) in a thread."""
    return ServerThread(create_sms_app(), port=port).start()


def main():
    """Run the SMS double in the foreground."""
    parser = argparse.ArgumentParser(description="SMS gateway double")
    parser.add_argument("--port", type=int, default=5102)
    server = start_sms_double(parser.parse_args().port)
    print(f"SMS double on {server.base_url}", flush=True)
    server.thread.join()


if __name__ == "__main__":
    main()
