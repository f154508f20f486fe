"""The WeChat XML codec (docs/WECHAT.md §1): what WeChat posts read into an Incoming, passive replies written, and
WeChat's own side — signed and encrypted requests — built for the simulator, the end-to-end stack and the tests.

No Flask here: the webhook turns the typed errors into HTTP answers (BadMessage → 400, Forged → 403).
"""

import base64
import functools
import hashlib
import hmac
import re
import secrets
import struct
import time
from xml.etree.ElementTree import ParseError, TreeBuilder, XMLParser

from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException

from bot.messages import Incoming

ACCOUNT_ID = "gh_hegui_dev"  # the account's original id in development and tests (ToUserName)
MAX_OPENID = 64
MAX_MSG_ID = 20  # MsgId is a 64-bit integer: at most 20 digits
MAX_NAME = 64  # MsgType and Event names are short words
MAX_KEY = 80  # the longest dedup key the tables keep (HandledMessage, ReportRequest, Case: msg_key)
# CreateTime is seconds since the epoch, and WeChat pushes (and retries) a message within seconds of it. Anything
# further than a day from the signed request's timestamp (13-digit milliseconds, 2015, the year 3000) is malformed
# [project; docs/WECHAT.md §1.5].
CREATE_TIME_SKEW = 86400
XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Events after which WeChat opens its 1-minute / 3-message customer-service window (docs/WECHAT.md §2.3).
WINDOW_EVENTS = frozenset({"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"})


class BadMessage(ValueError):
    """Not a message we can read: malformed XML, an entity declaration, missing or out-of-range fields (400)."""


class Forged(ValueError):
    """The msg_signature does not match the encrypted body (403)."""


# -- reading --------------------------------------------------------------------------------------------------


class _NoDoctype(TreeBuilder):
    """ElementTree's C tree builder, refusing the document at its DOCTYPE: no DTD, so no entity is ever declared
    (billion laughs, XXE), whatever the document's encoding (docs/WECHAT.md §1.8)."""

    def doctype(self, name, pubid, system):
        raise BadMessage("a DOCTYPE is refused: no entities are declared or read")


def parse_xml(raw):
    """The children of `<xml>` as a dict, as xmltodict reads them: text stripped (None when empty), an element
    with children or attributes a dict, a repeated element a list. BadMessage for malformed XML or any DOCTYPE.
    (ElementTree's C parser: a third of xmltodict's time, twice per message.)"""
    parser = XMLParser(target=_NoDoctype())
    try:
        parser.feed(raw)
        root = parser.close()
    except BadMessage:
        raise
    except (ParseError, ValueError, LookupError) as exc:  # ValueError: an encoding expat cannot read (gb18030)
        raise BadMessage(f"unreadable XML: {exc}") from exc
    if root.tag != "xml" or not len(root):
        raise BadMessage("the root element must be <xml> with children")
    return _children(root)


def _children(element):
    fields = {}
    for child in element:
        value = _value(child)
        if child.tag not in fields:
            fields[child.tag] = value
        elif isinstance(fields[child.tag], list):  # a value is never a list but for a repeated element
            fields[child.tag].append(value)
        else:
            fields[child.tag] = [fields[child.tag], value]
    return fields


def _value(element):
    text = (element.text or "").strip() or None
    if not len(element) and not element.attrib:
        return text
    value = {f"@{name}": attr for name, attr in element.attrib.items()} | _children(element)
    if text is not None:
        value["#text"] = text
    return value


def field(fields, key):
    """A field's text, stripped; None when absent, empty, repeated or not plain text (an element with children)."""
    value = fields.get(key) if isinstance(fields, dict) else None
    return (value.strip() or None) if isinstance(value, str) else None


