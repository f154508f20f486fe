"""POST/GET /wechat on the real app: signatures, safe mode, key rotation, hostile XML, dedup, user rows."""

import datetime as dt
import hashlib
import io
import secrets
import threading
import time

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from models.tables.accounts import WechatUser

TENCENT_TOKEN = "spamtest"
TENCENT_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TENCENT_APPID = "wx2c2769f8efd9abc2"
# Tencent's published sample request (WXBizMsgCrypt): decrypts to a text message "abcdteT".
TENCENT_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXp"
    "bUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjl"
    "pKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD"
    "1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
NOW = int(time.time())  # CreateTime must be near the request's timestamp: the tests' messages are made now
OLD_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
NEW_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
OTHER_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def sign(token, timestamp, nonce, *extra):
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *extra])).encode()).hexdigest()


def query(app, **extra):
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)  # WeChat draws a new nonce for every request
    return {"timestamp": timestamp, "nonce": nonce,
            "signature": sign(app.config["WECHAT_TOKEN"], timestamp, nonce), **extra}


def message_xml(openid="o_user_1", msg_type="text", create_time=None, **fields):
    body = {"ToUserName": "gh_account", "FromUserName": openid,
            "CreateTime": str(create_time or int(time.time())), "MsgType": msg_type, **fields}
    return xmltodict.unparse({"xml": body})


def text_xml(content, msg_id="1001", openid="o_user_1", **kw):
    return message_xml(openid, "text", Content=content, MsgId=msg_id, **kw)


def post_plain(client, app, xml):
    return client.post("/wechat", query_string=query(app), data=xml.encode(), content_type="text/xml")


def encrypted_post(client, app, xml, key):
    """Encrypt `xml` with `key` as WeChat would and post it in safe mode."""
    crypto = WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APPID"])
    envelope = xmltodict.parse(crypto.encrypt_message(xml, "777", str(int(time.time()))))["xml"]
    args = {"timestamp": envelope["TimeStamp"], "nonce": envelope["Nonce"], "encrypt_type": "aes",
            "msg_signature": envelope["MsgSignature"]}
    body = xmltodict.unparse({"xml": {"ToUserName": "gh_account", "Encrypt": envelope["Encrypt"]}})
    return client.post("/wechat", query_string=args, data=body.encode(), content_type="text/xml")


def reply_of(response):
    assert response.status_code == 200
    return xmltodict.parse(response.data)["xml"]


@pytest.fixture
def tencent_config(app_config):
    # Tencent's sample is signed with a 2014 timestamp: only a window as wide as the years since lets it in.
    app_config.update(WECHAT_TOKEN=TENCENT_TOKEN, WECHAT_APPID=TENCENT_APPID, WECHAT_AES_KEY=TENCENT_KEY,
                      WECHAT_MAX_SKEW=20 * 365 * 86400)
    return app_config


@pytest.fixture
def rotated_config(app_config):
    app_config.update(WECHAT_AES_KEY=NEW_KEY, WECHAT_AES_KEY_PREVIOUS=OLD_KEY)
    return app_config


# -- verification -----------------------------------------------------------------------------------------------


@pytest.fixture
def vector_config(app_config):
    app_config["WECHAT_TOKEN"] = "testtoken"
    return app_config


def test_server_verification_uses_the_documented_vector(vector_config, client):
    good = {"timestamp": "1409735669", "nonce": "1320562132", "echostr": "hello-42",
            "signature": "feb9b06215758c8a7ff7441ba32829535d19f40b"}
    response = client.get("/wechat", query_string=good)
    assert response.status_code == 200
    assert response.data == b"hello-42"
    assert response.mimetype == "text/plain"
    assert client.get("/wechat", query_string={**good, "signature": "0" * 40}).status_code == 403
    assert client.get("/wechat", query_string={"echostr": "x"}).status_code == 403


# -- plaintext and safe mode -------------------------------------------------------------------------------------


