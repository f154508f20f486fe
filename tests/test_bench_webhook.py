"""bench/webhook_bench.py's request pool: every delivery distinct, fresh, correctly signed and decryptable."""

import time
from urllib.parse import parse_qs, urlsplit

import xmltodict
from wechatpy.crypto import WeChatCrypto

from bench import wrk
from bench.webhook_bench import MessagePool

CONFIG = {"WECHAT_TOKEN": "bench-token", "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
          "WECHAT_APPID": "wxbench000000001"}


def _decoded(raw):
    """(query args, decrypted message) of one raw request, checked as our webhook checks it."""
    head, body = raw.split(b"\r\n\r\n", 1)
    target = head.split(b"\r\n")[0].split(b" ")[1].decode()
    args = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
    crypto = WeChatCrypto(CONFIG["WECHAT_TOKEN"], CONFIG["WECHAT_AES_KEY"], CONFIG["WECHAT_APPID"])
    xml = crypto.decrypt_message(body.decode(), args["msg_signature"], args["timestamp"], args["nonce"])
    return args, xmltodict.parse(xml)["xml"]


def test_fresh_pool_has_a_new_msgid_nonce_and_valid_signature_per_request(tmp_path):
    pool = MessagePool(CONFIG, users=3)
    before = int(time.time())
    assert pool.write(tmp_path / "p.pool", "127.0.0.1:1", 12) == 12
    after = int(time.time())
    decoded = [_decoded(raw) for raw in wrk.read_pool(tmp_path / "p.pool")]
    assert len({m["MsgId"] for _, m in decoded}) == 12
    assert len({a["nonce"] for a, _ in decoded}) == 12
    assert {m["FromUserName"] for _, m in decoded} == {"o-bench-00000", "o-bench-00001", "o-bench-00002"}
    assert all(before <= int(a["timestamp"]) <= after for a, _ in decoded)  # stamped when built
    assert {m["Content"] for _, m in decoded} == {"帮助"}


def test_repeat_pool_resends_one_message_with_new_nonces(tmp_path):
    pool = MessagePool(CONFIG, users=3)
    xml = pool.fresh_xml(0)
    pool.write(tmp_path / "p.pool", "127.0.0.1:1", 5, repeat_xml=xml)
    decoded = [_decoded(raw) for raw in wrk.read_pool(tmp_path / "p.pool")]
    assert len({m["MsgId"] for _, m in decoded}) == 1
    assert len({(a["nonce"], a["msg_signature"]) for a, _ in decoded}) == 5
