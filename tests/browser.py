"""Headless Chromium driven over the DevTools protocol (websocket-client): shared by the browser tests."""

import contextlib
import itertools
import json
import subprocess
import time

import requests
import websocket

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--remote-debugging-port=0", "--hide-scrollbars"]


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events = []

    def call(self, method, **params):
        """Send a command and return its result (events seen meanwhile are kept)."""
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == msg_id:
                assert "error" not in message, message
                return message["result"]
            self.events.append(message)

    def wait_for(self, event):
        """Block until `event` arrives."""
        while not any(m.get("method") == event for m in self.events):
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page."""
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self):
        self.ws.close()


@contextlib.contextmanager
def chromium(profile, user_agent=None):
    """Start headless Chromium with its profile in `profile`; yield a DevTools client on its first page."""
    extra = [f"--user-agent={user_agent}"] if user_agent else []
    proc = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(600):  # up to a minute for a cold start on a busy machine, then fail rather than hang
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        tools = DevTools(next(p for p in pages if p["type"] == "page")["webSocketDebuggerUrl"])
        try:
            yield tools
        finally:
            tools.close()
    finally:
        proc.terminate()
        proc.wait()
