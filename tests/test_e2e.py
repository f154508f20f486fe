"""End to end on real processes: gunicorn, `flask worker`, `flask scheduler`, Redis, the database, and the WeChat,
WeCom and SMS doubles as separate processes (devtools.stack), in a production-like configuration (safe mode).

Nothing here calls our code in-process except to read the database for the checks.
"""

import datetime as dt
import io
import json
import re
import secrets
import threading
import time
from urllib.parse import urlencode

import browser
import pytest
import redis
import requests
import xmltodict
from conftest import PG_ADMIN_URL, REDIS_BASE, REDIS_DB, TEST_DB
from PIL import Image
from pyzbar.pyzbar import decode
from wechatpy.crypto import WeChatCrypto

from bot.codec import message_xml, reply_text, signed_request
from bot.flows.binding import usable_mobile
from devtools.stack import Stack, postgres_database, wait_until
from models.base import bind_database, db, local_today
from models.tables.accounts import Binding, BindingReview, WechatUser
from models.tables.cases import ACCEPTED, Case
from models.tables.outbound import OutboundMessage
from models.tables.records import ACTIVE, CORRECTED, NO_PENALTY, ORDINARY, VERIFIED, PenaltyRecord
from models.tables.registry import Domain, Enterprise
from models.tables.reports import Report
from models.tables.requests import DELIVERED, ReportRequest

pytestmark = pytest.mark.e2e

WAIT = 90  # seconds before a missing message fails the test instead of hanging it
SENTENCE = "帮我开一份近三年全部领域的报告，用于银行贷款"
STAFF_PASSWORD = "e2e-office-password-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def stack_database(tmp_path_factory):
    """A database of its own for the processes: a fresh PostgreSQL database, or an SQLite file."""
    if TEST_DB == "postgres":
        with postgres_database(PG_ADMIN_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'e2e.db'}"


def _flush():
    conn = redis.Redis.from_url(f"{REDIS_BASE}/{REDIS_DB}")
    conn.flushdb()
    conn.close()


@pytest.fixture(scope="module")
def stack(stack_database, tmp_path_factory):
    """The production-like stack with the small demo data set; the test reads the same database."""
    _flush()
    # The sweeps' thresholds scaled down from minutes to seconds (their period, the scheduler's minute, is not).
    fast_sweeps = {"REPORT_STUCK_SECONDS": "5", "OUTBOUND_STALE_SECONDS": "5"}
    with Stack(stack_database, f"{REDIS_BASE}/{REDIS_DB}", tmp_path_factory.mktemp("e2e-stack"),
               extra_env=fast_sweeps) as running:
        running.flask("demo-data", "--enterprises", "150", "--records", "700", check=True)
        bind_database(stack_database)
        db.connect(reuse_if_open=True)
        yield running
        db.close()
    _flush()


def _enterprise_for_objection(exclude=()):
    """An enterprise with a usable mobile and a counted, verified penalty inside the last two years (fed domains)."""
    since = local_today() - dt.timedelta(days=700)
    fed = Domain.select(Domain.id).where(Domain.code.not_in(["finance", "landscaping"]))
    records = (PenaltyRecord.select().where(
        (PenaltyRecord.status == ACTIVE) & (PenaltyRecord.review == VERIFIED) & (PenaltyRecord.procedure == ORDINARY)
        & (PenaltyRecord.category != NO_PENALTY) & (PenaltyRecord.decided_on > since)
        & PenaltyRecord.enterprise.is_null(False) & PenaltyRecord.domain.in_(fed)).order_by(PenaltyRecord.id))
    for record in records:
        enterprise = record.enterprise
        if usable_mobile(enterprise.mobile) and enterprise.id not in exclude:
            return enterprise, record
    raise LookupError("the demo data has no enterprise with a recent counted record")


def _enterprise_with_mobile(exclude=()):
    return next(e for e in Enterprise.select().order_by(Enterprise.id)
                if usable_mobile(e.mobile) and e.id not in exclude)


