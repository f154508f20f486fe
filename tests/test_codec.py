"""bot.codec: WeChat's XML read into an Incoming, replies written, requests signed and encrypted (docs/WECHAT.md §1)."""

import time

import pytest
import xmltodict

from bot.codec import (
    MAX_KEY,
    BadMessage,
    Forged,
    cdata,
    decrypt,
    encrypt,
    message_xml,
    parse_incoming,
    parse_xml,
    read_reply,
    render_text_reply,
    signed_request,
)

NOW = int(time.time())
TOKEN, APPID = "codec-token", "wxcodec000000001"
KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
OLD_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
HOSTILE = "a]]>b<c>&d; 😀 ]]]]> 尾\x01"


def parsed(xml, now=NOW):
    return parse_incoming(parse_xml(xml.encode()), now=now)


def test_cdata_splits_terminators_and_drops_forbidden_characters():
    xml = render_text_reply("o_user", "gh_account", HOSTILE, now=1)
    reply = xmltodict.parse(xml)["xml"]
    assert reply["Content"] == HOSTILE.replace("\x01", "")
    assert reply["CreateTime"] == "1"
    assert cdata("]]>") == "<![CDATA[]]]]><![CDATA[>]]>"


def test_parse_message_kinds():
    text = parsed(message_xml("o_1", "text", NOW + 5, msg_id=11, Content=" 帮助 "))
    assert (text.kind, text.text, text.msg_key, text.create_time) == ("text", "帮助", "11", NOW + 5)
    voice = parsed(message_xml("o_1", "voice", NOW, msg_id=12, MediaId="m1", Format="amr", Recognition="申请报告。"))
    assert (voice.kind, voice.text, voice.media_id) == ("voice", "申请报告。", "m1")
    mute = parsed(message_xml("o_1", "voice", NOW, msg_id=13, MediaId="m2", Format="amr"))
    assert (mute.kind, mute.text) == ("voice", None)
    image = parsed(message_xml("o_1", "image", NOW, msg_id=14, PicUrl="http://x/y.jpg", MediaId="m3"))
    assert (image.kind, image.media_id, image.msg_key) == ("image", "m3", "14")
    location = parsed(message_xml("o_1", "location", NOW, msg_id=15, Location_X=50.2, Location_Y=127.5))
    assert (location.kind, location.raw_type) == ("other", "location")


def test_parse_events_keyed_by_sender_time_name_and_key():
    sub = parsed(message_xml("o_a", "event", NOW + 9, Event="subscribe", EventKey="qrscene_abc", Ticket="t"))
    assert (sub.kind, sub.event, sub.event_key) == ("event", "subscribe", "qrscene_abc")
    assert sub.msg_key == f"o_a:{NOW + 9}:subscribe:qrscene_abc"
    click = parsed(message_xml("o_a", "event", NOW, Event="CLICK", EventKey="REPORT_APPLY"))
    assert (click.event, click.event_key) == ("click", "REPORT_APPLY")
    scancode = parsed(message_xml("o_a", "event", NOW, Event="scancode_waitmsg", EventKey="SCAN_VERIFY",
                                  ScanCodeInfo={"ScanType": "qrcode", "ScanResult": "http://hegui.test/v/tok"}))
    assert (scancode.event, scancode.event_key, scancode.text) == ("scancode_waitmsg", "SCAN_VERIFY",
                                                                    "http://hegui.test/v/tok")
    bare = parsed(message_xml("o_a", "event", NOW, Event="unsubscribe"))
    assert (bare.event, bare.event_key, bare.msg_key) == ("unsubscribe", None, f"o_a:{NOW}:unsubscribe")
    location = parsed(message_xml("o_a", "event", NOW, Event="LOCATION", Latitude=50.2, Longitude=127.5))
    assert location.msg_key != parsed(message_xml("o_a", "event", NOW, Event="subscribe")).msg_key


def test_a_long_event_key_is_hashed_to_fit_the_key_columns():
    long = parsed(message_xml("o" * 64, "event", NOW, Event="VIEW", EventKey="https://x.example/" + "p" * 200))
    other = parsed(message_xml("o" * 64, "event", NOW, Event="VIEW", EventKey="https://x.example/" + "q" * 200))
    assert len(long.msg_key) <= MAX_KEY and long.msg_key.startswith("h:") and long.msg_key != other.msg_key


