"""The chat simulator /dev/chat: dev mode only; talks to the real /wechat over HTTP; shows what the doubles got."""

import io
import time

import requests

from app import create_app
from bot.codec import message_xml, reply_text, signed_request
from devtools.stack import aes_key
from jobs.delivery import queue_text
from models.base import utcnow
from models.tables.accounts import BindingReview, WechatUser
from models.tables.blobs import StoredBlob
from models.tables.outbound import OutboundMessage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_chat_page_shows_the_account_the_menu_and_demo_enterprises(client, bot_enterprise):
    enterprise = bot_enterprise(name="黑河市演示商贸有限公司")
    page = client.get("/dev/chat?openid=o-demo-9")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "信用黑河" in html and 'value="o-demo-9"' in html
    for name in ("申请报告", "我的企业", "绑定企业", "我的报告", "异议申诉", "信用修复", "帮助", "办事指南"):
        assert name in html
    assert 'data-key="REPORT_APPLY"' in html and enterprise.uscc in html and enterprise.mobile in html
    assert "<link" not in html and "src=\"http" not in html  # no external assets


def test_production_never_registers_the_simulator(app_config):
    production = create_app({**app_config, "DEV_MODE": False})
    client = production.test_client()
    assert client.get("/dev/chat").status_code == 404
    assert client.post("/dev/chat/send", json={"openid": "o-x", "text": "帮助"}).status_code == 404
    assert "simulator" not in production.blueprints


def test_typed_text_reaches_the_real_webhook_encrypted_and_the_reply_is_decrypted(app_config, wechat_double, request):
    app_config["WECHAT_AES_KEY"] = aes_key()
    app = request.getfixturevalue("app")
    base = request.getfixturevalue("live_server")
    answer = requests.post(f"{base}/dev/chat/send", json={"openid": "o-sim-aes", "text": "帮助"}, timeout=10).json()
    assert answer["status"] == 200 and "可回复以下关键词办理" in answer["reply"]
    user = WechatUser.get(WechatUser.openid == "o-sim-aes")
    assert user.last_message_at is not None
    assert app.config["WECHAT_AES_KEY"]


def test_safe_mode_request_carries_no_plaintext_and_a_forged_one_is_refused(app_config, wechat_double, request):
    app_config["WECHAT_AES_KEY"] = key = aes_key()
    app = request.getfixturevalue("app")
    client = app.test_client()
    xml = message_xml("o-sim-sealed", "text", int(time.time()), msg_id=77, Content="帮助")
    cfg = app.config
    args, body = signed_request(xml, cfg["WECHAT_TOKEN"], key, cfg["WECHAT_APPID"], "o-sim-sealed")
    assert args["encrypt_type"] == "aes" and "帮助".encode() not in body and b"o-sim-sealed" not in body
    response = client.post("/wechat", query_string=args, data=body)
    assert response.status_code == 200
    assert "可回复以下关键词办理" in reply_text(response.data, cfg["WECHAT_TOKEN"], key, cfg["WECHAT_APPID"])
    forged = dict(args, msg_signature="0" * 40)
    again = message_xml("o-sim-sealed", "text", int(time.time()) + 1, msg_id=78, Content="帮助")
    _, body2 = signed_request(again, cfg["WECHAT_TOKEN"], key, cfg["WECHAT_APPID"])
    assert client.post("/wechat", query_string=forged, data=body2).status_code == 403


def test_menu_clicks_in_the_same_second_are_separate_events(wechat_double, app, live_server):
    send = lambda **body: requests.post(f"{live_server}/dev/chat/send", json={"openid": "o-sim-menu", **body},  # noqa: E731
                                        timeout=10).json()
    follow = send(event="subscribe")
    bind = send(click="BIND")
    help_ = send(click="HELP")
    assert "欢迎关注" in follow["reply"]
    assert "统一社会信用代码" in bind["reply"]
    assert "可回复以下关键词办理" in help_["reply"] and "绑定企业" in help_["reply"]
    assert WechatUser.get(WechatUser.openid == "o-sim-menu").subscribed


def test_send_needs_an_openid_and_text(client):
    assert client.post("/dev/chat/send", json={"text": "帮助"}).status_code == 400
    assert client.post("/dev/chat/send", json={"openid": "o-1", "text": "  "}).status_code == 400
    assert WechatUser.select().count() == 0


def test_doubles_down_is_said_not_a_crash(app_config, request):
    app_config["WECHAT_API_BASE"] = "http://127.0.0.1:9/cgi-bin/"  # nothing listens on the discard port
    client = request.getfixturevalue("client")
    answer = client.post("/dev/chat/send", json={"openid": "o-down", "text": "帮助"})
    assert answer.status_code == 200 and answer.get_json()["status"] == 502 and "模拟服务" in answer.get_json()["error"]
    feed = client.get("/dev/chat/feed?openid=o-down").get_json()
    assert feed["pushed"] == [] and "模拟服务" in feed["error"]
    assert WechatUser.select().count() == 0