def bind(stack, owner, enterprise):
    """subscribe → 绑定企业 → USCC → the code the SMS double received → bound."""
    mobile = usable_mobile(enterprise.mobile)
    assert "欢迎关注" in owner.event("subscribe")
    assert "统一社会信用代码" in owner.say("绑定企业")
    before = len(stack.sms(mobile))
    assert "验证码已发送" in owner.say(enterprise.uscc)
    received = wait_until(lambda: stack.sms(mobile)[before:], WAIT, "the binding SMS", interval=0.2)
    code = re.search(r"验证码 (\d{6})", received[-1]["text"]).group(1)
    assert "绑定成功" in owner.say(code)


def apply_for_report(owner):
    """申请报告 in one sentence, confirmed; the QR image and the link text arrive at the WeChat double."""
    summary = owner.say(SENTENCE)
    assert "全部（16个领域）" in summary and "银行贷款" in summary and "确认" in summary
    assert "报告正在生成" in owner.say("确认")
    image = owner.wait_sent(lambda m: m["kind"] == "image", WAIT, "the QR image")
    text = owner.wait_sent(lambda m: m["kind"] == "text" and "报告编号" in (m["text"] or ""), WAIT, "the report text")
    return image, text


def _log_lines_with_trace(stack, trace_id):
    """Messages of the workers' JSON log lines that carry `trace_id` (the id the webhook gave the message)."""
    assert trace_id and trace_id != "-"
    lines = []
    for name, _proc, log in stack.procs:
        if name.startswith("worker"):
            for raw in log.read_text(errors="replace").splitlines():
                if raw.startswith("{") and json.loads(raw).get("trace_id") == trace_id:
                    lines.append(json.loads(raw)["message"])
    return lines


def test_owner_binds_applies_and_the_scanned_qr_shows_a_valid_report(stack):
    enterprise = _enterprise_with_mobile()
    owner = stack.owner("o-e2e-owner-a")
    bind(stack, owner, enterprise)
    image, text = apply_for_report(owner)

    scanned = decode(Image.open(io.BytesIO(stack.media(image["media_id"]))))
    url = scanned[0].data.decode()
    assert url.startswith(f"{stack.base_url}/v/") and url in text["text"]
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "有效" in page.text and enterprise.name in page.text

    user = WechatUser.get(WechatUser.openid == owner.openid)
    [request] = ReportRequest.select().where(ReportRequest.user == user)
    [report] = Report.select().where(Report.request == request)
    assert request.status == DELIVERED and report.enterprise_id == enterprise.id
    assert url == f"{stack.base_url}/v/{report.token}" and report.number in page.text
    assert json.loads(report.snapshot)["verify"]["url"] == url
    assert {m.state for m in OutboundMessage.select().where(OutboundMessage.user == user)} == {"sent"}
    traced = _log_lines_with_trace(stack, request.trace_id)
    assert any("issued report" in line for line in traced) and any("to user" in line for line in traced)

    pdf = wait_until(lambda: _pdf(url), WAIT, "the PDF", interval=0.5)
    assert pdf.startswith(b"%PDF")
    assert Report.get_by_id(report.id).pdf_ready_at is not None


def _pdf(url):
    response = requests.get(f"{url}/pdf", timeout=10)
    ok = response.status_code == 200 and response.headers["Content-Type"].startswith("application/pdf")
    return response.content if ok else None


def _record_number(listing, decision_no):
    """The number the bot gave to the record `decision_no` in its list ("N. date authority\\ndecision_no")."""
    lines = listing.splitlines()
    at = next(i for i, line in enumerate(lines) if decision_no in line)
    return re.match(r"(\d+)\.", lines[at - 1] if not re.match(r"\d+\.", lines[at]) else lines[at]).group(1)


def _csrf(session, url):
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text[:300]
    return CSRF.search(page.text).group(1)


