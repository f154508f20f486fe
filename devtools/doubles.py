"""`python -m devtools.doubles`: every double of the outside world on its fixed development port (Procfile.dev).

WeChat API on 127.0.0.1:5101 (config.DEV_DOUBLE_BASE), SMS gateway on 5102 (dev.sh sets SMS_WEBHOOK_URL to it).
To add a double, append a (name, port, starter) entry to DOUBLES; the starter takes the port and returns a started
ServerThread.
"""

import contextlib
import signal
import threading

from devtools.sms_double import start_sms_double
from devtools.wechat_double import start_wechat_double
from devtools.wecom_double import start_wecom_double

DOUBLES = [
    ("WeChat API", 5101, start_wechat_double),
    ("SMS gateway", 5102, start_sms_double),
    ("WeCom robot", 5103, start_wecom_double),
]


def main():
    """Start all doubles and serve until interrupted."""
    servers = []
    for name, port, start in DOUBLES:
        server = start(port)
        servers.append(server)
        print(f"{name} double on {server.base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    for server in servers:
        server.stop()


if __name__ == "__main__":
    main()
