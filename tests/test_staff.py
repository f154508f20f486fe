import datetime as dt
import io
import re

import pytest
import requests
from rq import SimpleWorker

from jobs.notice_kinds import notice_text
from models.base import utcnow
from models.policy import departments
from models.policy.casework.cases import open_case
from models.policy.staff import create_staff
from models.policy.uscc import make_org_code, make_uscc
from models.tables.accounts import Binding, BindingReview, StaffAudit, StaffSession, WechatUser
from models.tables.blobs import StoredBlob
from models.tables.cases import Case, CaseEvidence
from models.tables.outbound import OutboundMessage
from models.tables.records import FeedStatus, ImportBatch, PenaltyRecord, RecordChange, RejectedRow
from models.tables.registry import ApiKey, Department, Domain, Enterprise
from models.tables.reports import Report, ReportRecord

PASSWORD = "correct-horse-battery"
TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def app_config(app_config, wechat_double):
    app_config.update(STAFF_LOGIN_MAX_FAILURES=3)
    return app_config


@pytest.fixture
def staff(app):
    return {
        "office": create_staff("office1", PASSWORD, "office"),
        "market": create_staff("market1", PASSWORD, "department", "market"),
        "ecology": create_staff("eco1", PASSWORD, "department", "ecology"),
    }


def _token(client, path="/staff/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username, password=PASSWORD):
    return client.post("/staff/login", data={"username": username, "password": password,
                                             "csrf_token": _token(client)})


def post(client, path, data=None, page=None, **kwargs):
    data = dict(data or {}, csrf_token=_token(client, page or "/staff/cases"))
    return client.post(path, data=data, **kwargs)


@pytest.fixture
def objection(case_world):
    w = case_world
    blob = StoredBlob.create(mime="image/jpeg", filename="复议决定.jpg", content=b"\xff\xd8\xff\xe0evidence")
    case = open_case("objection", w.user, w.enterprise, w.record(), "该处罚已被行政复议撤销", "m-obj",
                     evidence_blob_ids=[blob.id], today=TODAY)
    return case


def test_login_required_and_failed_login_counted(client, staff):
    assert client.get("/staff/cases").status_code == 302
    response = login(client, "market1", "wrong-password")
    assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)
    assert StaffAudit.get(StaffAudit.action == "login_failed").target == "market1"
    login(client, "market1", "wrong-again")
    login(client, "market1", "and-again")
    locked = login(client, "market1")  # right password, but locked out
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_data(as_text=True)
    assert client.get("/staff/cases").status_code == 302


def test_csrf_required_on_staff_posts_but_not_on_wechat_or_api(client, staff):
    assert client.post("/staff/login", data={"username": "office1", "password": PASSWORD}).status_code == 400
    xml = "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml>"
    forged = client.post("/wechat?signature=bad&timestamp=1&nonce=2", data=xml)
    assert forged.status_code == 403 and "CSRF" not in forged.get_data(as_text=True)  # signature check, not CSRF
    api = client.post("/api/v1/records", json={"items": []}, headers={"Authorization": "Bearer nope"})
    assert api.status_code == 401


def test_session_expires_when_idle(client, staff):
    assert login(client, "office1").status_code == 302
    assert client.get("/staff/cases").status_code == 200
    StaffSession.update(seen_at=utcnow() - dt.timedelta(minutes=31)).execute()
    response = client.get("/staff/cases")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert StaffSession.get().ended_at is not None


def _refused(client):
    response = client.get("/staff/cases")
    return response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_logout_ends_the_session_for_a_saved_cookie_too(client, staff):
    """Issue 13, item 6: a cookie saved before logout kept working (the session lived only in the cookie)."""
    assert login(client, "office1").status_code == 302
    saved = client.get_cookie("session").value
    with client.session_transaction() as session:
        assert set(session) - {"_permanent", "csrf_token"} == {"sid"}  # only a random token, no staff id
    assert post(client, "/staff/logout").status_code == 302
    client.set_cookie("session", saved)  # the attacker's copy
    assert _refused(client)
    assert StaffSession.get().ended_at is not None


