"""The verify pages: status, content from the snapshot, lookup, signed JSON, PDF, keys, OAuth, units, view log."""

import base64
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import browser
import pytest
import requests
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from devtools.wechat_double import start_wechat_double
from jobs import pipeline
from jobs.views import flush_view_log
from models.base import utcnow
from models.policy.report import signing
from models.policy.report.present import redact
from models.tables.accounts import WechatUser
from models.tables.registry import Enterprise
from models.tables.reports import Report
from models.tables.views import ViewLog

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN"
)
SNAPSHOT_TEXT = (
    "黑河市瑷珲边贸物流有限公司", "2023年11月28日至2026年11月27日", "金融（银行贷款）", "黑市监罚〔2025〕88号",
    "<th>罚款金额</th><td>1.5万元</td>", '<span class="tag">已修复</span>', "黑环修〔2025〕3号",
    "已归集至2026年11月20日", "数据截至2026年6月30日（未及时更新）", "数据未归集", "社保欠缴",
    "<th>欠缴金额</th><td>1200元</td>", "<th>结清情况</th><td>未结清</td>", "黑河市社会信用体系建设领导小组办公室",
    "16个领域：2个领域查见违法记录共2条（其中已修复1条）；城市管理数据未归集；园林绿化数据截至2026年6月30日。",
    "社保欠缴1项（未结清1项）；公积金欠缴未查见；信用修复记录1条。", "异议申诉", "<th>数据来源单位</th><td>未提供</td>",
)
LABELS = {"expired": "已过期", "revoked": "已撤销", "corrected": "数据已更正", "superseded": "已被新报告替代"}
PHONE_UA = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36"


def load_cert_from_pemder_data(data):
    """An asn1crypto certificate from PEM bytes."""
    return asn1_x509.Certificate.load(asn1_pem.unarmor(data)[2])


def _text(response):
    return response.get_data(as_text=True)


def test_valid_report_shows_status_and_the_snapshot(client, make_signed_report):
    report = make_signed_report()
    response = client.get(f"/v/{report.token}", headers={"User-Agent": PHONE_UA})
    html = _text(response)
    assert response.status_code == 200
    assert re.search(r"有效（至 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d）", html)
    for expected in (*SNAPSHOT_TEXT, report.enterprise.uscc, report.number, report.digest, report.key_id):
        assert expected in html, expected
    assert html.count('class="part-block') == 2 + 2 + 2  # two hit domains, the stale and the missing one, arrears
    assert html.index("16个领域：") < html.index("企业名称")  # the conclusion right under the status
    assert "13904561234" not in html  # the registered mobile is not in the snapshot nor on the page
    assert "PDF 报告正在生成" in html
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert ViewLog.select().where(ViewLog.report == report).count() == 1


def test_page_renders_the_frozen_snapshot_not_live_records(client, make_signed_report):
    report = make_signed_report()
    Enterprise.update(name="改名后的公司").where(Enterprise.id == report.enterprise_id).execute()
    html = _text(client.get(f"/v/{report.token}"))
    assert "黑河市瑷珲边贸物流有限公司" in html and "改名后的公司" not in html


def test_page_never_shows_mobiles_or_id_numbers(client, make_signed_report):
    report = make_signed_report()
    snap = json.loads(report.snapshot)
    snap["domains"][9]["records"][0]["content"] = "当事人联系电话13812345678，身份证号230102198801011234，罚款"
    payload = signing.canonical_json(snap)
    Report.update(snapshot=payload.decode()).where(Report.id == report.id).execute()
    html = _text(client.get(f"/v/{report.token}"))
    assert "13812345678" not in html and "230102198801011234" not in html
    assert "138****5678" in html and "230***********1234" in html
    assert "13904561234" not in html  # the enterprise's registered mobile is never on the page
    assert redact(report.enterprise.uscc) == report.enterprise.uscc