def test_objection_reaches_staff_and_acceptance_corrects_the_earlier_report(stack):
    first_owner_enterprises = {e.id for e in Enterprise.select().join(
        ReportRequest, on=ReportRequest.enterprise == Enterprise.id)}
    enterprise, record = _enterprise_for_objection(exclude=first_owner_enterprises)
    owner = stack.owner("o-e2e-owner-b")
    bind(stack, owner, enterprise)
    apply_for_report(owner)
    report = Report.get(Report.enterprise == enterprise)
    assert record.decision_no in report.snapshot

    listing = owner.say("异议申诉")
    assert record.decision_no in listing
    assert "理由" in owner.say(_record_number(listing, record.decision_no))
    assert "证明材料" in owner.say("该处罚决定书所列主体并非本企业，请核实更正")
    summary = owner.say("无")
    assert record.decision_no in summary and "确认" in summary
    opened = owner.say("确认")
    case = Case.get(Case.record == record)
    assert case.number in opened and case.user.openid == owner.openid

    notices = wait_until(lambda: [m for m in stack.staff_group() if case.number in m["content"]], WAIT,
                         "the WeCom notice")
    assert notices[0]["msgtype"] == "markdown" and record.decision_no in notices[0]["content"]
    assert f"{stack.base_url}/staff/cases/{case.id}" in notices[0]["content"]

    created = stack.flask("staff", "create", "e2e-office", "--role", "office", stdin=STAFF_PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    staff = requests.Session()
    login = staff.post(f"{stack.base_url}/staff/login", allow_redirects=False, timeout=10, data={
        "csrf_token": _csrf(staff, f"{stack.base_url}/staff/login"), "username": "e2e-office",
        "password": STAFF_PASSWORD})
    assert login.status_code == 302 and "/staff/" in login.headers["Location"]
    assert case.number in staff.get(f"{stack.base_url}/staff/cases", timeout=10).text
    case_url = f"{stack.base_url}/staff/cases/{case.id}"
    forged = staff.post(f"{case_url}/review", data={}, allow_redirects=False, timeout=10)
    assert forged.status_code == 400 and Case.get_by_id(case.id).status == "submitted"
    reviewed = staff.post(f"{case_url}/review", data={"csrf_token": _csrf(staff, case_url)}, allow_redirects=False,
                          timeout=10)
    assert reviewed.status_code == 303
    accepted = staff.post(f"{case_url}/accept", allow_redirects=False, timeout=10, data={
        "csrf_token": _csrf(staff, case_url), "resolution": "corrected", "reason": "经核实处罚对象有误，已更正。"})
    assert accepted.status_code == 303

    assert Case.get_by_id(case.id).status == ACCEPTED
    assert PenaltyRecord.get_by_id(record.id).status == CORRECTED
    assert Report.get_by_id(report.id).corrected_at is not None
    page = requests.get(f"{stack.base_url}/v/{report.token}", timeout=10)
    assert page.status_code == 200 and "数据已更正" in page.text
    outcome = owner.wait_sent(lambda m: case.number in (m.get("text") or ""), WAIT, "the outcome message")
    assert "已办结" in outcome["text"]
    offer = owner.wait_sent(lambda m: "数据已更正" in (m.get("text") or ""), WAIT, "the new-report offer")
    assert report.number in offer["text"]


@pytest.fixture(scope="module")
def dev_stack(stack_database, tmp_path_factory, stack):
    """A development-mode web process (no APPID: the simulator is served) on the same database, no worker."""
    with Stack(stack_database, f"{REDIS_BASE}/{REDIS_DB}", tmp_path_factory.mktemp("e2e-dev"), dev_mode=True,
               workers=0, scheduler=False, web_workers=1) as running:
        yield running


def test_chat_page_in_headless_chromium_shows_the_reply_bubble(dev_stack, tmp_path):
    assert requests.get(f"{dev_stack.base_url}/dev/chat", timeout=10).status_code == 200
    with browser.chromium(tmp_path / "profile") as page:
        page.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        page.call("Page.enable")
        page.call("Page.navigate", url=f"{dev_stack.base_url}/dev/chat?openid=o-e2e-browser")
        page.wait_for("Page.loadEventFired")
        page.evaluate("document.getElementById('text').value = '帮助';"
                      "document.querySelector('#say button').click(); true")
        replies = wait_until(lambda: page.evaluate(
            "[...document.querySelectorAll('.row.them .bubble')].map(b => b.innerText)"), WAIT, "the reply bubble")
        mine = page.evaluate("[...document.querySelectorAll('.row.me .bubble')].map(b => b.innerText)")
        menu = page.evaluate("[...document.querySelectorAll('.menu button')].map(b => b.innerText)")
    assert mine == ["帮助"]
    assert "可回复以下关键词办理" in replies[0] and "绑定企业" in replies[0]
    assert "申请报告" in menu and "帮助" in menu
    assert WechatUser.get(WechatUser.openid == "o-e2e-browser").last_message_at is not None


def test_chat_page_sends_a_photo_from_the_file_picker(dev_stack, tmp_path):
    """The simulator's 📷: a photo picked in the page reaches the flow as an image message (人工审核绑定 here)."""
    enterprise = Enterprise.select().where(Enterprise.mobile == "").order_by(Enterprise.id).first()
    picture = tmp_path / "licence.png"
    Image.new("RGB", (60, 40), "white").save(picture)
    with browser.chromium(tmp_path / "profile") as page:
        page.call("Page.enable")
        page.call("Page.navigate", url=f"{dev_stack.base_url}/dev/chat?openid=o-e2e-photo")
        page.wait_for("Page.loadEventFired")
        for n, text in enumerate(["绑定企业", enterprise.uscc], start=1):
            page.evaluate(f"document.getElementById('text').value = {json.dumps(text)};"
                          "document.querySelector('#say button').click(); true")
            wait_until(lambda n=n: len(page.evaluate("[...document.querySelectorAll('.row.them .bubble')]"
                                                     ".map(b => b.innerText)")) >= n, WAIT, f"reply {n}")
        root = page.call("DOM.getDocument")["root"]["nodeId"]
        picker = page.call("DOM.querySelector", nodeId=root, selector="#photo")["nodeId"]
        page.call("DOM.setFileInputFiles", files=[str(picture)], nodeId=picker)
        replies = wait_until(lambda: [r for r in page.evaluate(
            "[...document.querySelectorAll('.row.them .bubble')].map(b => b.innerText)") if "已收到第 1 张照片" in r],
            WAIT, "the photo's reply")
        shown = wait_until(lambda: [w for w in page.evaluate(  # the <img> loads after its bubble and the reply appear
            "[...document.querySelectorAll('.row.me .bubble img')].map(i => i.naturalWidth)") if w], WAIT,
            "the photo shown")
    assert replies and shown == [60]


# -- the doors an attacker tries first (issue 13, items 1-3), on the production-like stack ----------------------


def _recorded(stack, owner, text):
    """A message exactly as WeChat would post it (safe mode), kept to be sent again later: (query args, body)."""
    xml = message_xml(owner.openid, "text", owner._created(), msg_id=next(owner._msg_ids), Content=text)
    config = stack.config
    return signed_request(xml, config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APPID"], owner.openid)


def _post_recorded(stack, recorded):
    args, body = recorded
    response = requests.post(f"{stack.base_url}/wechat?{urlencode(args)}", data=body, timeout=10,
                             headers={"Content-Type": "text/xml"})
    return response.status_code, response.content


def _text_of(stack, answer):
    config = stack.config
    return reply_text(answer[1], config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APPID"])


def test_plaintext_is_refused_in_safe_mode(stack):
    """A leaked callback URL (token-signed, no msg_signature) cannot speak as anyone while WECHAT_AES_KEY is set."""
    xml = message_xml("o-e2e-impostor", "text", int(time.time()), msg_id=424242, Content="我的报告")
    args, body = signed_request(xml, stack.config["WECHAT_TOKEN"])
    response = requests.post(f"{stack.base_url}/wechat?{urlencode(args)}", data=body, timeout=10)
    assert response.status_code == 403
    assert not WechatUser.select().where(WechatUser.openid == "o-e2e-impostor").exists()


def test_recorded_requests_replayed_revoke_nothing_new(stack):
    enterprise = _enterprise_with_mobile(exclude={e.id for e in Enterprise.select().join(
        ReportRequest, on=ReportRequest.enterprise == Enterprise.id)})
    owner = stack.owner("o-e2e-replayed")
    bind(stack, owner, enterprise)
    apply_for_report(owner)
    older = Report.get(Report.enterprise == enterprise)
    recorded = [_recorded(stack, owner, text) for text in ("我的报告", "撤销1", "确认")]
    answers = [_post_recorded(stack, r) for r in recorded]
    assert all(status == 200 for status, _ in answers)
    assert Report.get_by_id(older.id).revoked_at is not None
    again = _post_recorded(stack, recorded[2])  # the same signed request: the first answer again (encrypted anew)
    assert again[0] == 200 and _text_of(stack, again) == _text_of(stack, answers[2]) and _text_of(stack, again)

    owner.say("取消")
    owner.say(SENTENCE)
    owner.say("确认")
    newer = wait_until(lambda: Report.get_or_none((Report.enterprise == enterprise) & (Report.id != older.id)),
                       WAIT, "the newer report")
    _flush()  # Redis forgets every request and conversation; only the database remembers
    for r in recorded:
        assert _post_recorded(stack, r)[0] == 200
    assert Report.get_by_id(newer.id).revoked_at is None

    xml = message_xml(owner.openid, "text", owner._created(), msg_id=next(owner._msg_ids), Content="确认")
    config = stack.config
    args, body = signed_request(xml, config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APPID"])
    old = int(args["timestamp"]) - 400  # a request signed 400 s ago (a 2015 signature is older still)
    stale = signed_request_at(xml, config, old)
    assert _post_recorded(stack, stale)[0] == 403


def signed_request_at(xml, config, timestamp):
    """A safe-mode request whose signatures are made at `timestamp` (what a recording from then would hold)."""
    crypto = WeChatCrypto(config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APPID"])
    nonce = secrets.token_hex(8)
    sealed = xmltodict.parse(crypto.encrypt_message(xml, nonce, str(timestamp)))["xml"]
    args = {"timestamp": str(timestamp), "nonce": nonce, "encrypt_type": "aes", "msg_signature": sealed["MsgSignature"]}
    return args, f"<xml><Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt></xml>".encode()


def _staff_session(stack, username, password, *roles):
    created = stack.flask("staff", "create", username, "--role", *roles, stdin=password + "\n")
    assert created.returncode == 0, created.stderr
    session = requests.Session()
    login = session.post(f"{stack.base_url}/staff/login", allow_redirects=False, timeout=10, data={
        "csrf_token": _csrf(session, f"{stack.base_url}/staff/login"), "username": username, "password": password})
    assert login.status_code == 302
    return session


def _upload_register(stack, session, enterprise, mobile, **form):
    body = (f"企业名称,统一社会信用代码,法定代表人,联系电话\n{enterprise.name},{enterprise.uscc},"
            f"{enterprise.legal_rep},{mobile}\n").encode()
    return session.post(f"{stack.base_url}/staff/upload", timeout=30, files={"file": ("名录.csv", body)}, data={
        "csrf_token": _csrf(session, f"{stack.base_url}/staff/upload"), "kind": "enterprise", **form})


def test_a_department_account_cannot_take_an_enterprise_over(stack):
    taken = {e.id for e in Enterprise.select().join(Binding, on=Binding.enterprise == Enterprise.id)}
    enterprise = _enterprise_with_mobile(exclude=taken)
    owner = stack.owner("o-e2e-real-owner")
    bind(stack, owner, enterprise)
    original = enterprise.mobile

    tax = _staff_session(stack, "e2e-tax", STAFF_PASSWORD, "department", "--department", "tax")
    refused = _upload_register(stack, tax, enterprise, "13800001111")
    assert refused.status_code == 400 and "无权报送企业名录" in refused.text
    assert Enterprise.get_by_id(enterprise.id).mobile == original

    office = _staff_session(stack, "e2e-office-register", STAFF_PASSWORD, "office")
    assert _upload_register(stack, office, enterprise, "13800001111").status_code == 200  # the batch page
    wait_until(lambda: Enterprise.get_by_id(enterprise.id).mobile == "13800001111", WAIT,
               "the worker's import of the upload")
    told = owner.wait_sent(lambda m: "联系手机号" in (m.get("text") or ""), WAIT, "the mobile-change notice")
    assert "138****1111" in told["text"]

    newcomer = stack.owner("o-e2e-newcomer")
    newcomer.event("subscribe")
    newcomer.say("绑定企业")
    before = len(stack.sms("13800001111"))
    assert "验证码已发送" in newcomer.say(enterprise.uscc)
    received = wait_until(lambda: stack.sms("13800001111")[before:], WAIT, "the binding SMS", interval=0.2)
    reply = newcomer.say(re.search(r"验证码 (\d{6})", received[-1]["text"]).group(1))
    assert "人工审核" in reply
    newcomer_user = WechatUser.get(WechatUser.openid == newcomer.openid)
    assert not Binding.select().where(Binding.user == newcomer_user).exists()
    assert BindingReview.get(BindingReview.user == newcomer_user).trigger == "mobile_changed"


# -- a Redis flush during a dozen confirms (issue 13, item 4) -----------------------------------------------------

RECOVERY = 200  # seconds: the scheduler sweeps once a minute, the test waits through two or three of its turns


def _taken():
    return {e.id for e in Enterprise.select().join(Binding, on=Binding.enterprise == Enterprise.id)}


def test_a_redis_flush_during_a_dozen_confirms_loses_no_qr_code(stack):
    """Before: with a flush during 12 confirms, 5 owners never got their QR code while their requests said
    `delivered`. Now every owner gets exactly one, and a request is delivered only once its QR image was sent."""
    owners = []
    for n in range(12):
        owner = stack.owner(f"o-e2e-flush-{n:02d}")
        bind(stack, owner, _enterprise_with_mobile(exclude=_taken()))
        assert "确认" in owner.say(SENTENCE)
        owners.append(owner)
    requests.post(f"{stack.wechat_url}/_double/fail", json={"api": "message/custom/send", "delay": 0.4,
                                                             "times": 24}, timeout=10).raise_for_status()
    replies = {}
    threads = [threading.Thread(target=lambda o=o: replies.__setitem__(o.openid, o.say("确认"))) for o in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all("报告正在生成" in reply for reply in replies.values())
    users = [WechatUser.get(WechatUser.openid == o.openid) for o in owners]
    qr_rows = OutboundMessage.select().where(OutboundMessage.user.in_(users) & (OutboundMessage.kind == "image"))
    wait_until(lambda: qr_rows.count() >= 4, WAIT, "a few reports built", interval=0.1)
    _flush()  # the queued builds and deliveries, the conversations, the scheduler's lock: all gone
    lost_deliveries = sum(1 for row in qr_rows if row.state == "pending")
    requests_ = [ReportRequest.get(ReportRequest.user == user) for user in users]
    lost_builds = sum(1 for r in requests_ if Report.get_or_none(Report.request == r) is None)
    assert lost_deliveries and lost_builds, f"the flush lost {lost_deliveries} deliveries, {lost_builds} builds"

    def every_image():
        images = {o.openid: [m for m in o.sent() if m["kind"] == "image"] for o in owners}
        return images if all(images.values()) else None

    images = wait_until(every_image, RECOVERY, "a QR image for every owner", interval=1)
    assert all(len(sent) == 1 for sent in images.values())
    for request in requests_:
        assert wait_until(lambda r=request: ReportRequest.get_by_id(r.id).status == DELIVERED, WAIT,
                          "the request marked delivered", interval=0.5)
        report = Report.get(Report.request == request)
        image = OutboundMessage.get(OutboundMessage.dedup_key == f"report-qr-{report.id}")
        assert image.state == "sent" and image.payload["request_id"] == request.id
    for owner in owners[:2]:  # nothing left to tell: every message went
        assert "【待查看的消息】" not in owner.say("帮助")
