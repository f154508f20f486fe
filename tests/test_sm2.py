"""SM2-SM3 signatures, checked by an implementation other than the one that made them: Debian 12's OpenSSL 3."""

import base64
import subprocess

import pytest
from gmssl import sm2 as gm

from models.policy.report import signing, sm2

# A private key whose public x begins with "04" (found by search): the bug class of gmssl's constructor, which runs
# lstrip("04") over the public key and so eats the leading digits of x, not only the uncompressed-point prefix.
KEY_X_04 = "798d8cc29a3ea8c94eadb0653e75ed61470f7d6ef4d36d1a33e077c71fc85ae3"
SPKI_PREFIX = "3059301306072a8648ce3d020106082a811ccf5501822d034200"  # SubjectPublicKeyInfo, id-ecPublicKey + SM2
SEC1_PREFIX, SEC1_MIDDLE = "30770201010420", "a00a06082a811ccf5501822da144034200"  # ECPrivateKey with the curve
PAYLOAD = signing.canonical_json(
    {"number": "HH-20261127-000042", "企业": "黑河市瑷珲边贸物流有限公司", "罚款": "8.7万元"})


def _openssl_verify(tmp_path, point_hex, payload, signature_b64):
    """OpenSSL 3's verdict (True/False) on an SM2 signature, with the GB/T 32918 user id."""
    (tmp_path / "pub.der").write_bytes(bytes.fromhex(SPKI_PREFIX + point_hex))
    (tmp_path / "sig.der").write_bytes(base64.b64decode(signature_b64))
    (tmp_path / "data").write_bytes(payload)
    done = subprocess.run(
        ["openssl", "dgst", "-sm3", "-verify", str(tmp_path / "pub.der"), "-keyform", "DER",
         "-sigopt", f"distid:{sm2.USER_ID}", "-signature", str(tmp_path / "sig.der"), str(tmp_path / "data")],
        capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0 and "Verified OK" in done.stdout


def _openssl_public_point(tmp_path, private_hex):
    """The public point OpenSSL derives from the private key (not gmssl's arithmetic)."""
    key = sm2.SigningKey(private_hex)
    (tmp_path / "key.der").write_bytes(bytes.fromhex(SEC1_PREFIX + private_hex + SEC1_MIDDLE + key.public_hex))
    der = subprocess.run(["openssl", "pkey", "-inform", "DER", "-in", str(tmp_path / "key.der"), "-pubout",
                          "-outform", "DER"], capture_output=True, check=True).stdout
    assert der.hex().startswith(SPKI_PREFIX)
    return der.hex()[len(SPKI_PREFIX):]


@pytest.mark.parametrize("private_hex", [KEY_X_04, sm2.generate_private()])
def test_openssl_verifies_our_signature_and_refuses_a_one_character_change(tmp_path, private_hex):
    key = sm2.SigningKey(private_hex)
    signature = key.sign(PAYLOAD)
    assert _openssl_verify(tmp_path, key.public_hex, PAYLOAD, signature)
    changed = PAYLOAD.decode().replace("8.7万元", "8.1万元").encode()
    assert changed != PAYLOAD and not _openssl_verify(tmp_path, key.public_hex, changed, signature)
    assert sm2.verify(key.public_hex, PAYLOAD, signature) and not sm2.verify(key.public_hex, changed, signature)


def test_public_point_agrees_with_openssl_for_an_x_that_begins_with_04(tmp_path):
    key = sm2.SigningKey(KEY_X_04)
    assert key.public_hex.startswith("0404") and len(key.public_hex) == 130
    assert _openssl_public_point(tmp_path, KEY_X_04) == key.public_hex


def test_gmssl_constructor_corrupts_such_a_key_and_our_wrapper_does_not(tmp_path):
    key = sm2.SigningKey(KEY_X_04)
    naive = gm.CryptSM2(private_key=KEY_X_04, public_key=key.public_hex)
    assert naive.public_key != key.public_hex[2:]  # the bug this module works around: lstrip ate x's leading "04"
    assert sm2._crypt(KEY_X_04, key.public_hex).public_key == key.public_hex[2:]


def test_signature_is_der_and_each_nonce_is_fresh():
    key = sm2.SigningKey(sm2.generate_private())
    first, second = key.sign(PAYLOAD), key.sign(PAYLOAD)
    assert first != second
    der = base64.b64decode(first)
    assert der[0] == 0x30 and der[1] == len(der) - 2


def test_verify_refuses_wrong_keys_and_malformed_values():
    key, other = sm2.SigningKey(sm2.generate_private()), sm2.SigningKey(sm2.generate_private())
    signature = key.sign(PAYLOAD)
    assert not sm2.verify(other.public_hex, PAYLOAD, signature)
    assert not sm2.verify(key.public_hex[:-1] + ("0" if key.public_hex[-1] != "0" else "1"), PAYLOAD, signature)
    assert not sm2.verify(key.public_hex, PAYLOAD, "not base64!")
    zero = base64.b64encode(bytes.fromhex("3006020100020100")).decode()  # r = s = 0
    assert not sm2.verify(key.public_hex, PAYLOAD, zero)


def test_key_from_setting_file_or_generated_in_development_only(tmp_path):
    assert sm2.load_private_key(KEY_X_04.upper(), tmp_path, dev_mode=False).private_hex == KEY_X_04
    path = tmp_path / "sm2.hex"
    path.write_text(KEY_X_04 + "\n")
    assert sm2.load_private_key(str(path), tmp_path, dev_mode=False).key_id == sm2.key_id(
        sm2.SigningKey(KEY_X_04).public_hex)
    with pytest.raises(sm2.SM2KeyError, match="required outside development"):
        sm2.load_private_key(None, tmp_path, dev_mode=False)
    made = sm2.load_private_key(None, tmp_path / "instance", dev_mode=True)
    assert (tmp_path / "instance" / "sm2-signing-key.hex").stat().st_mode & 0o777 == 0o600
    assert sm2.load_private_key(None, tmp_path / "instance", dev_mode=True).private_hex == made.private_hex
    for bad in ("xyz", "0" * 64, f"{sm2.N:064x}", KEY_X_04[:-1]):
        with pytest.raises(sm2.SM2KeyError):
            sm2.load_private_key(bad, tmp_path, dev_mode=False)
    assert made.key_id.startswith("sm2-") and len(made.key_id) == 20
