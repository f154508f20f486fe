"""static/verify_report.py, run as a subprocess on data saved from /v/<token>/json and /keys, as a verifier would."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from models.policy.report import signing

SCRIPT = Path(__file__).resolve().parent.parent / "static" / "verify_report.py"


def _run(*args):
    result = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def saved(client, make_signed_report, tmp_path):
    """A genuine report's JSON and the /keys listing, saved to files."""
    report = make_signed_report()
    doc_path, keys_path = tmp_path / "report.json", tmp_path / "keys.json"
    doc_path.write_bytes(client.get(f"/v/{report.token}/json").data)
    keys_path.write_bytes(client.get("/keys").data)
    return doc_path, keys_path, report


def test_genuine_report_passes_with_keys_json_and_printed_digest(saved):
    doc_path, keys_path, report = saved
    printed = " ".join(report.digest[i:i + 8] for i in range(0, 64, 8))  # as grouped on the PDF
    code, out = _run(doc_path, "--keys", keys_path, "--digest", printed)
    assert code == 0, out
    assert "核验通过 / VERIFIED" in out and report.number in out and report.digest in out


def test_genuine_report_passes_with_a_pem_file_and_the_sm2_point(saved, tmp_path):
    doc_path, keys_path, _ = saved
    listing = json.loads(keys_path.read_text())["keys"]
    pem = tmp_path / "issuer.pem"
    pem.write_text(next(k for k in listing if k["algorithm"] == "Ed25519")["public_key_pem"])
    point = next(k for k in listing if k["algorithm"] == "SM2-SM3")["public_key_hex"]
    code, out = _run(doc_path, "--key", pem, "--sm2-key", point)
    assert code == 0 and out.count(" ✓") == 2, out
    code, out = _run(doc_path, "--key", pem)  # every signature is checked: the SM2 one needs its key
    assert code == 1 and "未提供 SM2 公钥" in out


def test_each_signature_is_checked_once_and_an_altered_sm2_value_fails(saved):
    doc_path, keys_path, _ = saved
    code, out = _run(doc_path, "--keys", keys_path)
    assert code == 0 and "SM2-SM3 sm2-" in out and "Ed25519 ed25519-" in out, out
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    value = doc["signatures"][0]["value"]
    doc["signatures"][0]["value"] = value[:20] + ("A" if value[20] != "A" else "B") + value[21:]
    doc_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, out = _run(doc_path, "--keys", keys_path)
    assert code == 1 and "SM2-SM3 签名无效" in out, out


def test_a_report_issued_before_sm2_still_verifies(client, make_signed_report, tmp_path):
    report = make_signed_report(legacy=True)
    doc_path, keys_path = tmp_path / "old.json", tmp_path / "keys.json"
    doc_path.write_bytes(client.get(f"/v/{report.token}/json").data)
    keys_path.write_bytes(client.get("/keys").data)
    assert [s["algorithm"] for s in json.loads(doc_path.read_text())["signatures"]] == ["Ed25519"]
    doc = json.loads(doc_path.read_text())
    del doc["signatures"]  # as saved before the field existed
    doc_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, out = _run(doc_path, "--keys", keys_path)
    assert code == 0 and out.count(" ✓") == 1, out


def _alter(doc_path, where):
    text = doc_path.read_text(encoding="utf-8")
    doc = json.loads(text)
    if where == "report":
        doc["report"]["enterprise"]["name"] = doc["report"]["enterprise"]["name"].replace("瑷", "爱", 1)
    elif where == "both":
        doc["report"]["domains"][9]["records"][0]["fine_wan"] = "0.5000"
        doc["canonical"] = signing.canonical_json(doc["report"]).decode()
    elif where == "all":  # content, canonical and digest recomputed: only the signatures can tell
        doc["report"]["number"] = doc["report"]["number"][:-1] + "9"
        doc["canonical"] = signing.canonical_json(doc["report"]).decode()
        doc["digest"] = signing.digest(doc["canonical"].encode())
    doc_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize(("where", "message"), [
    ("report", "报告内容与签名数据不一致"), ("both", "数字摘要不符"), ("all", "签名无效"),
])
def test_one_character_altered_fails(saved, where, message):
    doc_path, keys_path, _ = saved
    _alter(doc_path, where)
    code, out = _run(doc_path, "--keys", keys_path)
    assert code == 1 and "核验失败 / FAILED" in out and message in out, out


def test_wrong_printed_digest_or_key_fails(saved, tmp_path):
    doc_path, keys_path, report = saved
    wrong = report.digest[:-1] + ("0" if report.digest[-1] != "0" else "1")
    code, out = _run(doc_path, "--keys", keys_path, "--digest", wrong)
    assert code == 1 and "PDF 上的数字摘要与签名数据不符" in out
    other = tmp_path / "other.pem"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    code, out = _run(doc_path, "--key", other, "--sm2-key", next(
        k for k in json.loads(keys_path.read_text())["keys"] if k["algorithm"] == "SM2-SM3")["public_key_hex"])
    assert code == 1 and "Ed25519 签名无效" in out
    listing = json.loads(keys_path.read_text())
    listing["keys"][1]["key_id"] = "ed25519-0000000000000000"
    keys_path.write_text(json.dumps(listing))
    code, out = _run(doc_path, "--keys", keys_path)
    assert code == 1 and "公钥列表中没有密钥" in out
    code, out = _run(doc_path)
    assert code == 1 and "未提供 SM2 公钥" in out


def test_script_uses_only_the_standard_library_cryptography_and_gmssl():
    imports = {line.split()[1].split(".")[0] for line in SCRIPT.read_text().splitlines()
               if line.strip().startswith(("import ", "from "))}
    assert imports <= {"argparse", "base64", "hashlib", "json", "sys", "cryptography", "gmssl"}
