import datetime as dt
import io
import json
import re
import subprocess

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from pyzbar.pyzbar import decode
from rq import SimpleWorker
from rq.job import Job, JobStatus

from jobs import pipeline
from models.policy.report import signing, sm2
from models.tables.outbound import OutboundMessage
from models.tables.reports import Report, ReportRecord, report_status
from models.tables.requests import ReportRequest


def open_window(double, openid):
    """The owner wrote to the account: WeChat's 48 h customer-service window is open."""
    requests.post(double.base_url + "/_double/interaction", json={"openid": openid, "kind": "message"}, timeout=5)


def sent(double, openid):
    return requests.get(double.base_url + "/_double/sent", params={"openid": openid}, timeout=5).json()


def qr_urls(png):
    return [symbol.data.decode("utf-8") for symbol in decode(Image.open(io.BytesIO(png)))]


def pdf_pages(pdf, tmp_path):
    """pdftotext's raw output, one string per page, not normalised."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return out.decode("utf-8").split("\f")[:-1]


def build(rt, drain, request):
    pipeline.enqueue_build(rt, request.id)
    assert drain() == 0


def test_confirmed_request_becomes_signed_report_qr_then_pdf(wechat_double, app, rt, drain, report_world, client,
                                                             tmp_path):
    world = report_world
    open_window(wechat_double, world.user.openid)
    for n in range(30):
        world.record("market", decision_no=f"黑市监罚〔2025〕{200 + n}号", days_ago=200 + n)
    request = world.request()
    build(rt, drain, request)

    request = ReportRequest.get_by_id(request.id)
    report = Report.get(Report.request == request)
    assert request.status == "delivered" and request.attempts == 1 and request.error is None
    assert re.fullmatch(r"HH-\d{8}-000001", report.number)
    assert len(report.token) >= 32 and len(report.check_code) >= 8
    assert report.valid_until - report.issued_at == dt.timedelta(days=30)
    assert report_status(report) == "有效"

    payload = report.snapshot.encode("utf-8")
    data = json.loads(payload)
    assert signing.canonical_json(data) == payload
    assert report.digest == signing.digest(payload)
    key = signing.load_private_key(app.config["SIGNING_KEY"], app.config["INSTANCE_PATH"], True)
    assert signing.verify(key.public_key(), payload, report.signature)
    assert (report.algorithm, report.key_id) == ("Ed25519", signing.key_id(key.public_key()))
    sm2_key = sm2.load_private_key(None, app.config["INSTANCE_PATH"], True)
    assert [(s["algorithm"], s["key_id"]) for s in report.signatures] == [
        ("SM2-SM3", sm2_key.key_id), ("Ed25519", report.key_id)]
    assert sm2.verify(sm2_key.public_hex, payload, report.signatures[0]["value"])
    assert report.signatures[1]["value"] == report.signature
    assert data["number"] == report.number and data["verify"]["url"] == f"http://hegui.test/v/{report.token}"
    assert report.check_code not in report.snapshot
    shown = {r["id"] for d in data["domains"] for r in d["records"]}
    assert {link.record_id for link in ReportRecord.select().where(ReportRecord.report == report)} == shown
    assert world.simplified.id not in shown and world.no_penalty.id not in shown and len(shown) == 33

    messages = sent(wechat_double, world.user.openid)
    assert [m["kind"] for m in messages] == ["image", "text"]
    png = wechat_double.app.double.media[messages[0]["media_id"]][0]
    assert qr_urls(png) == [f"http://hegui.test/v/{report.token}"]
    assert report.number in messages[1]["text"] and f"/v/{report.token}" in messages[1]["text"]
    rows = OutboundMessage.select().order_by(OutboundMessage.id)
    assert [(m.dedup_key, m.state) for m in rows] == [
        (f"report-qr-{report.id}", "sent"), (f"report-text-{report.id}", "sent")]

    assert report.pdf_ready_at is not None and bytes(report.pdf).startswith(b"%PDF")
    pages = pdf_pages(bytes(report.pdf), tmp_path)
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert f"第 {n} 页 / 共 {len(pages)} 页" in page
        assert f"报告编号：{report.number}" in page
    text = "".join(pages)
    for heading in ("市场主体专用信用报告（替代有无违法记录证明）", "一、市场主体基本信息", "三、各领域违法记录情况",
                    "四、社会保险费及住房公积金欠缴情况", "五、行政处罚信用修复记录", "六、说明", "七、查验方式"):
        assert heading in text
    assert "统一社会信用代码" in text and world.enterprise.uscc in text
    assert report.digest in text and f"查验码：{report.check_code}" in text
    assert "黑市监罚〔2026〕101号" in text and "黑环罚〔2025〕12号" in text
    assert "黑市监简〔2026〕7号" not in text and "黑环不罚〔2026〕3号" not in text
    compact = text.replace("\n", "")
    assert re.search(r"黑环罚〔2025〕12号\s*已修复", compact) and re.search(r"黑卫罚〔2026〕9号\s*异议处理中", compact)
    [repaired] = [r for d in json.loads(report.snapshot)["domains"] for r in d["records"]
                  if r["decision_no"] == "黑环罚〔2025〕12号"]
    assert repaired["publicity_ended"] and "公示期满" in compact  # 400 days old, 一般: publicity ≤ 1 year
    assert "报告期内，未查见该主体在人力资源和社会保障领域的违法记录。" in text
    assert "未查见该主体在城市管理领域" not in text and "数据未归集" in text
    assert "依据简易程序作出的行政处罚及不予行政处罚决定，不列入违法记录。" in text

    page = client.get(f"/v/{report.token}")
    assert page.status_code == 200 and report.number in page.get_data(as_text=True)
    served = client.get(f"/v/{report.token}/pdf")
    assert served.status_code == 200 and served.data == bytes(report.pdf)


def test_a_rerun_makes_no_second_report_and_sends_nothing_twice(wechat_double, app, rt, drain, report_world):
    open_window(wechat_double, report_world.user.openid)
    request = report_world.request(domains=["market"])
    build(rt, drain, request)
    first = Report.get(Report.request == request)
    rt.queue.enqueue("jobs.pipeline.build_report", request.id)
    pipeline.enqueue_build(rt, request.id)
    assert drain() == 0
    assert Report.select().count() == 1 and Report.get(Report.request == request).number == first.number
    assert len(sent(wechat_double, report_world.user.openid)) == 2
    assert OutboundMessage.select().count() == 2
    assert ReportRequest.get_by_id(request.id).status == "delivered"


def test_a_request_is_delivered_only_once_its_qr_image_was_sent(wechat_double, app, rt, drain, report_world):
    """Issue 13, item 4: `delivered` was set when the deliveries were queued, not when they ran."""
    request = report_world.request()
    pipeline.enqueue_build(rt, request.id)
    SimpleWorker(rt.queues, connection=rt.redis).work(burst=True, max_jobs=1)  # the build alone
    assert ReportRequest.get_by_id(request.id).status == "issued"
    assert drain() == 0  # the double never saw the owner write: WeChat refuses (45015), the image is deferred
    assert ReportRequest.get_by_id(request.id).status == "issued"
    report = Report.get(Report.request == request)
    assert OutboundMessage.get(OutboundMessage.dedup_key == f"report-qr-{report.id}").state == "deferred"
    second = report_world.request(purpose="招投标")
    open_window(wechat_double, report_world.user.openid)
    build(rt, drain, second)
    assert ReportRequest.get_by_id(second.id).status == "delivered"


def test_enqueue_build_twice_queues_one_job(app, rt, report_world):
    request = report_world.request()
    assert pipeline.enqueue_build(rt, request.id) is not None
    assert pipeline.enqueue_build(rt, request.id) is None
    assert rt.queue.get_job_ids() == [f"build-{request.id}"]
    assert ReportRequest.get_by_id(request.id).job_id == f"build-{request.id}"


def test_build_resumes_when_the_report_exists_but_was_not_delivered(wechat_double, app, rt, drain, report_world):
    open_window(wechat_double, report_world.user.openid)
    request = report_world.request(domains=["hrss", "urban"])
    report = pipeline.issue_report(request, rt.config)  # a worker died right after issuing
    ReportRequest.update(status="building").where(ReportRequest.id == request.id).execute()
    build(rt, drain, request)
    assert [r.id for r in Report.select()] == [report.id]
    assert ReportRequest.get_by_id(request.id).status == "delivered"
    assert [m["kind"] for m in sent(wechat_double, report_world.user.openid)] == ["image", "text"]
    assert Report.get_by_id(report.id).pdf_ready_at is not None


def test_a_permanent_fault_fails_the_request_tells_the_owner_and_is_not_retried(wechat_double, app, rt, drain,
                                                                                report_world):
    open_window(wechat_double, report_world.user.openid)
    request = report_world.request(domains=["market", "astrology"])
    pipeline.enqueue_build(rt, request.id)
    assert drain() == 1
    request = ReportRequest.get_by_id(request.id)
    assert request.status == "failed" and request.error.startswith("SnapshotError")
    assert Report.select().count() == 0
    job = Job.fetch(f"build-{request.id}", connection=rt.redis)
    assert job.get_status() == JobStatus.FAILED and job.retries_left == 0
    messages = sent(wechat_double, report_world.user.openid)
    assert len(messages) == 1 and messages[0]["text"].startswith("很抱歉，您申请的专用信用报告未能生成")


@pytest.fixture
def late_key(app_config, tmp_path):
    """SIGNING_KEY names a file that appears only later (a mount not ready yet): request before `app`."""
    path = tmp_path / "late-key.pem"
    app_config["SIGNING_KEY"] = str(path)
    return path


def test_a_transient_fault_is_retried_with_back_off(wechat_double, late_key, app, rt, drain, report_world):
    key_path, world = late_key, report_world
    open_window(wechat_double, world.user.openid)
    request = world.request(domains=["market"])
    pipeline.enqueue_build(rt, request.id)
    assert drain() == 0
    job = Job.fetch(f"build-{request.id}", connection=rt.redis)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == len(pipeline.RETRY_INTERVALS) - 1
    assert ReportRequest.get_by_id(request.id).status == "building"
    key_path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    rt.queue.scheduled_job_registry.remove(job)
    rt.queue.enqueue_job(job)
    assert drain() == 0
    request = ReportRequest.get_by_id(request.id)
    assert request.status == "delivered" and request.attempts == 2
    assert Report.select().count() == 1


def test_a_newer_report_for_the_same_purpose_supersedes_the_older(wechat_double, app, rt, drain, report_world):
    open_window(wechat_double, report_world.user.openid)
    first, tender, second = (report_world.request(domains=["market"]),
                             report_world.request(domains=["market"], purpose="参与招投标", category="商务经营"),
                             report_world.request(domains=["market"]))
    for request in (first, tender, second):
        build(rt, drain, request)
    reports = {r.request_id: r for r in Report.select()}
    assert reports[first.id].superseded_by_id == reports[second.id].id
    assert report_status(reports[first.id]) == "已被新报告替代"
    assert reports[tender.id].superseded_by_id is None and reports[second.id].superseded_by_id is None
    numbers = sorted(r.number for r in reports.values())
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]


def test_a_fault_that_outlasts_the_retries_fails_the_request_for_staff(wechat_double, late_key, app, rt, drain,
                                                                       report_world):
    open_window(wechat_double, report_world.user.openid)
    request = report_world.request(domains=["market"])
    pipeline.enqueue_build(rt, request.id)
    job_id = f"build-{request.id}"
    for _ in pipeline.RETRY_INTERVALS:  # play the back-off: release each scheduled retry at once
        drain()
        job = Job.fetch(job_id, connection=rt.redis)
        assert job.get_status() == JobStatus.SCHEDULED
        rt.queue.scheduled_job_registry.remove(job)
        rt.queue.enqueue_job(job)
    assert drain() == 1
    request = ReportRequest.get_by_id(request.id)
    assert request.status == "failed" and request.attempts == len(pipeline.RETRY_INTERVALS) + 1
    assert request.error.startswith("FileNotFoundError")
    assert Report.select().count() == 0
    assert [m["text"][:3] for m in sent(wechat_double, report_world.user.openid)] == ["很抱歉"]