def test_plaintext_text_message_creates_user_and_replies(client, app):
    response = post_plain(client, app, text_xml("帮助", create_time=NOW))
    reply = reply_of(response)
    assert reply["ToUserName"] == "o_user_1"
    assert reply["FromUserName"] == "gh_account"
    assert reply["MsgType"] == "text"
    assert reply["Content"]
    user = WechatUser.get(WechatUser.openid == "o_user_1")
    assert user.last_message_at == dt.datetime.fromtimestamp(NOW, dt.UTC).replace(tzinfo=None)  # CreateTime, UTC
    assert user.subscribed is True


def test_tencent_published_sample_decrypts_and_reply_is_encrypted(tencent_config, app, client):
    args = {"timestamp": "1409735669", "nonce": "1320562132", "encrypt_type": "aes",
            "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa"}
    body = (f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
            f"<Encrypt><![CDATA[{TENCENT_ENCRYPT}]]></Encrypt></xml>")
    response = client.post("/wechat", query_string=args, data=body, content_type="text/xml")
    outer = reply_of(response)
    crypto = WeChatCrypto(TENCENT_TOKEN, TENCENT_KEY, TENCENT_APPID)
    inner = xmltodict.parse(crypto.decrypt_message(response.data, outer["MsgSignature"], outer["TimeStamp"],
                                                   outer["Nonce"]))["xml"]
    assert inner["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert inner["FromUserName"] == "gh_10f6c3c3ac5a"
    assert inner["Content"]
    assert WechatUser.select().where(WechatUser.openid == "oyORnuP8q7ou2gfYjqLzSIWZf0rs").count() == 1


def test_key_rotation_accepts_current_and_previous_key_only(rotated_config, app, client):
    for n, (key, openid) in enumerate(((NEW_KEY, "o_new"), (OLD_KEY, "o_old"))):
        response = encrypted_post(client, app, text_xml("你好", msg_id=str(100 + n), openid=openid), key)
        outer = reply_of(response)
        crypto = WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APPID"])
        inner = crypto.decrypt_message(response.data, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        assert xmltodict.parse(inner)["xml"]["ToUserName"] == openid
    response = encrypted_post(client, app, text_xml("你好", openid="o_stranger"), OTHER_KEY)
    assert response.status_code == 400
    assert {u.openid for u in WechatUser.select()} == {"o_new", "o_old"}


def _reader_of(app, response, key):
    """The ToUserName of an encrypted reply read with `key`, or None when `key` cannot read it."""
    outer = reply_of(response)
    crypto = WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APPID"])
    try:
        inner = crypto.decrypt_message(response.data, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return xmltodict.parse(inner)["xml"]["ToUserName"]
    except Exception:  # a wrong key yields garbage: any failure means it cannot read it
        return None


def _content_of(app, response, key):
    outer = reply_of(response)
    crypto = WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APPID"])
    inner = crypto.decrypt_message(response.data, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
    return xmltodict.parse(inner)["xml"]["Content"]


def test_a_request_decrypted_with_the_previous_key_is_answered_with_it(rotated_config, app, client):
    """docs/WECHAT.md §1.6: the reply is encrypted with the key that decrypted the request (issue 13, item 11)."""
    response = encrypted_post(client, app, text_xml("帮助", msg_id="120", openid="o_old_key"), OLD_KEY)
    assert _reader_of(app, response, OLD_KEY) == "o_old_key"
    assert _reader_of(app, response, NEW_KEY) is None
    response = encrypted_post(client, app, text_xml("帮助", msg_id="121", openid="o_new_key"), NEW_KEY)
    assert _reader_of(app, response, NEW_KEY) == "o_new_key"


def test_safe_mode_refuses_plaintext_without_effect(rotated_config, app, client):
    # `signature` covers token, timestamp and nonce, not the body: in safe mode only msg_signature authenticates.
    response = post_plain(client, app, text_xml("我的报告", openid="o_impostor"))
    assert response.status_code == 403
    assert WechatUser.select().count() == 0


def test_plaintext_is_accepted_in_safe_mode_only_during_a_mode_switch(rotated_config, app, client):
    app.config["WECHAT_ACCEPT_PLAINTEXT"] = True
    reply = reply_of(post_plain(client, app, text_xml("帮助", openid="o_plain")))
    assert reply["ToUserName"] == "o_plain"
    assert "Encrypt" not in reply


# -- forged and hostile requests ---------------------------------------------------------------------------------


def test_forged_plaintext_signature_is_refused_without_effect(client, app):
    args = {**query(app), "signature": "f" * 40}
    response = client.post("/wechat", query_string=args, data=text_xml("绑定企业").encode())
    assert response.status_code == 403
    assert client.post("/wechat", data=text_xml("绑定企业").encode()).status_code == 403
    assert WechatUser.select().count() == 0


def test_forged_msg_signature_is_refused_without_effect(rotated_config, app, client):
    crypto = WeChatCrypto(app.config["WECHAT_TOKEN"], NEW_KEY, app.config["WECHAT_APPID"])
    envelope = xmltodict.parse(crypto.encrypt_message(text_xml("x", openid="o_forged"), "1", "1700000000"))["xml"]
    args = {"timestamp": "1700000000", "nonce": "1", "encrypt_type": "aes", "msg_signature": "a" * 40}
    body = xmltodict.unparse({"xml": {"Encrypt": envelope["Encrypt"]}})
    assert client.post("/wechat", query_string=args, data=body.encode()).status_code == 403
    assert WechatUser.select().count() == 0


@pytest.mark.parametrize("body", [
    b"<xml><FromUserName>o_x</FromUserName>",
    b"not xml at all",
    b"",
    b"<other><a>1</a></other>",
    b"<xml>just text</xml>",
])
def test_malformed_xml_is_a_400(client, app, body):
    response = client.post("/wechat", query_string=query(app), data=body)
    assert response.status_code == 400
    assert WechatUser.select().count() == 0


def test_missing_fields_are_a_400(client, app):
    xml = xmltodict.unparse({"xml": {"ToUserName": "gh", "MsgType": "text", "Content": "hi"}})
    assert post_plain(client, app, xml).status_code == 400
    assert WechatUser.select().count() == 0


@pytest.mark.parametrize("created", [
    str(NOW * 1000),  # milliseconds: an SDK's test template sends them
    "9" * 40, "²", "¹²³", "１７００００００００", "-5", "1.7e9", " ", str(NOW - 2 * 86400), str(NOW + 2 * 86400), "0",
])
def test_a_create_time_that_is_not_seconds_near_now_is_a_400(client, app, created):
    """Issue 13, item 9: 13 digits, huge values and '²' (str.isdigit is true, int() fails) were 500s."""
    xml = f"<xml><ToUserName>gh</ToUserName><FromUserName>o_clock</FromUserName><CreateTime>{created}</CreateTime>" \
          "<MsgType>text</MsgType><Content>帮助</Content><MsgId>42</MsgId></xml>"
    assert post_plain(client, app, xml).status_code == 400
    assert WechatUser.select().count() == 0


@pytest.mark.parametrize("xml", [
    text_xml("帮助", msg_id="not-a-number"),
    text_xml("帮助", msg_id="9" * 21),
    f"<xml><FromUserName>o_a</FromUserName><FromUserName>o_b</FromUserName><CreateTime>{NOW}</CreateTime>"
    "<MsgType>text</MsgType><Content>x</Content></xml>",
    f"<xml><FromUserName><a>o</a></FromUserName><CreateTime>{NOW}</CreateTime><MsgType>text</MsgType></xml>",
    message_xml("o_e", "event", Event="x" * 65),
    message_xml("o_e", "event"),
    message_xml("o_e", "x" * 65),
])
def test_other_malformed_fields_are_a_400_never_a_500(client, app, xml):
    assert post_plain(client, app, xml).status_code == 400
    assert WechatUser.select().count() == 0


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o_evil</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o_evil</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entity_declarations_are_refused(client, app, body):
    response = post_plain(client, app, body)
    assert response.status_code == 400
    assert b"passwd" not in response.data and b"root:" not in response.data
    assert WechatUser.select().count() == 0


def test_entity_declarations_inside_encrypted_payload_are_refused(rotated_config, app, client):
    response = encrypted_post(client, app, EXTERNAL_ENTITY, NEW_KEY)
    assert response.status_code == 400
    assert WechatUser.select().count() == 0


def test_oversized_body_is_a_413(client, app):
    big = text_xml("长" * 30_000)  # 90 KB of UTF-8
    assert len(big.encode()) > 64 * 1024
    assert post_plain(client, app, big).status_code == 413
    assert WechatUser.select().count() == 0


def test_a_content_length_that_is_no_number_is_a_400_and_a_chunked_body_is_read(client, app):
    args = query(app)
    bad = client.post("/wechat", query_string=args, data=text_xml("帮助").encode(),
                      environ_overrides={"CONTENT_LENGTH": "12x"})
    assert bad.status_code == 400 and WechatUser.select().count() == 0
    body = text_xml("帮助").encode()
    chunked = client.post("/wechat", query_string=query(app), input_stream=io.BytesIO(body),
                          environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True})
    assert reply_of(chunked)["Content"]


def test_signatures_that_are_not_ascii_are_refused_not_an_error(client, app):
    args = dict(query(app), signature="签名" * 20)
    assert client.post("/wechat", query_string=args, data=text_xml("帮助").encode()).status_code == 403
    app.config["WECHAT_AES_KEY"] = NEW_KEY
    args = dict(query(app), encrypt_type="aes", msg_signature="签名")
    body = b"<xml><ToUserName>gh</ToUserName><Encrypt>abc</Encrypt></xml>"
    assert client.post("/wechat", query_string=args, data=body).status_code == 403


def test_only_post_is_answered_before_flask(client, app):
    assert client.put("/wechat", query_string=query(app), data=b"<xml/>").status_code == 405
    assert client.post("/wechat/", query_string=query(app), data=b"<xml/>").status_code == 404


def test_the_database_connection_a_message_opened_is_closed_after_it(client, app):
    from models.base import db

    assert reply_of(post_plain(client, app, text_xml("帮助", openid="o_new_conn")))["Content"]  # a new user: SQL
    assert db.is_closed()


def test_an_error_propagates_where_flask_would_propagate_it(client, app, monkeypatch):
    from bot import engine

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(engine, "handle", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = None
    assert app.testing
    with pytest.raises(KeyError):
        post_plain(client, app, text_xml("帮助"))


def test_the_turn_is_stored_when_the_response_is_closed_and_before_the_next_message(client, app, rt):
    from bot import state

    lock = state.lock_key("o_user_1")
    first = client.post("/wechat", query_string=query(app), data=text_xml("帮助", msg_id="5101").encode(),
                        content_type="text/xml", buffered=False)  # a server that has not closed it yet
    assert first.status_code == 200
    second = post_plain(client, app, text_xml("帮助", msg_id="5102"))  # same thread, same held connection
    assert reply_of(second)["Content"]  # the first turn's answer was read first, not taken for this one's
    first.close()  # what a WSGI server does once the body is sent
    assert reply_of(first)["Content"] == reply_of(second)["Content"]
    assert rt.redis.exists("wechat:reply:o_user_1:5101", "wechat:reply:o_user_1:5102") == 2
    assert not rt.redis.exists(lock)


def test_a_turn_that_cannot_be_stored_after_its_reply_is_logged_and_its_claims_released(client, app, rt,
                                                                                     monkeypatch, caplog):
    import logging

    from redis.exceptions import ConnectionError as RedisConnectionError

    from bot import state
    from webhooks import wechat_turn

    def lost(turn):
        raise RedisConnectionError("Redis went away after the reply")

    monkeypatch.setattr(wechat_turn.Turn, "settled", lost)
    with caplog.at_level(logging.ERROR, logger="webhooks.wechat"):
        response = post_plain(client, app, text_xml("帮助", msg_id="5201"))
    assert reply_of(response)["Content"]  # the reply had left before the store failed
    assert "the reply to 5201 was sent, but its turn could not be stored" in caplog.text
    assert not rt.redis.exists(state.lock_key("o_user_1"), "wechat:inflight:o_user_1:5201")


# -- replies are rendered, never echoed raw ----------------------------------------------------------------------


HOSTILE = "a]]>b<c>&d; 😀 ]]]]> 尾\x01"


def test_hostile_text_gives_well_formed_reply(client, app):
    response = post_plain(client, app, text_xml(HOSTILE.replace("\x01", ""), msg_id="555"))
    reply = reply_of(response)  # parses: the reply is well-formed whatever the bot put in it
    assert reply["ToUserName"] == "o_user_1"
    assert WechatUser.select().count() == 1


# -- freshness and replays --------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-301, 301, -10 * 365 * 86400])
def test_a_request_signed_outside_the_window_is_refused_without_effect(client, app, offset):
    timestamp, nonce = str(int(time.time()) + offset), secrets.token_hex(8)
    args = {"timestamp": timestamp, "nonce": nonce, "signature": sign(app.config["WECHAT_TOKEN"], timestamp, nonce)}
    response = client.post("/wechat", query_string=args, data=text_xml("我的报告").encode(), content_type="text/xml")
    assert response.status_code == 403
    assert WechatUser.select().count() == 0


@pytest.mark.parametrize("stamp", ["", "abc", "１７００", "9" * 40])
def test_a_malformed_timestamp_is_refused(client, app, stamp):
    args = {"timestamp": stamp, "nonce": "n1", "signature": sign(app.config["WECHAT_TOKEN"], stamp, "n1")}
    assert client.post("/wechat", query_string=args, data=text_xml("帮助").encode()).status_code == 403


def test_the_same_signed_request_gets_the_first_answer_whatever_its_body(client, app):
    """Plaintext `signature` covers no body: a captured URL reused with another body is answered as the first."""
    args = query(app)
    first = client.post("/wechat", query_string=args, data=text_xml("帮助", openid="o_owner").encode())
    forged = client.post("/wechat", query_string=args,
                         data=text_xml("我的报告", msg_id="666", openid="o_attacker").encode())
    assert forged.status_code == 200 and forged.data == first.data
    assert reply_of(forged)["ToUserName"] == "o_owner"
    assert [u.openid for u in WechatUser.select()] == ["o_owner"]


def test_a_replayed_safe_mode_request_is_answered_by_its_message_and_not_kept_as_a_request(rotated_config, app,
                                                                                            client, rt):
    """msg_signature covers the body: a replay is the same message, answered from its MsgId's reply (encrypted anew),
    and the signed request itself is not stored (docs/WECHAT.md §1.5)."""
    crypto = WeChatCrypto(app.config["WECHAT_TOKEN"], NEW_KEY, app.config["WECHAT_APPID"])
    envelope = xmltodict.parse(crypto.encrypt_message(text_xml("帮助", msg_id="130", openid="o_replayed"), "778",
                                                      str(int(time.time()))))["xml"]
    args = {"timestamp": envelope["TimeStamp"], "nonce": envelope["Nonce"], "encrypt_type": "aes",
            "msg_signature": envelope["MsgSignature"]}
    body = xmltodict.unparse({"xml": {"ToUserName": "gh_account", "Encrypt": envelope["Encrypt"]}}).encode()
    first, again = (client.post("/wechat", query_string=args, data=body, content_type="text/xml") for _ in "12")
    texts_of = [_content_of(app, response, NEW_KEY) for response in (first, again)]
    assert texts_of[0] and texts_of[0] == texts_of[1]
    assert WechatUser.select().where(WechatUser.openid == "o_replayed").count() == 1
    assert not rt.redis.keys("wechat:seen:*")
    assert rt.redis.ttl("wechat:reply:o_replayed:130") >= 2 * app.config["WECHAT_MAX_SKEW"] - 5  # the replay window
    tampered = dict(args, msg_signature="0" * 40)
    assert client.post("/wechat", query_string=tampered, data=body, content_type="text/xml").status_code == 403


def test_a_request_that_failed_is_not_remembered(client, app):
    args = query(app)
    assert client.post("/wechat", query_string=args, data=b"<xml><broken").status_code == 400
    again = client.post("/wechat", query_string=args, data=text_xml("帮助").encode())
    assert again.status_code == 200 and reply_of(again)["Content"]


# -- retries and repeats -----------------------------------------------------------------------------------------


def test_repeated_msgid_same_answer_one_effect_even_after_redis_flush(client, app, rt):
    xml = text_xml("帮助", msg_id="9001", create_time=NOW)
    first = post_plain(client, app, xml)
    second = post_plain(client, app, xml)
    assert reply_of(first)["Content"] == reply_of(second)["Content"]
    assert WechatUser.select().count() == 1
    seen = WechatUser.get().last_message_at
    rt.redis.flushdb()
    third = post_plain(client, app, xml)
    assert reply_of(third)["ToUserName"] == "o_user_1"
    assert WechatUser.select().count() == 1
    assert WechatUser.get().last_message_at == seen


def test_retry_while_first_in_progress_waits_then_answers_success(client, app, rt):
    app.config["WECHAT_REPLY_WAIT"] = 0.3
    rt.redis.set("wechat:inflight:o_user_1:7001", "1", ex=30)  # what a first, still running, delivery left
    response = post_plain(client, app, text_xml("申请报告", msg_id="7001"))
    assert response.status_code == 200
    assert response.data == b"success"
    assert WechatUser.select().count() == 0  # the retry did not handle the message a second time


def test_retry_while_first_in_progress_gets_the_first_reply(client, app, rt):
    app.config["WECHAT_REPLY_WAIT"] = 5.0
    rt.redis.set("wechat:inflight:o_user_1:7002", "1", ex=30)

    def first_finishes():
        time.sleep(0.3)
        rt.redis.set("wechat:reply:o_user_1:7002", '{"text": "第一次的答复"}', ex=600)

    worker = threading.Thread(target=first_finishes)
    worker.start()
    response = post_plain(client, app, text_xml("申请报告", msg_id="7002"))
    worker.join()
    assert reply_of(response)["Content"] == "第一次的答复"
    assert WechatUser.select().count() == 0


def test_events_are_deduplicated_by_sender_and_create_time(client, app, rt):
    subscribe = message_xml("o_fan", "event", create_time=NOW + 100, Event="subscribe",
                            EventKey="qrscene_report42", Ticket="t")
    unsubscribe = message_xml("o_fan", "event", create_time=NOW + 200, Event="unsubscribe")
    first, again = post_plain(client, app, subscribe), post_plain(client, app, subscribe)
    assert first.data == again.data
    assert WechatUser.select().where(WechatUser.openid == "o_fan").count() == 1
    assert WechatUser.get(WechatUser.openid == "o_fan").subscribed is True
    post_plain(client, app, unsubscribe)
    assert WechatUser.get(WechatUser.openid == "o_fan").subscribed is False
    post_plain(client, app, subscribe)  # a late retry of the old subscribe: no second effect
    assert WechatUser.get(WechatUser.openid == "o_fan").subscribed is False
    assert rt.redis.exists(f"wechat:reply:o_fan:o_fan:{NOW + 100}:subscribe:qrscene_report42")


def test_two_different_events_in_one_second_are_two_events(client, app):
    """Issue 13, item 14: a LOCATION report and a subscribe in the same second were taken as one: the welcome lost."""
    location = message_xml("o_new_fan", "event", create_time=NOW, Event="LOCATION", Latitude="50.2451",
                           Longitude="127.5282", Precision="65.0")
    subscribe = message_xml("o_new_fan", "event", create_time=NOW, Event="subscribe")
    assert post_plain(client, app, location).data == b"success"
    assert "欢迎关注" in reply_of(post_plain(client, app, subscribe))["Content"]
    assert WechatUser.get(WechatUser.openid == "o_new_fan").subscribed is True
    first = message_xml("o_clicker", "event", create_time=NOW, Event="CLICK", EventKey="HELP")
    second = message_xml("o_clicker", "event", create_time=NOW, Event="CLICK", EventKey="BIND")
    assert reply_of(post_plain(client, app, first))["Content"] != reply_of(post_plain(client, app, second))["Content"]


def test_view_event_opens_no_window_and_a_click_opens_only_the_minute(client, app):
    post_plain(client, app, message_xml("o_viewer", "event", create_time=NOW, Event="VIEW",
                                        EventKey="http://hegui.test/guide"))
    viewer = WechatUser.get(WechatUser.openid == "o_viewer")
    assert viewer.last_message_at is None and viewer.last_event_at is None
    post_plain(client, app, message_xml("o_viewer", "event", create_time=NOW + 50, Event="CLICK",
                                        EventKey="HELP"))
    viewer = WechatUser.get(WechatUser.openid == "o_viewer")
    assert viewer.last_event_at is not None and viewer.last_message_at is None