def test_deactivation_ends_every_session_at_once(client, app, staff, runner):
    assert login(client, "market1").status_code == 302
    other = app.test_client()
    assert login(other, "market1").status_code == 302
    result = runner.invoke(args=["staff", "deactivate", "market1"])
    assert result.exit_code == 0 and "结束会话 2 个" in result.output
    assert _refused(client) and _refused(other)
    assert login(client, "market1").status_code == 401


def test_console_has_the_verify_pages_headers_and_a_samesite_cookie(client, staff):
    response = login(client, "office1")
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    page = client.get("/staff/cases")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in client.get("/staff/login").headers["Content-Security-Policy"]


def test_department_sees_only_its_cases(client, staff, objection):
    login(client, "eco1")
    assert objection.number not in client.get("/staff/cases").get_data(as_text=True)
    assert client.get(f"/staff/cases/{objection.id}").status_code == 404
    assert post(client, f"/staff/cases/{objection.id}/review").status_code == 404
    blob_id = CaseEvidence.get(CaseEvidence.case == objection).blob_id
    assert client.get(f"/staff/blobs/{blob_id}").status_code == 404
    assert client.get("/staff/departments").status_code == 403
    assert client.get("/staff/bindings").status_code == 403
    assert Case.get_by_id(objection.id).status == "submitted"


def test_objection_accepted_corrects_reports_and_tells_owners(client, staff, objection, make_signed_report,
                                                               drain, wechat_double):
    report = make_signed_report()
    ReportRecord.create(report=report, record=objection.record)
    login(client, "market1")
    page = client.get("/staff/cases").get_data(as_text=True)
    assert objection.number in page
    detail = client.get(f"/staff/cases/{objection.id}").get_data(as_text=True)
    assert "该处罚已被行政复议撤销" in detail and objection.record.decision_no in detail
    blob_id = CaseEvidence.get(CaseEvidence.case == objection).blob_id
    image = client.get(f"/staff/blobs/{blob_id}")
    assert image.status_code == 200 and image.data.startswith(b"\xff\xd8")
    assert post(client, f"/staff/cases/{objection.id}/review").status_code == 303
    response = post(client, f"/staff/cases/{objection.id}/accept",
                    {"resolution": "corrected", "reason": "经核实，原处罚已被复议撤销"})
    assert response.status_code == 303
    case = Case.get_by_id(objection.id)
    assert (case.status, case.resolution) == ("accepted", "corrected")
    assert PenaltyRecord.get_by_id(case.record_id).status == "corrected"
    assert Report.get_by_id(report.id).corrected_at is not None
    outcome = OutboundMessage.get(OutboundMessage.dedup_key == f"case-outcome:{case.id}")
    offer = OutboundMessage.get(OutboundMessage.dedup_key == f"report-corrected:{report.id}")
    assert "记录已更正" in notice_text(outcome.payload) and report.number in notice_text(offer.payload)
    assert drain() == 0
    # Neither owner wrote in the last 48 h: the closed window falls back to template messages.
    for openid in ("o-owner-1", "o-report-owner"):
        sent = requests.get(f"{wechat_double.base_url}/_double/sent", params={"openid": openid}, timeout=5).json()
        assert [m["kind"] for m in sent] == ["template"]
    assert {a.action for a in StaffAudit.select()} >= {"login", "case_review", "case_accept", "view_blob"}


def test_objection_rejected_and_repair_accepted(client, staff, case_world, drain):
    w = case_world
    blob = StoredBlob.create(mime="image/jpeg", filename="承诺书.jpg", content=b"\xff\xd8jpeg")
    rejected = open_case("objection", w.user, w.enterprise, w.record(), "理由", "m-a", today=TODAY)
    repair = open_case("repair", w.user, w.enterprise, w.record(), "已整改", "m-b", commitment_blob_id=blob.id,
                       today=TODAY)
    login(client, "office1")
    for case in (rejected, repair):
        post(client, f"/staff/cases/{case.id}/review")
    refused = post(client, f"/staff/cases/{rejected.id}/reject", {"reason": ""})
    assert refused.status_code == 303 and Case.get_by_id(rejected.id).status == "in_review"
    post(client, f"/staff/cases/{rejected.id}/reject", {"reason": "处罚事实清楚，证据确凿"})
    post(client, f"/staff/cases/{repair.id}/accept", {"resolution": "repaired", "reason": "同意修复"})
    assert Case.get_by_id(rejected.id).status == "rejected"
    assert PenaltyRecord.get_by_id(repair.record_id).status == "repaired"
    texts = [notice_text(m.payload) for m in OutboundMessage.select().order_by(OutboundMessage.id)]
    assert any("不予支持" in t and "处罚事实清楚" in t for t in texts)
    assert any("已完成信用修复" in t for t in texts)
    assert drain() == 0


