"""How much of what owners type the bot understands: the corpus tests/data/bot_corpus.toml through the real bot.

    .venv/bin/python -m bench.bot_corpus                  # SQLite in a temporary folder, Redis database 9
    .venv/bin/python -m bench.bot_corpus --redis-db 8 --misses

Each case is one owner (a fresh WeChat user with a fresh enterprise, bound unless the case says otherwise), the
messages sent before it, and the message itself; its expectations are checked on the conversation state in Redis
(flow, step, slots), on the database (the request made, the binding) and on the reply. A case is understood when
every expectation holds. The bench empties the Redis database it is given. tests/test_bot_corpus.py runs the same
cases in CI and fails when the misses differ from those the corpus marks `known_miss`.
"""

import argparse
import datetime as dt
import inspect
import json
import re
import secrets
import sys
import tempfile
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import cn2an

from bot import engine
from bot.messages import Incoming
from models.base import local_today, utcnow
from models.policy.uscc import make_org_code, make_uscc
from models.tables.accounts import Binding, WechatUser
from models.tables.records import PenaltyRecord
from models.tables.registry import Department, Domain, Enterprise
from models.tables.reports import Report
from models.tables.requests import ReportRequest
from webhooks.wechat import record_interaction

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "bot_corpus.toml"
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


@dataclass
class Outcome:
    case: dict
    reply: str = ""
    problems: list = field(default_factory=list)

    @property
    def understood(self):
        return not self.problems


def load(path=CORPUS):
    """The corpus's cases."""
    with open(path, "rb") as handle:
        return tomllib.load(handle)["case"]


# --- the expected values ----------------------------------------------------------------------------------------


def years_back(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def months_back(day, months):
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def expected_period(spec, today):
    """[start, end] ISO dates for a period spec: y3, m6, since:2024-01-01, since_year:-1, year:-1, h1,
    2023-01-01..2025-12-31."""
    day = dt.timedelta(days=1)
    if m := re.fullmatch(r"y(\d+)", spec):
        start, end = years_back(today, int(m.group(1))) + day, today
    elif m := re.fullmatch(r"m(\d+)", spec):
        start, end = months_back(today, int(m.group(1))) + day, today
    elif spec.startswith("since:"):
        start, end = dt.date.fromisoformat(spec[6:]), today
    elif spec.startswith("since_year:"):
        start, end = dt.date(today.year + int(spec[11:]), 1, 1), today
    elif spec.startswith("year:"):
        year = today.year + int(spec[5:])
        start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today)
    elif spec == "h1":
        year = today.year if today.month >= 7 else today.year - 1
        start, end = dt.date(year, 1, 1), dt.date(year, 6, 30)
    else:
        first, last = spec.split("..")
        start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start.isoformat(), end.isoformat()]


def expected_domains(spec):
    """Domain codes for "all", "all_but:a,b" or a list of codes."""
    every = [d.code for d in Domain.ordered()]
    if spec == "all":
        return every
    if isinstance(spec, str) and spec.startswith("all_but:"):
        left_out = spec[8:].split(",")
        return [c for c in every if c not in left_out]
    return [c for c in every if c in spec]


def expected_purpose(spec):
    """{"category", "text"} for a scenario item or "其他:own words"."""
    if spec.startswith("其他:"):
        return {"category": "其他", "text": spec[3:]}
    for category, items in (
        ("金融", ("上市", "挂牌", "再融资", "并购重组", "发行债券", "银行贷款")),
        ("商务经营", ("招投标", "产权交易", "政府采购", "第三方评估评审")),
        ("行政管理", ("政务服务", "优惠政策", "资金支持", "评比表彰")),
    ):
        if spec in items:
            return {"category": category, "text": spec}
    raise ValueError(f"unknown purpose {spec!r}")


# --- one owner --------------------------------------------------------------------------------------------------


class Owner:
    """One WeChat user of a case, talking to `bot.engine.handle` as the webhook does."""

    def __init__(self, rt, openid):
        self.rt, self.openid, self.n = rt, openid, 0
        self.takes_user = "user" in inspect.signature(engine.handle).parameters

    def send(self, text, kind="text"):
        self.n += 1
        incoming = Incoming(openid=self.openid, kind=kind, text=text, msg_key=f"{self.openid}-{self.n}",
                            create_time=1_790_000_000 + self.n, raw_type=kind)
        user = record_interaction(incoming)
        if self.takes_user:
            return engine.handle(incoming, self.rt, user) or ""
        return engine.handle(incoming, self.rt) or ""

    def state(self):
        raw = self.rt.redis.get(f"bot:conv:{self.openid}")
        return json.loads(raw) if raw else None

    def user(self):
        return WechatUser.get(WechatUser.openid == self.openid)


