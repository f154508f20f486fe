"""The whole service as separate processes on loopback: gunicorn, RQ workers, the scheduler and the three doubles.

Used by the end-to-end tests and the load driver (`bench/load_owners.py`). Every process starts in its own session
(process group) and is killed at `stop()`. Ports are free ones; the app is wired to the doubles by environment
variables, in a production-like configuration (WECHAT_APPID and WECHAT_AES_KEY set: safe mode; a generated signing
key) unless `dev_mode=True` (HEGUI_ENV=development: the chat simulator is served).

    with Stack(database_url, redis_url, workdir) as stack:
        owner = stack.owner("o-1")
        owner.event("subscribe"); owner.say("绑定企业")
"""

import base64
import contextlib
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.codec import message_xml
from config import DEV_WECHAT_APPID, DEV_WECHAT_TOKEN
from devtools import pg
from models.policy.report import pki, sm2
from webhooks.simulator import post_to_wechat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
E2E_APPID = "wxe2e0000000000001"
ROBOT_KEY = "e2e-staff-group"
WECHAT_TRIES = 3  # WeChat delivers a message up to three times when our server does not answer
CLEARED = ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_TOKEN", "WECHAT_AES_KEY", "WECHAT_AES_KEY_PREVIOUS",
           "SIGNING_KEY", "SECRET_KEY", "WECOM_ROBOT_URL", "FLASK_APP", "PORT", "GUIDE_CONTACT", "SM2_SIGNING_KEY",
           "PDF_SIGNING_CERT", "PDF_SIGNING_KEY", "PDF_SIGNING_CHAIN", "PDF_TSA_URL", "PDF_SEAL_IMAGE", "HEGUI_ENV",
           "FLASK_DEBUG", "PUBLIC_BASE_URL")


class StackError(RuntimeError):
    """A process of the stack did not start (its log tail is in the message)."""


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout, what, interval=0.1):
    """Poll `check()` until it returns something truthy; raise TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


def aes_key():
    """A random 43-character EncodingAESKey."""
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def signing_pem():
    """A fresh Ed25519 private key as PEM text."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@contextlib.contextmanager