def test_case_list_filters_and_overdue_first(client, staff, case_world):
    w = case_world
    late = open_case("objection", w.user, w.enterprise, w.record(), "理由", "m-late", today=dt.date(2026, 1, 5))
    fresh = open_case("objection", w.user, w.enterprise, w.record(), "理由", "m-fresh", today=dt.date(2099, 1, 5))
    login(client, "office1")
    page = client.get("/staff/cases?status=open&kind=objection&department=market").get_data(as_text=True)
    assert page.index(late.number) < page.index(fresh.number) and "已超期" in page
    assert fresh.number not in client.get("/staff/cases?kind=repair").get_data(as_text=True)


def test_staff_upload_with_bad_rows(client, staff, drain):
    login(client, "market1")
    headers = ("行政相对人名称,统一社会信用代码,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,"
               "罚款金额（万元）,处罚决定日期,处罚机关,数据来源单位,领域,程序类型")
    uscc = make_uscc("91231100" + make_org_code("MA1B2C3D"))
    good = (f"黑河市北辰商贸有限公司,{uscc},黑市监罚〔2026〕88号,虚假宣传,事实,依据,罚款,罚款5000元,0.5,"
            "2026-03-01,黑河市市场监督管理局,黑河市市场监督管理局,market,普通程序")
    bad = "某公司,123,黑市监罚〔2026〕89号,虚假宣传,事实,依据,罚款,罚款,0.5,2026-03-01,黑河市市场监督管理局," \
          "黑河市市场监督管理局,market,普通程序"
    body = "\n".join([headers, good, bad]).encode("utf-8")
    response = post(client, "/staff/upload", {"kind": "penalty", "file": (io.BytesIO(body), "处罚.csv")},
                    page="/staff/upload", content_type="multipart/form-data")
    batch = ImportBatch.get(ImportBatch.source == "staff")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/batches/{batch.id}")
    waiting = client.get(f"/staff/batches/{batch.id}").get_data(as_text=True)
    assert "排队中" in waiting and 'http-equiv="refresh"' in waiting  # not imported in the web request
    assert not PenaltyRecord.select().exists()
    assert drain() == 0
    text = client.get(f"/staff/batches/{batch.id}").get_data(as_text=True)
    assert "拒收 1" in text and "统一社会信用代码" in text and "refresh" not in text
    batch = ImportBatch.get_by_id(batch.id)
    assert batch.upload_content() is None  # the stored upload is gone once imported
    assert batch.department.code == "market" and batch.actor == "market1"
    assert RejectedRow.get(RejectedRow.batch == batch).row_number == 3
    assert PenaltyRecord.select().where(PenaltyRecord.decision_no == "黑市监罚〔2026〕88号").exists()
    assert StaffAudit.get(StaffAudit.action == "upload").detail["department"] == "market"


def test_binding_review_approved_and_refused(client, staff, case_world):
    w = case_world
    photo = StoredBlob.create(mime="image/jpeg", filename="营业执照.jpg", content=b"\xff\xd8licence")
    applicant = WechatUser.create(openid="o-applicant")
    approve = BindingReview.create(user=applicant, enterprise=w.enterprise,
                                   media=[{"media_id": "m1", "kind": "licence", "blob_id": photo.id}])
    refuse = BindingReview.create(user=WechatUser.create(openid="o-other"), enterprise=w.enterprise, media=[])
    login(client, "office1")
    assert f"/staff/blobs/{photo.id}" in client.get(f"/staff/bindings/{approve.id}").get_data(as_text=True)
    assert client.get(f"/staff/blobs/{photo.id}").status_code == 200
    post(client, f"/staff/bindings/{approve.id}/approve")
    assert Binding.get(Binding.user == applicant).method == "staff"
    assert post(client, f"/staff/bindings/{refuse.id}/refuse", {"reason": ""}).status_code == 303
    assert BindingReview.get_by_id(refuse.id).status == "submitted"
    post(client, f"/staff/bindings/{refuse.id}/refuse", {"reason": "授权书未加盖公章"})
    assert BindingReview.get_by_id(refuse.id).status == "refused"
    texts = {m.dedup_key: notice_text(m.payload) for m in OutboundMessage.select()}
    assert "审核通过" in texts[f"binding-review:{approve.id}"]
    assert "授权书未加盖公章" in texts[f"binding-review:{refuse.id}"]