def _digits(value, longest):
    """`value` as an int when it is 1–`longest` ASCII digits ('²' and '１' are digits to str.isdigit, not here)."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > longest:
        return None
    return int(value)


def parse_incoming(fields, now=None):
    """The Incoming for a parsed message; BadMessage when sender, type or time are missing or out of range. `now` is
    the signed request's timestamp (itself checked against our clock), else our clock."""
    openid, msg_type = field(fields, "FromUserName"), (field(fields, "MsgType") or "").lower()
    created = _digits(field(fields, "CreateTime"), 12)
    if not openid or len(openid) > MAX_OPENID or not msg_type or len(msg_type) > MAX_NAME:
        raise BadMessage("FromUserName, MsgType and CreateTime are required")
    now = time.time() if now is None else now
    if created is None or abs(created - now) > CREATE_TIME_SKEW:
        raise BadMessage(f"CreateTime {field(fields, 'CreateTime')!r:.40} is not seconds near now")
    base = {"openid": openid, "create_time": created, "raw_type": msg_type}
    if msg_type == "event":
        return _parse_event(fields, base)
    msg_id = field(fields, "MsgId")
    if msg_id is not None and _digits(msg_id, MAX_MSG_ID) is None:
        raise BadMessage("MsgId must be a number")
    base["msg_key"] = msg_id or _key(openid, created, msg_type)
    if msg_type == "text":
        content = fields.get("Content")
        return Incoming(kind="text", text=content if isinstance(content, str) else "", **base)
    if msg_type == "voice":
        return Incoming(kind="voice", text=field(fields, "Recognition"), media_id=field(fields, "MediaId"), **base)
    if msg_type == "image":
        return Incoming(kind="image", media_id=field(fields, "MediaId"), **base)
    return Incoming(kind="other", **base)


def _parse_event(fields, base):
    """Events: lower-cased name, EventKey, a scancode event's ScanResult as `text`; keyed by sender, time, name and
    key, since two different events of one user can share a second (docs/WECHAT.md §1.4)."""
    event = (field(fields, "Event") or "").lower()
    if not event or len(event) > MAX_NAME:
        raise BadMessage("an event without a (short) Event name")
    key = field(fields, "EventKey")
    scan = fields.get("ScanCodeInfo")
    return Incoming(kind="event", event=event, event_key=key, text=field(scan, "ScanResult"),
                    msg_key=_key(base["openid"], base["create_time"], event, key or ""), **base)


def _key(*parts):
    """The dedup key of a message without MsgId: its parts joined, or their hash when that would be too long."""
    joined = ":".join(str(p) for p in parts).rstrip(":")
    return joined if len(joined) <= MAX_KEY else "h:" + hashlib.sha256(joined.encode()).hexdigest()[:48]


# -- writing --------------------------------------------------------------------------------------------------


def cdata(value):
    """`value` as CDATA: characters XML forbids removed, every `]]>` split across two sections (docs/WECHAT.md §1.7)."""
    clean = XML_FORBIDDEN.sub("", str(value))
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(to_user, from_user, text, now=None):
    """A passive text reply, rendered here (wechatpy's renderer does not escape CDATA)."""
    created = int(now if now is not None else time.time())
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    )


# -- signatures and encryption (docs/WECHAT.md §1.1, §1.6) -----------------------------------------------------


def signature(*values):
    """WeChat's signature: sha1 of the values sorted and joined."""
    return hashlib.sha1("".join(sorted(str(v) for v in values)).encode()).hexdigest()


def decrypt(envelope, keys, token, appid, msg_signature, timestamp, nonce):
    """(decrypted XML, the key that decrypted it): the current key tried, then the previous one. Forged when the
    msg_signature is wrong (whatever the key), BadMessage when no key decrypts."""
    sealed = envelope.get("Encrypt")
    if not keys or not isinstance(sealed, str):
        raise BadMessage("encrypted message without a key or an <Encrypt> element")
    if not hmac.compare_digest(signature(token, timestamp, nonce, sealed).encode(), str(msg_signature or "").encode()):
        raise Forged("msg_signature")
    for key in keys:
        try:
            return _cipher(key).decrypt(sealed, appid), key
        except (InvalidAppIdException, ValueError, struct.error, IndexError):
            continue
    raise BadMessage("cannot decrypt with the current or previous EncodingAESKey")