def _enterprise(n, mobile):
    return Enterprise.create(
        uscc=make_uscc("91231100" + make_org_code(f"MC{n:06d}")), name=f"黑河市语料{n}号商贸有限公司",
        legal_rep="刘洋", mobile=mobile, address="黑河市爱辉区", county="爱辉区")


def _report(owner_user, enterprise, purpose, n):
    """An issued, valid report for `purpose` (only what the bot reads of it)."""
    wanted = expected_purpose(purpose)
    today = local_today()
    request = ReportRequest.create(
        user=owner_user, enterprise=enterprise, msg_key=f"corpus-report-{n}-{uuid.uuid4().hex[:6]}",
        domains=[d.code for d in Domain.ordered()], period_start=years_back(today, 3), period_end=today,
        purpose_category=wanted["category"], purpose=wanted["text"], status="delivered")
    issued = utcnow() - dt.timedelta(days=2)
    return Report.create(
        request=request, enterprise=enterprise, number=f"HH-{issued:%Y%m%d}-{900000 + n:06d}", check_code="ABCDEFGHJK",
        token=secrets.token_urlsafe(24), issued_at=issued, valid_until=issued + dt.timedelta(days=30),
        rule_version="heihe-2024", snapshot="{}", digest="0" * 64, signature="-", key_id="corpus")


def _record(enterprise, n):
    market = Domain.get(Domain.code == "market")
    return PenaltyRecord.create(
        subject_name=enterprise.name, uscc=enterprise.uscc, enterprise=enterprise, decision_no=f"黑市监罚〔2024〕{n}号",
        violation_type="虚假宣传", category="罚款", content="罚款人民币5000元",
        decided_on=local_today() - dt.timedelta(days=800), authority="黑河市市场监督管理局", domain=market,
        procedure="普通程序", department=Department.get(Department.code == "market"))


def last_code(rt, mobile):
    """The newest binding code sent to `mobile`: from the SMS rows, or (before them) from the RQ job arguments."""
    texts = []
    try:
        from models.tables.accounts import SmsMessage
    except ImportError:
        SmsMessage = None  # noqa: N806 - today's main has no SMS rows
    if SmsMessage is not None:
        texts = [row.text for row in SmsMessage.select().where(SmsMessage.mobile == mobile).order_by(SmsMessage.id)]
    if not texts:
        texts = [str(job.args[1]) for job in rt.queue.jobs
                 if job.func_name == "jobs.sms.send_sms" and len(job.args) == 2 and job.args[0] == mobile]
    found = [CODE.search(t) for t in texts if t]
    return found[-1].group(0) if found and found[-1] else "000000"


def _fill(text, enterprise, rt):
    if "{code" in text:
        code = last_code(rt, enterprise.mobile)
        text = text.replace("{code_cn}", "".join(cn2an.an2cn(c) for c in code)).replace("{code}", code)
    return text.replace("{uscc}", enterprise.uscc)


def run_case(rt, case, n):
    """Play one case; its Outcome."""
    owner = Owner(rt, f"o-corpus-{n}")
    enterprise = _enterprise(n, case.get("mobile", f"139{n:08d}"))
    user = WechatUser.get_or_create(openid=owner.openid)[0]
    if case.get("bound", True):
        Binding.create(user=user, enterprise=enterprise)
        user.active_enterprise = enterprise
        user.save()
    other = WechatUser.create(openid=f"o-corpus-{n}-other")
    for index, purpose in enumerate(case.get("reports", [])):
        _report(user, enterprise, purpose, n * 10 + index)
    for index, purpose in enumerate(case.get("others_reports", [])):
        Binding.create(user=other, enterprise=enterprise)
        _report(other, enterprise, purpose, n * 10 + 5 + index)
    for index in range(case.get("records", 0)):
        _record(enterprise, n * 10 + index)
    kind = case.get("kind", "text")
    for message in case.get("before", []):
        owner.send(_fill(message, enterprise, rt))
    outcome = Outcome(case)
    try:
        outcome.reply = owner.send(_fill(case["say"], enterprise, rt), kind)
    except Exception as exc:  # noqa: BLE001 - a crash is a miss, reported with its type
        outcome.problems.append(f"raised {type(exc).__name__}: {exc}")
        return outcome
    check(outcome, owner, enterprise, case.get("expect", {}))
    return outcome