@pytest.mark.parametrize("status", ["expired", "revoked", "corrected", "superseded"])
def test_each_status_is_shown_in_words(client, make_signed_report, status):
    now = utcnow()
    report = make_signed_report(issued=now - dt.timedelta(days=31) if status == "expired" else None)
    if status == "revoked":
        report.revoked_at = now
    elif status == "corrected":
        report.corrected_at = now
        report.correction_note = "黑市监罚〔2025〕88号 经异议核查已撤销"
    elif status == "superseded":
        newer = make_signed_report()
        report.superseded_by = newer
    report.save()
    response = client.get(f"/v/{report.token}")
    html = _text(response)
    assert response.status_code == 200
    label = LABELS[status]
    assert f'class="status s-{status}"' in html and f"✕ {label}" in html
    assert "有效（至" not in html
    if status == "corrected":
        assert "黑市监罚〔2025〕88号 经异议核查已撤销" in html
    if status == "superseded":
        assert newer.token not in html and newer.number not in html


def test_revocation_shows_at_once(client, make_signed_report):
    report = make_signed_report()
    first = client.get(f"/v/{report.token}")
    assert "有效（至" in _text(first) and first.headers["Cache-Control"] == "no-store"
    assert Report.get_by_id(report.id).revoke()  # as the owner's 撤销 does (bot/flows/my_reports.py)
    assert "✕ 已撤销" in _text(client.get(f"/v/{report.token}"))


@pytest.mark.parametrize("token", ["x" * 32, "short", "bad%20token%3Cscript%3E", "a" * 65])
def test_unknown_or_malformed_token_is_a_plain_404(client, make_signed_report, token):
    make_signed_report()
    for path in (f"/v/{token}", f"/v/{token}/json", f"/v/{token}/pdf"):
        response = client.get(path)
        assert response.status_code == 404
        html = _text(response)
        assert "未找到该报告" in html and "<script" not in html and "Traceback" not in html
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert ViewLog.select().count() == 0


def test_page_is_small_and_self_contained(client, make_signed_report):
    report = make_signed_report()
    response = client.get(f"/v/{report.token}")
    body = response.get_data()
    assert len(body) < 24 * 1024, len(body)
    html = body.decode()
    assert "<script" not in html and "<link" not in html and "<img" not in html and "@import" not in html
    assert not re.search(r'(?:href|src|action)="(?:https?:)?//', html)
    # The page is cached, so no per-response nonce: its one inline style is allowed by its hash.
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}';" in csp and "default-src 'none'" in csp and "nonce" not in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    print(f"verify page weight: {len(body)} bytes")


# -- lookup by number + 查验码 -------------------------------------------------------------------------------------


def test_lookup_form_and_success(client, make_signed_report):
    report = make_signed_report()
    form = client.get("/verify")
    assert form.status_code == 200 and "查验码" in _text(form)
    response = client.post("/verify", data={"number": report.number, "code": report.check_code})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/v/{report.token}")
    sloppy_number = " " + report.number.lower().replace("hh", "ＨＨ") + " "
    sloppy = client.post("/verify", data={"number": sloppy_number, "code": report.check_code.lower()})
    assert sloppy.status_code == 303
    by_get = client.get("/verify", query_string={"number": report.number, "code": report.check_code})
    assert by_get.status_code == 303


def test_failed_lookup_does_not_say_which_part_was_wrong(client, make_signed_report):
    report = make_signed_report()
    wrong_code = client.post("/verify", data={"number": report.number, "code": "ZZZZZZZZZZ"})
    no_such = client.post("/verify", data={"number": "HH-20990101-000001", "code": report.check_code})
    by_uscc = client.post("/verify", data={"number": report.enterprise.uscc, "code": report.check_code})
    bodies = {re.sub(r'value="[^"]*"|nonce="[^"]*"', "", _text(r)) for r in (wrong_code, no_such, by_uscc)}
    assert {r.status_code for r in (wrong_code, no_such, by_uscc)} == {404}
    assert len(bodies) == 1 and "未查到与所填报告编号和查验码相符的报告" in bodies.pop()
    empty = client.post("/verify", data={"number": report.number})
    assert empty.status_code == 400 and "请填写报告编号和查验码" in _text(empty)