def test_api_key_issued_once_and_revoked_robot_set(client, staff):
    login(client, "office1")
    page = post(client, "/staff/departments/market/keys", page="/staff/departments/market").get_data(as_text=True)
    key = re.search(r"(hg_[0-9a-f]+_[A-Za-z0-9_\-]+)", page).group(1)
    market = Department.get(Department.code == "market")
    assert departments.authenticate(key) == market
    assert key not in client.get("/staff/departments/market").get_data(as_text=True)
    row = ApiKey.get(ApiKey.department == market)
    post(client, f"/staff/departments/market/keys/{row.id}/revoke", page="/staff/departments/market")
    assert departments.authenticate(key) is None
    post(client, "/staff/departments/market/robot", {"robot_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
         page="/staff/departments/market")
    assert Department.get(Department.code == "market").robot_url.endswith("key=k")
    assert {"api_key_issue", "api_key_revoke", "robot_url_set"} <= {a.action for a in StaffAudit.select()}


def test_freshness_overdue_first_and_scoped(client, staff):
    market = Department.get(Department.code == "market")
    FeedStatus.create(department=market, domain=Domain.get(Domain.code == "market"), kind="penalty",
                      last_loaded_at=dt.datetime.now(), complete_until=dt.date.today())
    login(client, "market1")
    page = client.get("/staff/freshness").get_data(as_text=True)
    assert "黑河市生态环境局" not in page
    assert page.index("从未报送") < page.index("正常")


def test_a_robot_url_entered_in_the_console_may_name_only_wecom(client, staff):
    """Issue 13, item 10: a robot URL pointed at an internal address made the worker call it."""
    login(client, "office1")
    page = "/staff/departments/market"
    refused = post(client, "/staff/departments/market/robot", {"robot_url": "http://127.0.0.1:6379/x?key=k"},
                   page=page, follow_redirects=True)
    assert "企业微信群机器人" in refused.get_data(as_text=True)
    assert Department.get(Department.code == "market").robot_url is None
    inside = "https://169.254.169.254/cgi-bin/webhook/send?key=k"
    post(client, "/staff/departments/market/robot", {"robot_url": inside}, page=page)
    assert Department.get(Department.code == "market").robot_url is None


def test_whole_path_chat_to_robot_to_console_to_chat(client, staff, case_world, bot_chat, rt, wechat_double,
                                                     wecom_double):
    """The owner objects in the chat; the department's robot hears of it; staff accept it; the owner hears back."""
    Department.update(robot_url=wecom_double.url_for("market")).where(Department.code == "market").execute()
    rt.config.update(WECOM_BATCH_SECONDS=0, WECOM_RATE_WINDOW=wecom_double.window)
    record = case_world.record()
    owner = bot_chat(case_world.user.openid)
    owner.say("异议申诉")
    owner.say("1")
    owner.say("该处罚决定已被行政复议机关撤销")
    owner.say("无")
    reply = owner.say("确认", msg_key="whole-path-confirm")
    case = Case.get(Case.msg_key == "whole-path-confirm")
    assert case.number in reply and case.record_id == record.id
    SimpleWorker(rt.queues, connection=rt.redis).work(burst=True, with_scheduler=True)
    [notice] = wecom_double.received("market")
    assert case.number in notice["content"] and f"http://hegui.test/staff/cases/{case.id}" in notice["content"]
    login(client, "market1")
    post(client, f"/staff/cases/{case.id}/review")
    post(client, f"/staff/cases/{case.id}/accept", {"resolution": "withdrawn", "reason": "原处罚决定已撤销"})
    assert PenaltyRecord.get_by_id(record.id).status == "withdrawn"
    requests.post(f"{wechat_double.base_url}/_double/interaction", json={"openid": case_world.user.openid},
                  timeout=5)
    WechatUser.update(last_message_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)).where(
        WechatUser.id == case_world.user.id).execute()
    SimpleWorker(rt.queues, connection=rt.redis).work(burst=True, with_scheduler=True)
    sent = requests.get(f"{wechat_double.base_url}/_double/sent", params={"openid": case_world.user.openid},
                        timeout=5).json()
    assert any(m["kind"] == "text" and case.number in (m.get("text") or "") and "记录已撤回" in m["text"]
               for m in sent)