def test_create_time_is_judged_against_the_requests_timestamp():
    stamp = 1409735669  # a 2014 request (Tencent's sample) is judged by its own timestamp, not by today
    assert parsed(message_xml("o_1", "text", stamp - 1, msg_id=1, Content="x"), now=stamp).create_time == stamp - 1
    for created in (stamp * 1000, stamp - 86401, stamp + 86401):
        with pytest.raises(BadMessage, match="CreateTime"):
            parsed(message_xml("o_1", "text", created, msg_id=1, Content="x"), now=stamp)


def test_parse_refuses_messages_without_sender_or_time():
    with pytest.raises(BadMessage):
        parsed(message_xml("", "text", NOW, Content="x"))
    with pytest.raises(BadMessage):
        parsed(message_xml("o" * 65, "text", NOW, Content="x"))
    with pytest.raises(BadMessage):
        parse_incoming({"FromUserName": "o", "MsgType": "text", "CreateTime": "abc"})
    with pytest.raises(BadMessage, match="entities"):
        parse_xml(b'<!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>')


@pytest.mark.parametrize("compatible", [False, True])
def test_a_signed_encrypted_request_round_trips(compatible):
    xml = message_xml("o_round", "text", NOW, msg_id=77, Content="我的报告")
    args, body = signed_request(xml, TOKEN, KEY, APPID, compatible=compatible)
    envelope = parse_xml(body)
    assert ("Content" in envelope) is compatible and args["encrypt_type"] == "aes"
    inner, key = decrypt(envelope, [OLD_KEY, KEY], TOKEN, APPID, args["msg_signature"], args["timestamp"],
                         args["nonce"])
    assert key == KEY and parse_xml(inner.encode())["Content"] == "我的报告"
    for forged in ("0" * 40, "签名" * 20, ""):
        with pytest.raises(Forged):
            decrypt(envelope, [KEY], TOKEN, APPID, forged, args["timestamp"], args["nonce"])
    with pytest.raises(BadMessage):
        decrypt(envelope, [OLD_KEY], TOKEN, APPID, args["msg_signature"], args["timestamp"], args["nonce"])


def test_an_encrypted_reply_reads_back_with_its_key():
    sealed = encrypt(render_text_reply("o_1", "gh", "您好"), OLD_KEY, TOKEN, APPID, "n1")
    assert read_reply(sealed, TOKEN, OLD_KEY, APPID)["Content"] == "您好"
    assert read_reply(b"success", TOKEN) is None


def test_parse_xml_reads_fields_as_xmltodict_does():
    doc = parse_xml(b"<xml><A>  x  </A><B></B><C><D>1</D></C><E>1</E><E>2</E><F k='v'>t</F></xml>")
    assert doc == {"A": "x", "B": None, "C": {"D": "1"}, "E": ["1", "2"], "F": {"@k": "v", "#text": "t"}}
    assert doc == xmltodict.parse(b"<xml><A>  x  </A><B></B><C><D>1</D></C><E>1</E><E>2</E><F k='v'>t</F></xml>")["xml"]


@pytest.mark.parametrize("raw", [
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>'.encode("utf-16"),
    b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><xml><A>1</A></xml>',
    b"<xml><A>&undefined;</A></xml>",
    b"<notxml><A>1</A></notxml>",
    b"<xml>text only</xml>",
    b'<?xml version="1.0" encoding="gb18030"?><xml><A>1</A></xml>',
])
def test_parse_xml_refuses_doctypes_in_any_encoding_and_what_it_cannot_read(raw):
    with pytest.raises(BadMessage):
        parse_xml(raw)


def test_our_replies_decrypt_with_wechatpy_and_carry_fresh_random_bytes():
    from wechatpy.crypto import WeChatCrypto

    xml = render_text_reply("o_1", "gh", "您好")
    first, second = (encrypt(xml, KEY, TOKEN, APPID, "n1", timestamp=NOW) for _ in range(2))
    assert first != second  # 16 fresh random bytes ahead of each message
    envelope = parse_xml(first)
    crypto = WeChatCrypto(TOKEN, KEY, APPID)
    assert crypto.decrypt_message(first, envelope["MsgSignature"], str(NOW), "n1") == xml
