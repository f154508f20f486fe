"""Every message and event type WeChat documents (tests/data/wechat/), replayed in plaintext, compatible and safe
mode: never a 5xx, a well-formed reply (or `success`), and a 400 for malformed input (issue 13, "Done when")."""

import re
import time
from pathlib import Path

import pytest

from bot.codec import parse_xml, read_reply, signed_request

CORPUS = sorted((Path(__file__).parent / "data" / "wechat").glob("*.xml"))
HEADER = re.compile(r"<!-- expect: (\d{3}); source: (.+?) -->\n")
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
MODES = ("plaintext", "compatible", "safe")


def sample(path, now):
    """(expected status, the XML with its 10-digit CreateTime moved to `now`)."""
    text = path.read_text(encoding="utf-8")
    head = HEADER.match(text)
    assert head, f"{path.name}: the first line must say what to expect and where the sample comes from"
    xml = re.sub(r"<CreateTime>\d{10}</CreateTime>", f"<CreateTime>{now}</CreateTime>", text[head.end():]).strip()
    return int(head.group(1)), xml


def test_the_corpus_covers_what_wechat_documents():
    names = {p.stem for p in CORPUS}
    assert {"text", "image", "voice_recognition", "voice_plain", "video", "shortvideo", "location", "link", "file",
            "subscribe", "subscribe_qrscene", "unsubscribe", "scan", "location_event", "click", "view",
            "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin",
            "location_select", "templatesendjobfinish", "masssendjobfinish", "view_miniprogram",
            "text_create_time_milliseconds", "unknown_message_type", "unknown_event"} <= names
    for path in CORPUS:
        status, xml = sample(path, int(time.time()))
        assert status in (200, 400) and parse_xml(xml.encode())


def _well_formed(response, fields, config, encrypted):
    """A problem with the answer to a 200 sample, or None."""
    if response.data == b"success":
        return None
    outer = parse_xml(response.data)
    if encrypted and set(outer) != {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}:
        return f"not encrypted: {sorted(outer)}"
    reply = read_reply(response.data, config["WECHAT_TOKEN"], config.get("WECHAT_AES_KEY"), config["WECHAT_APPID"])
    if (reply.get("ToUserName"), reply.get("FromUserName")) != (fields.get("FromUserName"), fields.get("ToUserName")):
        return f"not addressed back: {reply.get('ToUserName')!r} ← {reply.get('FromUserName')!r}"
    if reply.get("MsgType") != "text" or not reply.get("Content") or not reply.get("CreateTime", "").isdigit():
        return f"not a text reply: {reply}"
    return None


@pytest.mark.parametrize("mode", MODES)
def test_every_sample_in_every_mode(app_config, request, mode):
    if mode != "plaintext":
        app_config["WECHAT_AES_KEY"] = AES_KEY
    app = request.getfixturevalue("app")
    client, config = app.test_client(), app.config
    problems = []
    for path in CORPUS:
        expected, xml = sample(path, int(time.time()))
        key = config.get("WECHAT_AES_KEY")
        args, body = signed_request(xml, config["WECHAT_TOKEN"], key, config["WECHAT_APPID"],
                                    compatible=mode == "compatible")
        response = client.post("/wechat", query_string=args, data=body, content_type="text/xml")
        if response.status_code != expected:
            problems.append(f"{path.name}: {response.status_code}, expected {expected}")
        elif expected == 200:
            problem = _well_formed(response, parse_xml(xml.encode()), config, encrypted=bool(key))
            if problem:
                problems.append(f"{path.name}: {problem}")
    assert problems == []
