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


def test_the_rounds_alternate_and_the_median_round_stands(monkeypatch):
    from types import SimpleNamespace

    from bench import webhook_bench

    def result(rps):
        return wrk.WrkResult(requests=rps, seconds=1.0, p50_ms=1, p90_ms=1, p99_ms=rps / 10, max_ms=1, non2xx=0)

    served = []
    peer_rates, our_rates = iter([900, 1300]), iter([1000, 1200])

    def run_peer(*args):
        served.append("werobot-redis")
        return result(next(peer_rates))

    def measure(*args, **kwargs):
        served.append("ours")
        return result(next(our_rates))

    monkeypatch.setattr(webhook_bench, "run_peer", run_peer)
    monkeypatch.setattr(webhook_bench, "measure", measure)
    results = {"werobot-redis": result(1100), "ours": result(800)}
    stack = SimpleNamespace(base_url="http://127.0.0.1:1")
    rounds = webhook_bench.more_rounds(stack, None, SimpleNamespace(rounds=3), "/tmp", "redis://", results)
    assert served == ["ours", "werobot-redis", "werobot-redis", "ours"]  # round 2 ours first, round 3 the peer first
    assert [r.rps for r in rounds["ours"]] == [800, 1000, 1200]
    assert results["ours"].rps == 1000 and results["werobot-redis"].rps == 1100  # the median rounds