def check(outcome, owner, enterprise, expect):
    """Compare what happened with the case's expectations; note each difference."""
    problems, reply, state = outcome.problems, outcome.reply, owner.state()
    slots = (state or {}).get("slots", {})
    today = local_today()
    if "flow" in expect:
        got = state["flow"] if state else "none"
        if got != expect["flow"]:
            problems.append(f"flow {got!r}, expected {expect['flow']!r}")
    if "step" in expect and (state or {}).get("step") != expect["step"]:
        problems.append(f"step {(state or {}).get('step')!r}, expected {expect['step']!r}")
    if "domains" in expect and slots.get("domains") != expected_domains(expect["domains"]):
        problems.append(f"domains {slots.get('domains')}, expected {expect['domains']}")
    if "period" in expect and slots.get("period") != expected_period(expect["period"], today):
        problems.append(f"period {slots.get('period')}, expected {expected_period(expect['period'], today)}")
    if "purpose" in expect and slots.get("purpose") != expected_purpose(expect["purpose"]):
        problems.append(f"purpose {slots.get('purpose')}, expected {expect['purpose']}")
    for absent in expect.get("unset", []):
        if absent in slots:
            problems.append(f"{absent} set to {slots[absent]}, expected unset")
    for fragment in expect.get("reply", []):
        if fragment not in reply:
            problems.append(f"reply lacks {fragment!r}")
    for fragment in expect.get("not_reply", []):
        if fragment in reply:
            problems.append(f"reply has {fragment!r}")
    if "request" in expect:
        _check_request(problems, owner, expect["request"])
    if "bound" in expect:
        bound = Binding.select().where((Binding.user == owner.user()) & (Binding.enterprise == enterprise)
                                       & Binding.revoked_at.is_null()).exists()
        if bound != expect["bound"]:
            problems.append(f"bound {bound}, expected {expect['bound']}")


def _check_request(problems, owner, wanted):
    rows = list(ReportRequest.select().where(ReportRequest.user == owner.user()).order_by(ReportRequest.id.desc()))
    made = [r for r in rows if not r.msg_key.startswith("corpus-report-")]
    if not made:
        problems.append("no report request made")
        return
    row = made[0]
    for name, value in wanted.items():
        got = getattr(row, name, None)
        if name == "domains":
            value = expected_domains(value)
        if got != value:
            problems.append(f"request {name} {got!r}, expected {value!r}")


def run(rt, cases):
    """Every case's Outcome, in order."""
    return [run_case(rt, case, n) for n, case in enumerate(cases, start=1)]


def summary(outcomes, show_misses=True):
    """The understood share, and each miss with what went wrong."""
    understood = sum(o.understood for o in outcomes)
    lines = [f"understood {understood} of {len(outcomes)} ({100 * understood / len(outcomes):.1f} %)"]
    if show_misses:
        for o in outcomes:
            if not o.understood:
                lines.append(f"  miss {o.case['id']}: {o.case['say']!r} — {'; '.join(o.problems)}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-db", type=int, default=9, help="a Redis database the bench may empty")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--corpus", default=str(CORPUS))
    args = parser.parse_args(argv)
    from app import create_app
    from models.base import db
    from models.tables.schema import seed, upgrade

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "DATABASE_URL": f"sqlite:///{tmp}/corpus.db", "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
            "INSTANCE_PATH": f"{tmp}/instance", "PUBLIC_BASE_URL": "http://hegui.test", "SECRET_KEY": "corpus",
            "RQ_QUEUE": f"corpus-{uuid.uuid4().hex[:8]}", "TESTING": True,
        })
        rt = app.extensions["hegui"]
        rt.redis.flushdb()
        with app.app_context():
            db.connect(reuse_if_open=True)
            upgrade()
            seed()
            outcomes = run(rt, load(args.corpus))
        rt.redis.flushdb()
    print(summary(outcomes, args.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
