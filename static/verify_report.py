#!/usr/bin/env python3
"""Offline check of a 合规一码通 专用信用报告 — needs Python 3.8+ and `cryptography` (pip install cryptography).

Checks, without the issuing server, that the signed data saved from <report page>/json is genuine:
  1. the canonical bytes rebuilt from "report" equal "canonical" exactly (sorted keys, UTF-8, no spaces);
  2. SHA-256 of those bytes equals "digest" (and the digest printed on the PDF, with --digest);
  3. the Ed25519 "signature" over them verifies with the issuer's public key (--key PEM, or --keys saved /keys JSON).

    python3 verify_report.py report.json --keys keys.json
    python3 verify_report.py report.json --key issuer-public.pem --digest "3f9a…"

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
except ImportError:  # pragma: no cover - depends on the verifier's machine
    sys.exit("需要安装 cryptography：pip install cryptography / requires the 'cryptography' package")


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


def public_key_for(document, key_path, keys_path):
    """The public key: the PEM file given, or the entry of the saved /keys JSON whose key_id matches."""
    if key_path:
        with open(key_path, encoding="ascii") as fh:
            return load_pem(fh.read())
    if not keys_path:
        raise CheckFailed("未提供公钥（--key 或 --keys）", "no public key given (--key or --keys)")
    with open(keys_path, encoding="utf-8") as fh:
        listing = json.load(fh)
    for entry in listing.get("keys", []):
        if entry.get("key_id") == document.get("key_id"):
            key = load_pem(entry["public_key_pem"])
            if key_id(key) != entry["key_id"]:
                raise CheckFailed("公钥与其编号不符", "the key does not match its key_id")
            return key
    raise CheckFailed(f"公钥列表中没有密钥 {document.get('key_id')}", f"key {document.get('key_id')} not in the list")


def check(document, public_key, printed_digest=None):
    """Run every check; raise CheckFailed on the first that fails; return the digest."""
    try:
        report, canonical = document["report"], document["canonical"].encode("utf-8")
        signature, stated_digest = document["signature"], document["digest"].lower()
    except (KeyError, TypeError, AttributeError) as exc:
        raise CheckFailed("文件不是报告签名数据", f"not a signed report document (missing {exc})") from exc
    if document.get("algorithm", "Ed25519") != "Ed25519":
        raise CheckFailed("不支持的签名算法", f"unsupported algorithm {document.get('algorithm')}")
    if canonical_bytes(report) != canonical:
        raise CheckFailed("报告内容与签名数据不一致（内容被改动）", "report content differs from the signed bytes")
    actual = hashlib.sha256(canonical).hexdigest()
    if actual != stated_digest:
        raise CheckFailed("数字摘要不符（内容被改动）", f"digest mismatch: computed {actual}")
    if printed_digest is not None:
        wanted = "".join(printed_digest.split()).lower()
        if wanted != actual:
            raise CheckFailed("PDF 上的数字摘要与签名数据不符", "the digest printed on the PDF differs")
    try:
        public_key.verify(base64.b64decode(signature, validate=True), canonical)
    except (InvalidSignature, ValueError) as exc:
        raise CheckFailed("签名无效（非签发机构签发或内容被改动）", "invalid signature") from exc
    return actual


def main(argv=None):
    parser = argparse.ArgumentParser(description="专用信用报告离线核验 / offline check of a signed credit report")
    parser.add_argument("json", help="saved <report page>/json file / 报告签名数据文件")
    parser.add_argument("--key", help="issuer public key PEM file / 公钥 PEM 文件")
    parser.add_argument("--keys", help="saved /keys JSON (key chosen by key_id) / 公钥列表")
    parser.add_argument("--digest", help="the digest printed on the PDF / PDF 上印的数字摘要")
    args = parser.parse_args(argv)
    try:
        with open(args.json, encoding="utf-8") as fh:
            document = json.load(fh)
        digest = check(document, public_key_for(document, args.key, args.keys), args.digest)
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
    print(f"  密钥 / key id:         {document.get('key_id')}")
    print("  当前状态（撤销、更正等）请以报告页面为准 / current status (revoked, corrected…): see the report page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
