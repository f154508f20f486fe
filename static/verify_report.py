#!/usr/bin/env python3
"""Offline check of a 合规一码通 专用信用报告 — needs Python 3.8+, `cryptography` and, for the 国密 signature, `gmssl`
(pip install cryptography gmssl).

Checks, without the issuing server, that the signed data saved from <report page>/json is genuine:
  1. the canonical bytes rebuilt from "report" equal "canonical" exactly (sorted keys, UTF-8, no spaces);
  2. SHA-256 of those bytes equals "digest" (and the digest printed on the PDF, with --digest);
  3. every signature in "signatures" verifies over them, each once: Ed25519 with the issuer's public key (--key PEM,
     or --keys saved /keys JSON), SM2-SM3 (GB/T 32918, user id 1234567812345678) with the SM2 public key (--keys, or
     --sm2-key 04…). A document saved before SM2 signatures existed carries the Ed25519 "signature" alone.

    python3 verify_report.py report.json --keys keys.json
    python3 verify_report.py report.json --key issuer-public.pem --sm2-key 04… --digest "3f9a…"

Exit code 0: genuine; 1: not genuine or not checkable. The report's current status (revoked, expired…) is live
data: see the report page. 离线核验：退出码 0 表示真实未改动，1 表示核验未通过。
"""

import argparse
import base64
import hashlib
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
except ImportError:  # pragma: no cover - depends on the verifier's machine
    sys.exit("需要安装 cryptography：pip install cryptography / requires the 'cryptography' package")

SM2_ALGORITHM = "SM2-SM3"
SM2_ORDER = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


class CheckFailed(Exception):
    """One check did not pass: (Chinese, English)."""

    def __init__(self, zh, en):
        super().__init__(f"{zh} / {en}")