# -- signed JSON, PDF, keys -------------------------------------------------------------------------------------


def test_signed_json_is_the_exact_snapshot_and_verifies(client, make_signed_report):
    report = make_signed_report()
    response = client.get(f"/v/{report.token}/json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["format"] == "hegui.verify/1" and doc["algorithm"] == "Ed25519"
    assert doc["canonical"] == report.snapshot
    assert signing.canonical_json(doc["report"]) == doc["canonical"].encode()
    assert signing.digest(doc["canonical"].encode()) == doc["digest"] == report.digest
    keys = client.get("/keys").get_json()["keys"]
    key = next(k for k in keys if k["key_id"] == doc["key_id"])
    public = signing.load_public_key(key["public_key_pem"])
    assert signing.verify(public, doc["canonical"].encode(), doc["signature"])
    assert doc["status"] == "有效" and doc["keys_url"] == "http://hegui.test/keys"
    assert "filename*=UTF-8''%E4%B8%93" in response.headers["Content-Disposition"]


def test_pdf_pending_then_served(client, make_signed_report):
    report = make_signed_report()
    pending = client.get(f"/v/{report.token}/pdf")
    assert pending.status_code == 202 and "PDF 正在生成" in _text(pending)
    pdf_bytes = b"%PDF-1.4\n% test\n"
    assert Report.store_pdf(report.id, pdf_bytes)  # as the PDF job does
    ready = client.get(f"/v/{report.token}/pdf")
    assert ready.status_code == 200 and ready.mimetype == "application/pdf" and ready.data == pdf_bytes
    disposition = ready.headers["Content-Disposition"]
    assert f'filename="report-{report.number}.pdf"' in disposition
    assert "filename*=UTF-8''%E4%B8%93%E7%94%A8%E4%BF%A1%E7%94%A8%E6%8A%A5%E5%91%8A-" in disposition
    assert "查看 PDF 报告" in _text(client.get(f"/v/{report.token}"))


def _public_pem():
    key = Ed25519PrivateKey.generate().public_key()
    return key, key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_keys_lists_current_and_retired(app_config, tmp_path):
    from app import create_app

    old1, pem1 = _public_pem()
    old2, pem2 = _public_pem()
    folder = tmp_path / "retired"
    folder.mkdir()
    (folder / "2025.pem").write_text(pem1)
    (folder / "2026.pem").write_text(pem2)
    for setting in (str(folder), f"{folder / '2025.pem'}, {folder / '2026.pem'}", f"{pem1},{pem2}"):
        app_config["SIGNING_KEYS_RETIRED"] = setting
        listing = create_app(app_config).test_client().get("/keys").get_json()["keys"]
        keys = [k for k in listing if k["algorithm"] == "Ed25519"]
        assert [k["status"] for k in keys] == ["current", "retired", "retired"]
        assert {k["key_id"] for k in keys[1:]} == {signing.key_id(old1), signing.key_id(old2)}
        assert all("BEGIN PUBLIC KEY" in k["public_key_pem"] for k in keys)
        [sm2_entry] = [k for k in listing if k["algorithm"] == "SM2-SM3"]
        assert sm2_entry["public_key_hex"].startswith("04") and len(sm2_entry["public_key_hex"]) == 130


# -- who looked: OAuth, units, the view log ----------------------------------------------------------------------


@pytest.fixture
def oauth_double(app):
    double = start_wechat_double(appid=app.config["WECHAT_APPID"], secret=app.config["WECHAT_SECRET"])
    app.config["WECHAT_OAUTH_BASE"] = double.base_url
    yield double
    double.stop()


def _wechat_authorizes(authorize_url, openid):
    """What WeChat's browser does at the authorize URL for a user: the double answers with our redirect_uri + code."""
    url = authorize_url.split("#")[0] + "&" + urlencode({"openid": openid})
    return requests.get(url, allow_redirects=False, timeout=10)


def test_wechat_oauth_redirects_once_and_remembers_the_openid(client, make_signed_report, oauth_double):
    report = make_signed_report()
    first = client.get(f"/v/{report.token}", headers={"User-Agent": WECHAT_UA})
    assert first.status_code == 302
    authorize = first.headers["Location"]
    assert authorize.startswith(oauth_double.base_url + "/connect/oauth2/authorize?")
    assert "scope=snsapi_base" in authorize and "state=hv1" in authorize
    assert authorize.endswith("#wechat_redirect")
    back = _wechat_authorizes(authorize, "o-verifier-bank")
    assert back.status_code == 302
    returned = back.headers["Location"]
    assert returned.startswith(f"http://hegui.test/v/{report.token}?code=")
    page = client.get(returned.replace("http://hegui.test", ""), headers={"User-Agent": WECHAT_UA})
    assert page.status_code == 200 and "有效（至" in _text(page)
    again = client.get(f"/v/{report.token}", headers={"User-Agent": WECHAT_UA})
    assert again.status_code == 200
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert [v.openid for v in ViewLog.select()] == ["o-verifier-bank"]


def test_failed_exchange_shows_the_page_and_never_loops(client, make_signed_report, oauth_double):
    report = make_signed_report()
    assert client.get(f"/v/{report.token}", headers={"User-Agent": WECHAT_UA}).status_code == 302
    page = client.get(f"/v/{report.token}?code=used-or-forged&state=hv1", headers={"User-Agent": WECHAT_UA})
    assert page.status_code == 200 and "有效（至" in _text(page)
    assert client.get(f"/v/{report.token}", headers={"User-Agent": WECHAT_UA}).status_code == 200
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert ViewLog.get().openid is None


def test_no_redirect_outside_wechat(client, make_signed_report, oauth_double):
    report = make_signed_report()
    assert client.get(f"/v/{report.token}", headers={"User-Agent": PHONE_UA}).status_code == 200


def test_stated_unit_is_remembered_on_the_view_and_the_user(client, make_signed_report, oauth_double):
    report = make_signed_report()
    authorize = client.get(f"/v/{report.token}", headers={"User-Agent": WECHAT_UA}).headers["Location"]
    returned = _wechat_authorizes(authorize, "o-clerk").headers["Location"]
    client.get(returned.replace("http://hegui.test", ""), headers={"User-Agent": WECHAT_UA})
    bad = client.post(f"/v/{report.token}/unit", data={"unit": "x"}, headers={"User-Agent": WECHAT_UA})
    assert bad.status_code == 400 and "请填写单位全称" in _text(bad)
    saved = client.post(f"/v/{report.token}/unit", data={"unit": " 中国农业银行  黑河分行 "},
                        headers={"User-Agent": WECHAT_UA})
    assert saved.status_code == 303
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert [(v.unit, v.openid) for v in ViewLog.select()] == [("中国农业银行 黑河分行", "o-clerk")]
    assert WechatUser.get(WechatUser.openid == "o-clerk").verifier_unit == "中国农业银行 黑河分行"
    html = _text(client.get(f"/v/{report.token}", headers={"User-Agent": WECHAT_UA}))
    assert "您的单位：中国农业银行 黑河分行" in html and 'name="unit"' not in html


def test_refresh_within_a_minute_adds_no_view(client, make_signed_report, rt):
    report = make_signed_report()
    for _ in range(3):
        client.get(f"/v/{report.token}", headers={"User-Agent": PHONE_UA})
    client.get(f"/v/{report.token}", headers={"User-Agent": PHONE_UA + " other"})
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert ViewLog.select().where(ViewLog.report == report).count() == 2
    for key in rt.redis.scan_iter("hegui:view:*"):
        rt.redis.delete(key)  # the minute has passed
    client.get(f"/v/{report.token}", headers={"User-Agent": PHONE_UA})
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert ViewLog.select().where(ViewLog.report == report).count() == 3
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    row = ViewLog.select().order_by(ViewLog.id.desc()).get()
    assert row.ip == "127.0.0.1" and row.user_agent == PHONE_UA


def test_static_verify_script_is_downloadable(client):
    response = client.get("/static/verify_report.py")
    assert response.status_code == 200
    assert response.get_data() == (Path(__file__).resolve().parent.parent / "static/verify_report.py").read_bytes()


# -- the page in a real browser: headless Chromium, WeChat's user agent, a 375-px-wide phone ------------------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LAYOUT_PROBE = """(() => {
  const box = id => { const e = document.getElementById(id); const r = e.getBoundingClientRect();
    const s = getComputedStyle(e);
    return {text: e.innerText, top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height,
            display: s.display, visibility: s.visibility, background: s.backgroundColor}; };
  let widest = 0;
  for (const e of document.querySelectorAll('body *')) { widest = Math.max(widest, e.getBoundingClientRect().right); }
  return JSON.stringify({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    innerHeight: window.innerHeight, widest: widest, url: location.href,
    status: box('status'), findings: box('findings')});
})()"""


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium with a DevTools port; yields a DevTools client on its first page."""
    with browser.chromium(tmp_path / "chromium-profile", user_agent=WECHAT_UA) as tools:
        yield tools