def test_blob_of_an_unsafe_type_is_downloaded_not_rendered(client, staff, case_world):
    w = case_world
    page = StoredBlob.create(mime="text/html", filename="wechat-media:x", content=b"<script>alert(1)</script>")
    case = open_case("objection", w.user, w.enterprise, w.record(), "材料见附件", "m-html",
                     evidence_blob_ids=[page.id], today=TODAY)
    login(client, "market1")
    response = client.get(f"/staff/blobs/{page.id}")
    assert response.status_code == 200 and response.data == b"<script>alert(1)</script>"
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment"
    assert CaseEvidence.get(CaseEvidence.case == case).blob_id == page.id
    assert StaffAudit.select().where(StaffAudit.action == "view_blob").count() == 1


# -- the register belongs to its keeper (the takeover: a 税务 account changing a registered mobile) --------------

REGISTER = "企业名称,统一社会信用代码,法定代表人,联系电话,注册地址,所属区县"


def _register_file(uscc, mobile):
    return io.BytesIO(f"{REGISTER}\n黑河市北辰商贸有限公司,{uscc},张伟,{mobile},黑河市爱辉区,爱辉区\n".encode())


def test_a_department_without_the_enterprise_grant_cannot_load_the_register(client, staff, case_world):
    create_staff("tax1", PASSWORD, "department", "tax")
    enterprise = case_world.enterprise
    enterprise.mobile = "13904560001"
    enterprise.save()
    login(client, "tax1")
    form = client.get("/staff/upload").get_data(as_text=True)
    assert 'value="enterprise"' not in form and 'value="arrears"' in form  # only what 税务 is granted is offered
    response = post(client, "/staff/upload", {"kind": "enterprise", "file": (_register_file(
        enterprise.uscc, "13800138000"), "名录.csv")}, page="/staff/upload", content_type="multipart/form-data")
    assert response.status_code == 400 and "无权报送企业名录" in response.get_data(as_text=True)
    assert Enterprise.get_by_id(enterprise.id).mobile == "13904560001"
    assert not ImportBatch.select().where(ImportBatch.kind == "enterprise").exists()


def test_the_office_loads_the_register_as_its_keeper_and_owners_hear_of_a_mobile_change(client, staff, case_world,
                                                                                       drain):
    enterprise = case_world.enterprise
    enterprise.mobile = "13904560001"
    enterprise.save()
    login(client, "office1")
    response = post(client, "/staff/upload", {"kind": "enterprise", "department": "tax", "file": (_register_file(
        enterprise.uscc, "13800138000"), "名录.csv")}, page="/staff/upload", content_type="multipart/form-data")
    assert response.status_code == 303
    assert drain() == 0
    batch = ImportBatch.get(ImportBatch.kind == "enterprise")
    assert "更新 1" in client.get(f"/staff/batches/{batch.id}").get_data(as_text=True)
    assert batch.department.code == "credit_office"  # not the department picked in the form
    changed = Enterprise.get_by_id(enterprise.id)
    assert changed.mobile == "13800138000" and changed.mobile_changed_at is not None
    assert RecordChange.get(RecordChange.action == "mobile_change").before["mobile"] == "13904560001"
    [notice] = OutboundMessage.select().where(OutboundMessage.user == case_world.user)
    assert notice.kind == "notice" and "139****0001" in notice_text(notice.payload)
    assert "138****8000" in notice_text(notice.payload) and "13800138000" not in notice_text(notice.payload)