@functools.lru_cache(maxsize=8)
def _cipher(key):
    """wechatpy's cipher for one EncodingAESKey (AES-256-CBC, the key's first 16 bytes as IV, WeChat's 32-byte
    PKCS#7 padding and framing), made once per key as WeRoBot does: building it per message was a tenth of the
    webhook's time (bench/webhook_bench.py)."""
    raw = base64.b64decode(key + "=")
    if len(raw) != 32:
        raise BadMessage("an EncodingAESKey must be 43 characters of base64 (32 bytes)")
    return _Cipher(raw)


class _Cipher(PrpCrypto):
    """wechatpy's cipher with the 16 random bytes ahead of each message drawn from `secrets` (wechatpy samples 16
    letters with `random`, a tenth of encrypting a reply)."""

    def get_random_string(self):
        return secrets.token_hex(8)


def encrypt(xml, key, token, appid, nonce, timestamp=None):
    """The encrypted envelope of `xml` (a reply, or WeChat's request), signed with msg_signature."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    sealed = _cipher(key).encrypt(xml, appid).decode("ascii")
    return (f"<xml><Encrypt><![CDATA[{sealed}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature(token, timestamp, nonce, sealed)}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>")


# -- WeChat's side: what it posts (the simulator, the stack, the tests) ----------------------------------------


def _element(name, value):
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_element(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, int | float):
        return f"<{name}>{value}</{name}>"
    return f"<{name}>{cdata(value)}</{name}>"


def message_xml(openid, msg_type, create_time, msg_id=None, to_user=ACCOUNT_ID, **fields):
    """The XML WeChat posts for one message or event; `fields` become elements (Content, Event, EventKey, or a dict
    for nested ones such as ScanCodeInfo)."""
    parts = [_element("ToUserName", to_user), _element("FromUserName", openid),
             f"<CreateTime>{int(create_time)}</CreateTime>", _element("MsgType", msg_type)]
    parts += [_element(name, value) for name, value in fields.items()]
    if msg_id is not None:
        parts.append(f"<MsgId>{int(msg_id)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def signed_request(xml, token, aes_key=None, appid=None, openid="", timestamp=None, compatible=False):
    """(query args, body) of WeChat's POST: plaintext signed with the Token; with `aes_key`, safe mode (only
    `<Encrypt>`), or compatible mode (the plaintext fields beside it) when `compatible`."""
    timestamp, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(8)
    args = {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": openid}
    if not aes_key:
        return args, xml.encode("utf-8")
    sealed = parse_xml(encrypt(xml, aes_key, token, appid, nonce, timestamp))
    args.update(encrypt_type="aes", msg_signature=sealed["MsgSignature"])
    inner = xml.strip()[len("<xml>"):-len("</xml>")] if compatible else f"<ToUserName>{cdata(ACCOUNT_ID)}</ToUserName>"
    body = f"<xml>{inner}<Encrypt>{cdata(sealed['Encrypt'])}</Encrypt></xml>"
    return args, body.encode("utf-8")


def read_reply(body, token, aes_key=None, appid=None):
    """The fields of a passive reply (decrypted when encrypted); None for 'success' or an empty body."""
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    if not raw.strip().startswith("<"):
        return None
    doc = parse_xml(raw)
    if "Encrypt" in doc:
        xml, _ = decrypt(doc, [aes_key], token, appid, doc.get("MsgSignature"), doc.get("TimeStamp"), doc.get("Nonce"))
        doc = parse_xml(xml)
    return doc


def reply_text(body, token, aes_key=None, appid=None):
    """The text of a passive reply, or None (see read_reply)."""
    doc = read_reply(body, token, aes_key, appid)
    return None if doc is None else doc.get("Content")