def test_page_in_headless_chromium_at_375px_inside_wechat(live_server, chromium, make_signed_report, oauth_double):
    report = make_signed_report()
    chromium.call("Emulation.setDeviceMetricsOverride", width=375, height=812, deviceScaleFactor=2, mobile=True)
    chromium.call("Network.enable")
    chromium.call("Network.setCookie", name="wechat_double_openid", value="o-browser", url=oauth_double.base_url)
    chromium.call("Page.enable")
    chromium.call("Page.navigate", url=f"{live_server}/v/{report.token}")
    chromium.wait_for("Page.loadEventFired")
    probe = chromium.call("Runtime.evaluate", expression=LAYOUT_PROBE, returnByValue=True)
    layout = json.loads(probe["result"]["value"])
    shot = chromium.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "verify-page-wechat-375.png").write_bytes(base64.b64decode(shot["data"]))

    assert layout["url"].startswith(f"{live_server}/v/{report.token}")  # came back from OAuth to our page
    assert layout["innerWidth"] == 375
    assert layout["scrollWidth"] <= 375 and layout["widest"] <= 375, layout
    status = layout["status"]
    assert "有效（至" in status["text"] and status["display"] != "none" and status["visibility"] == "visible"
    assert 0 <= status["top"] < status["bottom"] <= layout["innerHeight"]  # in the first screen, no scrolling
    assert status["background"] == "rgb(4, 120, 87)"  # the inline CSS passed the CSP: green for 有效
    findings = layout["findings"]
    assert findings["height"] > 0 and findings["right"] <= 375
    assert "黑市监罚〔2025〕88号" in findings["text"] and "市场监管" in findings["text"]
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert [v.openid for v in ViewLog.select()] == ["o-browser"]