def canonical_bytes(report):
    """The signed form: sorted keys, UTF-8, no insignificant whitespace."""
    return json.dumps(report, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def key_id(public_key):
    """The issuer's key id: ed25519- + first 16 hex digits of SHA-256 over the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def load_pem(text):
    """An Ed25519 public key from PEM text."""
    try:
        key = serialization.load_pem_public_key(text.encode("ascii"))
    except ValueError as exc:
        raise CheckFailed("公钥文件无法读取", f"unreadable public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckFailed("公钥不是 Ed25519 公钥", "not an Ed25519 public key")
    return key


def _listing(keys_path):
    """The entries of a saved /keys JSON, or []."""
    if not keys_path:
        return []
    with open(keys_path, encoding="utf-8") as fh:
        return json.load(fh).get("keys", [])


def ed25519_key_for(wanted_id, key_path, listing):
    """The Ed25519 key: the PEM file given, or the /keys entry whose key_id matches."""
    if key_path:
        with open(key_path, encoding="ascii") as fh:
            return load_pem(fh.read())
    if not listing:
        raise CheckFailed("未提供公钥（--key 或 --keys）", "no public key given (--key or --keys)")
    for entry in listing:
        if entry.get("key_id") == wanted_id and "public_key_pem" in entry:
            key = load_pem(entry["public_key_pem"])
            if key_id(key) != entry["key_id"]:
                raise CheckFailed("公钥与其编号不符", "the key does not match its key_id")
            return key
    raise CheckFailed(f"公钥列表中没有密钥 {wanted_id}", f"key {wanted_id} not in the list")


def sm2_key_for(wanted_id, sm2_key, listing):
    """The SM2 public point (04‖x‖y, hex): --sm2-key, or the /keys entry whose key_id matches."""
    point = sm2_key
    if not point:
        point = next((e.get("public_key_hex") for e in listing if e.get("key_id") == wanted_id), None)
    if not point:
        raise CheckFailed(f"未提供 SM2 公钥 {wanted_id}（--keys 或 --sm2-key）", f"no SM2 public key {wanted_id}")
    point = point.strip().lower()
    if len(point) != 130 or not point.startswith("04"):
        raise CheckFailed("SM2 公钥格式不对（应为 04 开头的 130 位十六进制）", "malformed SM2 public key")
    if "sm2-" + hashlib.sha256(bytes.fromhex(point)).hexdigest()[:16] != wanted_id:
        raise CheckFailed("SM2 公钥与其编号不符", "the SM2 key does not match its key_id")
    return point


def verify_sm2(point, payload, signature_b64):
    """True when the DER signature verifies (gmssl; its constructor strips leading 0/4 digits of a key given to it,
    so the key is set afterwards)."""
    try:
        from gmssl import sm2 as gm
    except ImportError as exc:
        raise CheckFailed("核验国密签名需要安装 gmssl：pip install gmssl", "the SM2 check needs 'gmssl'") from exc
    r, s = decode_dss_signature(base64.b64decode(signature_b64, validate=True))
    if not (1 <= r < SM2_ORDER and 1 <= s < SM2_ORDER):
        return False
    crypt = gm.CryptSM2(private_key="0" * 64, public_key="")
    crypt.public_key = point[2:]
    return bool(crypt.verify_with_sm3(f"{r:064x}{s:064x}", payload))


def signatures_of(document):
    """Every signature to check: "signatures", or the single Ed25519 one of older documents."""
    found = document.get("signatures")
    if found:
        return found
    return [{"algorithm": document.get("algorithm", "Ed25519"), "key_id": document.get("key_id"),
             "value": document["signature"]}]


def check_signature(entry, canonical, keys):
    """Verify one signature entry; raise CheckFailed when it does not verify."""
    algorithm, wanted = entry.get("algorithm"), entry.get("key_id")
    try:
        if algorithm == "Ed25519":
            public = ed25519_key_for(wanted, keys["pem"], keys["listing"])
            public.verify(base64.b64decode(entry["value"], validate=True), canonical)
            return
        if algorithm == SM2_ALGORITHM:
            point = sm2_key_for(wanted, keys["sm2"], keys["listing"])
            if verify_sm2(point, canonical, entry["value"]):
                return
            raise InvalidSignature()
    except (InvalidSignature, ValueError) as exc:
        zh = f"{algorithm} 签名无效（非签发机构签发或内容被改动）"
        raise CheckFailed(zh, f"invalid {algorithm} signature") from exc
    raise CheckFailed("不支持的签名算法", f"unsupported algorithm {algorithm}")


def check(document, keys, printed_digest=None):
    """Run every check; raise CheckFailed on the first that fails; return (digest, algorithms checked)."""
    try:
        report, canonical = document["report"], document["canonical"].encode("utf-8")
        stated_digest = document["digest"].lower()
        entries = signatures_of(document)
    except (KeyError, TypeError, AttributeError) as exc:
        raise CheckFailed("文件不是报告签名数据", f"not a signed report document (missing {exc})") from exc
    if canonical_bytes(report) != canonical:
        raise CheckFailed("报告内容与签名数据不一致（内容被改动）", "report content differs from the signed bytes")
    actual = hashlib.sha256(canonical).hexdigest()
    if actual != stated_digest:
        raise CheckFailed("数字摘要不符（内容被改动）", f"digest mismatch: computed {actual}")
    if printed_digest is not None:
        wanted = "".join(printed_digest.split()).lower()
        if wanted != actual:
            raise CheckFailed("PDF 上的数字摘要与签名数据不符", "the digest printed on the PDF differs")
    for entry in entries:
        check_signature(entry, canonical, keys)
    return actual, [f"{e.get('algorithm')} {e.get('key_id')}" for e in entries]


def main(argv=None):
    parser = argparse.ArgumentParser(description="专用信用报告离线核验 / offline check of a signed credit report")
    parser.add_argument("json", help="saved <report page>/json file / 报告签名数据文件")
    parser.add_argument("--key", help="issuer public key PEM file / 公钥 PEM 文件")
    parser.add_argument("--keys", help="saved /keys JSON (key chosen by key_id) / 公钥列表")
    parser.add_argument("--sm2-key", help="SM2 public key, 04 + 128 hex digits / 国密 SM2 公钥")
    parser.add_argument("--digest", help="the digest printed on the PDF / PDF 上印的数字摘要")
    args = parser.parse_args(argv)
    try:
        with open(args.json, encoding="utf-8") as fh:
            document = json.load(fh)
        keys = {"pem": args.key, "sm2": args.sm2_key, "listing": _listing(args.keys)}
        digest, checked = check(document, keys, args.digest)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"核验失败 / FAILED: 文件无法读取 / cannot read a file: {exc}")
        return 1
    except CheckFailed as exc:
        print(f"核验失败 / FAILED: {exc}")
        return 1
    report = document["report"]
    enterprise = report.get("enterprise", {})
    print("核验通过 / VERIFIED: 报告内容由签发机构签名，未被改动 / signed by the issuer, unaltered")
    print(f"  报告编号 / number:     {report.get('number')}")
    print(f"  企业 / enterprise:     {enterprise.get('name')} ({enterprise.get('uscc')})")
    print(f"  签发 / issued:         {report.get('issued_at')}  有效期至 / valid until: {report.get('valid_until')}")
    print(f"  数字摘要 / digest:     {digest}")
    for line in checked:
        print(f"  签名 / signature:      {line} ✓")
    print("  当前状态（撤销、更正等）请以报告页面为准 / current status (revoked, corrected…): see the report page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