def test_feed_shows_pushed_messages_sms_codes_staff_notices_and_the_qr_link(
        app_config, wechat_double, sms_double, wecom_double, request):
    app_config["WECOM_ROBOT_URL"] = wecom_double.url_for("office")
    app = request.getfixturevalue("app")
    drain = request.getfixturevalue("drain")
    make_signed_report = request.getfixturevalue("make_signed_report")
    client = app.test_client()
    owner = WechatUser.create(openid="o-sim-feed", last_message_at=utcnow())
    double = wechat_double.base_url
    requests.post(f"{double}/_double/interaction", json={"openid": owner.openid, "kind": "message"}, timeout=5)
    queue_text(owner.id, "您的报告已出具", "sim-feed-1")
    assert drain() == 0
    token = requests.get(f"{double}/cgi-bin/token", params={"grant_type": "client_credential"}, timeout=5).json()
    media_id = requests.post(f"{double}/_double/media", data=PNG, headers={"Content-Type": "image/png"},
                             timeout=5).json()["media_id"]
    requests.post(f"{double}/cgi-bin/message/custom/send", params={"access_token": token["access_token"]},
                  json={"touser": owner.openid, "msgtype": "image", "image": {"media_id": media_id}}, timeout=5)
    report = make_signed_report(owner=owner)
    OutboundMessage.create(user=owner, dedup_key=f"report-qr-{report.id}", kind="image", state="sent",
                           payload={"blob_id": 0, "media_id": media_id})
    requests.post(sms_double.base_url + "/send", json={"mobile": "13800000000", "text": "验证码 123456"}, timeout=5)
    requests.post(wecom_double.url_for("office"), json={"msgtype": "markdown", "markdown": {"content": "### 新异议"}},
                  timeout=5)

    feed = client.get("/dev/chat/feed?openid=o-sim-feed").get_json()
    assert [m["kind"] for m in feed["pushed"]] == ["text", "image"]
    assert feed["pushed"][0]["text"] == "您的报告已出具"
    assert feed["pushed"][1]["link"] == f"{app.config['PUBLIC_BASE_URL']}/v/{report.token}"
    assert feed["sms"][0]["text"] == "验证码 123456"
    assert feed["staff"][0]["content"] == "### 新异议"
    image = client.get(f"/dev/chat/media/{media_id}")
    assert image.status_code == 200 and image.data == PNG and image.mimetype == "image/png"
    assert client.get("/dev/chat/media/media-unknown").status_code == 404
    assert OutboundMessage.get(OutboundMessage.dedup_key == "sim-feed-1").state == "sent"


def test_a_photo_goes_through_the_double_and_the_real_media_path(wechat_double, app, live_server, bot_enterprise,
                                                                 drain):
    """人工审核绑定 finished from the simulator: the photos are uploaded to the WeChat double as the user's, sent as
    image messages, and fetched by the media job through cgi-bin/media/get into StoredBlob rows."""
    enterprise = bot_enterprise(mobile="")
    say = lambda text: requests.post(f"{live_server}/dev/chat/send", json={"openid": "o-sim-photo", "text": text},  # noqa: E731
                                     timeout=10).json()["reply"]

    def photo(content, mime="image/png"):
        return requests.post(f"{live_server}/dev/chat/photo", data={"openid": "o-sim-photo"},
                             files={"photo": ("licence.png", content, mime)}, timeout=10)

    say("绑定企业")
    assert "营业执照" in say(enterprise.uscc)
    sent = photo(PNG).json()
    assert sent["status"] == 200 and "已收到第 1 张照片" in sent["reply"] and sent["media_id"]
    assert "授权书" in say("完成")
    photo(PNG + b"auth")
    say("完成")
    assert "已提交人工审核" in say("确认")
    assert drain() == 0
    review = BindingReview.get(BindingReview.enterprise == enterprise)
    blobs = [bytes(StoredBlob.get_by_id(item["blob_id"]).content) for item in review.media]  # memoryview on PostgreSQL
    assert blobs == [PNG, PNG + b"auth"] and review.media[0]["media_id"] == sent["media_id"]


def test_a_photo_must_be_a_small_image(client, wechat_double):
    def photo(content, mime):
        return client.post("/dev/chat/photo", data={"openid": "o-sim-bad", "photo": (io.BytesIO(content), "x", mime)})

    assert photo(b"%PDF-1.4", "application/pdf").status_code == 400
    assert photo(PNG * 40_000, "image/png").status_code == 400
    assert "2 MB" in photo(b"", "image/png").get_json()["error"]
    assert client.post("/dev/chat/photo", data={"openid": "o-sim-bad"}).status_code == 400
    assert WechatUser.select().count() == 0