# -- a report made by the real pipeline ------------------------------------------------------------------------


def test_pipeline_made_report_is_shown_looked_up_and_checked_offline(wechat_double, app, rt, drain, report_world,
                                                                      client, tmp_path):
    requests.post(wechat_double.base_url + "/_double/interaction",
                  json={"openid": report_world.user.openid, "kind": "message"}, timeout=5)
    request = report_world.request()
    pipeline.enqueue_build(rt, request.id)
    assert drain() == 0
    report = Report.get(Report.request == request)
    assert report.pdf_ready_at is not None

    html = _text(client.get(f"/v/{report.token}", headers={"User-Agent": PHONE_UA}))
    assert "有效（至" in html and report_world.enterprise.name in html and report.number in html
    assert report.digest in html and "查看 PDF 报告" in html
    found = client.post("/verify", data={"number": report.number, "code": report.check_code})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/v/{report.token}")
    pdf = client.get(f"/v/{report.token}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    pdf_path, doc_path, keys_path = tmp_path / "r.pdf", tmp_path / "r.json", tmp_path / "keys.json"
    pdf_path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf_path), "-"], capture_output=True, check=True).stdout
    printed = "".join(re.findall(r"[0-9a-f]{4,}", text.decode("utf-8").replace(" ", "")))
    assert report.digest in printed  # the digest is printed on the PDF (maybe wrapped over lines)
    doc_path.write_bytes(client.get(f"/v/{report.token}/json").data)
    keys_path.write_bytes(client.get("/keys").data)
    script = Path(__file__).resolve().parent.parent / "static" / "verify_report.py"
    result = subprocess.run([sys.executable, str(script), str(doc_path), "--keys", str(keys_path),
                             "--digest", report.digest], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "核验通过" in result.stdout, result.stdout

    ca = client.get("/keys/ca.pem")  # the published CA, downloaded as a verifier would, is the only trust root
    assert ca.status_code == 200 and b"BEGIN CERTIFICATE" in ca.data
    context = ValidationContext(trust_roots=[load_cert_from_pemder_data(ca.data)], allow_fetching=False)
    [embedded] = PdfFileReader(io.BytesIO(pdf.data)).embedded_signatures
    status = validate_pdf_signature(embedded, signer_validation_context=context)
    assert status.bottom_line and status.intact and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE


def _submit(chromium, fields, button="button[type=submit]"):
    """Fill the form's fields and click its button as a person would; wait for the page it lands on."""
    for selector, value in fields.items():
        chromium.evaluate(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")
    chromium.events.clear()
    chromium.evaluate(f"document.querySelector({json.dumps(button)}).click()")
    chromium.wait_for("Page.loadEventFired")
    return chromium.evaluate("JSON.stringify({url: location.href, text: document.body.innerText})")


def test_lookup_and_unit_forms_work_inside_wechat_through_oauth(live_server, chromium, make_signed_report,
                                                                 oauth_double):
    """CSP form-action governs a form's redirects too: the lookup lands on /v/<token>, which inside WeChat goes to the
    OAuth page and back; with form-action 'self' alone Chromium stops at the first hop and the form does nothing."""
    report = make_signed_report()
    chromium.call("Network.enable")
    chromium.call("Network.setCookie", name="wechat_double_openid", value="o-bank-clerk", url=oauth_double.base_url)
    chromium.call("Page.enable")
    chromium.call("Page.navigate", url=f"{live_server}/verify")
    chromium.wait_for("Page.loadEventFired")
    landed = json.loads(_submit(chromium, {"#n": report.number, "#c": report.check_code}))
    assert landed["url"].startswith(f"{live_server}/v/{report.token}"), landed["url"]
    assert "有效（至" in landed["text"] and "16个领域：" in landed["text"]
    flush_view_log()  # the verify page buffers views in Redis; the scheduler flushes them
    assert [v.openid for v in ViewLog.select()] == ["o-bank-clerk"]  # the OAuth hop happened on the way

    stated = json.loads(_submit(chromium, {"#u": "中国建设银行黑河分行"}))
    assert stated["url"].startswith(f"{live_server}/v/{report.token}")
    assert "您的单位：中国建设银行黑河分行" in stated["text"]
    assert WechatUser.get(WechatUser.openid == "o-bank-clerk").verifier_unit == "中国建设银行黑河分行"


def test_a_cached_page_never_hides_a_change_of_status(client, make_signed_report):
    report = make_signed_report()
    assert "已撤销" not in client.get(f"/v/{report.token}").get_data(as_text=True)
    assert Report.get_by_id(report.id).revoke()
    assert "已撤销" in client.get(f"/v/{report.token}").get_data(as_text=True)  # at once, whatever was cached