def postgres_database(admin_url):
    """A PostgreSQL database made for one run and dropped afterwards; yields its URL."""
    name = f"hegui_stack_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    pg.admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        pg.admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    """The service's processes on loopback; `start()` returns when /healthz answers, `stop()` kills them all."""

    def __init__(self, database_url, redis_url, workdir, dev_mode=False, workers=1, web_workers=2, web_threads=4,
                 scheduler=True, extra_env=None):
        self.database_url, self.redis_url = database_url, redis_url
        self.workdir = Path(workdir)
        self.dev_mode, self.workers, self.web_workers, self.web_threads = dev_mode, workers, web_workers, web_threads
        self.scheduler = scheduler
        self.extra_env = dict(extra_env or {})
        self.procs = []  # (name, Popen, log path)
        self.ports = {}
        self.env = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Start the doubles, prepare the database, then web, workers and scheduler; wait until web is healthy."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_doubles()
            self.env = self._environment()
            self.flask("init-db", check=True)
            self._start_service()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Terminate every process group (SIGTERM, then SIGKILL after STOP_TIMEOUT), newest first."""
        for _name, proc, _log in reversed(self.procs):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for _name, proc, _log in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        self.procs = []

    def _spawn(self, name, argv, env=None):
        log = self.workdir / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - owned by the child from here on
        proc = subprocess.Popen(argv, cwd=ROOT, env=env or self._base_env(), stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        handle.close()
        self.procs.append((name, proc, log))
        return proc

    def _base_env(self):
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env["PYTHONUNBUFFERED"] = "1"
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    def _start_doubles(self):
        python = sys.executable
        for name, argv in (("wechat", [python, "-m", "devtools.wechat_double", "--port"]),
                           ("sms", [python, "-m", "devtools.sms_double", "--port"]),
                           ("wecom", [python, "-m", "devtools.wecom_double"])):
            self.ports[name] = port = free_port()
            self._spawn(f"double-{name}", [*argv, str(port)])
        for name in ("wechat", "sms", "wecom"):
            self._wait_port(name, self.ports[name])

    def _environment(self):
        """The service's environment: the doubles, the database, Redis; production-like unless dev_mode."""
        self.ports["web"] = web = free_port()
        env = self._base_env()
        env.update({
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
            "RQ_QUEUE": f"stack-{uuid.uuid4().hex[:8]}",
            "WECHAT_API_BASE": f"{self.wechat_url}/cgi-bin/", "WECHAT_OAUTH_BASE": self.wechat_url,
            "SMS_BACKEND": "http", "SMS_WEBHOOK_URL": f"{self.sms_url}/send",
            "WECOM_ROBOT_URL": f"{self.wecom_url}/cgi-bin/webhook/send?key={ROBOT_KEY}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{web}",
            "SECRET_KEY": secrets.token_hex(32),
        })
        if self.dev_mode:
            env["HEGUI_ENV"] = "development"
        else:
            key_path = self.workdir / "signing-key.pem"
            key_path.write_text(signing_pem())
            key_path.chmod(0o600)
            env.update({"WECHAT_APPID": E2E_APPID, "WECHAT_SECRET": secrets.token_hex(16),
                        "WECHAT_TOKEN": secrets.token_hex(12), "WECHAT_AES_KEY": aes_key(),
                        "WECHAT_TEMPLATE_CASE_OUTCOME": "e2e-case-outcome", "SIGNING_KEY": str(key_path)})
            env.update(self._signing_env())
        env.update(self.extra_env)
        return env

    def _signing_env(self):
        """The report's other signing settings production requires: an SM2 key, a PDF signer under a throw-away CA
        (made as development makes its own), and the contact printed on reports."""
        pki.generate_development(self.workdir, "黑河市社会信用体系建设领导小组办公室")
        return {"SM2_SIGNING_KEY": sm2.generate_private(), "GUIDE_CONTACT": "黑河市信用信息中心 0456-0000000（测试）",
                "PDF_SIGNING_CERT": str(self.workdir / "pdf-signer.pem"),
                "PDF_SIGNING_KEY": str(self.workdir / "pdf-signer-key.pem"),
                "PDF_SIGNING_CHAIN": str(self.workdir / "pdf-ca.pem")}

    def _start_service(self):
        web = self.ports["web"]
        self._spawn("web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{web}", "--workers", str(self.web_workers),
                            "--threads", str(self.web_threads), "--timeout", "30", "app:create_app()"], self.env)
        for n in range(self.workers):
            self._spawn(f"worker-{n}", [str(BIN / "flask"), "worker", "--name", f"stack-{web}-{n}"], self.env)
        if self.scheduler:
            self._spawn("scheduler", [str(BIN / "flask"), "scheduler"], self.env)
        self._wait(lambda: _get_ok(f"{self.base_url}/healthz"), "web /healthz")

    def _wait_port(self, name, port):
        def listening():
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0
        self._wait(listening, f"the {name} double on port {port}")

    def _wait(self, check, what):
        """wait_until, failing early (with the log tail) when a process of the stack has exited."""
        def alive_check():
            for name, proc, log in self.procs:
                if proc.poll() is not None:
                    raise StackError(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
            return check()
        return wait_until(alive_check, START_TIMEOUT, what)

    # -- helpers for callers --------------------------------------------------------------------------------

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def wechat_url(self):
        return f"http://127.0.0.1:{self.ports['wechat']}"

    @property
    def sms_url(self):
        return f"http://127.0.0.1:{self.ports['sms']}"

    @property
    def wecom_url(self):
        return f"http://127.0.0.1:{self.ports['wecom']}"

    @property
    def config(self):
        """What a WeChat client needs to talk to this stack (as in the app's config)."""
        return {"WECHAT_TOKEN": self.env.get("WECHAT_TOKEN", DEV_WECHAT_TOKEN),
                "WECHAT_AES_KEY": self.env.get("WECHAT_AES_KEY"),
                "WECHAT_APPID": self.env.get("WECHAT_APPID", DEV_WECHAT_APPID)}

    def flask(self, *args, stdin=None, check=False):
        """Run `flask ARGS` with the stack's environment; return the CompletedProcess."""
        result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=self.env or self._environment(),
                                input=stdin, capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise StackError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def logs(self):
        """The tail of every process's log (for failure messages)."""
        return "\n".join(f"== {name}\n{_tail(log)}" for name, _proc, log in self.procs)

    def owner(self, openid, session=None):
        """A simulated WeChat user talking to this stack."""
        return Owner(self, openid, session)

    def sms(self, mobile=None):
        """What the SMS double received (for `mobile`), oldest first."""
        return requests.get(f"{self.sms_url}/_double/sms", params={"mobile": mobile} if mobile else None,
                            timeout=10).json()

    def staff_group(self):
        """What the staff WeCom group (the default robot) received, oldest first."""
        return requests.get(f"{self.wecom_url}/_double/messages", params={"key": ROBOT_KEY},
                            timeout=10).json()["messages"]

    def media(self, media_id):
        """The bytes of an image the service uploaded to the WeChat double."""
        response = requests.get(f"{self.wechat_url}/_double/media/{media_id}", timeout=10)
        response.raise_for_status()
        return response.content


class Owner:
    """One WeChat user: tells the double it interacted (opening the window) and posts to /wechat like WeChat."""

    _msg_ids = itertools.count(secrets.randbits(40))

    def __init__(self, stack, openid, session=None):
        self.stack, self.openid = stack, openid
        self.session = session or requests.Session()
        self.clock = int(time.time())

    def _created(self):
        """CreateTime strictly increasing per user (events are deduplicated by openid and CreateTime)."""
        self.clock = max(int(time.time()), self.clock + 1)
        return self.clock

    def _post(self, kind, xml, event=None):
        """Tell the double, then deliver to /wechat; like WeChat, retry a failed connection (same message) twice."""
        for attempt in range(WECHAT_TRIES):
            try:
                self.session.post(f"{self.stack.wechat_url}/_double/interaction",
                                  json={"openid": self.openid, "kind": kind, "event": event},
                                  timeout=10).raise_for_status()
                status, reply = post_to_wechat(self.session, f"{self.stack.base_url}/wechat", xml, self.stack.config,
                                               self.openid)
                break
            except (requests.ConnectionError, requests.Timeout):
                if attempt == WECHAT_TRIES - 1:
                    raise
        if status != 200:
            raise StackError(f"/wechat answered {status} for {self.openid}")
        return reply

    def say(self, text):
        """Send a text message; return the passive reply."""
        xml = message_xml(self.openid, "text", self._created(), msg_id=next(self._msg_ids), Content=text)
        return self._post("message", xml)

    def event(self, event, key=None):
        """Send an event (subscribe, CLICK with `key` …); return the passive reply."""
        fields = {"Event": event} if key is None else {"Event": event, "EventKey": key}
        return self._post("event", message_xml(self.openid, "event", self._created(), **fields), event)

    def sent(self):
        """What the WeChat double delivered to this user (custom and template messages), oldest first."""
        return self.session.get(f"{self.stack.wechat_url}/_double/sent", params={"openid": self.openid},
                                timeout=10).json()

    def wait_sent(self, predicate, timeout, what, interval=0.2):
        """The first delivered message matching `predicate`, polling every `interval` s for up to `timeout` s."""
        return wait_until(lambda: next((m for m in self.sent() if predicate(m)), None), timeout, what, interval)


def _get_ok(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _signal_group(proc, sig):
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


def _tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
