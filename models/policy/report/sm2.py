"""SM2 signatures with the SM3 digest (GB/T 32918, user id 1234567812345678) over the canonical report bytes.

The arithmetic is gmssl's (PyPI, pure Python). Its key handling is wrapped here because it is wrong in three ways:
`CryptSM2(private, public)` runs `public.lstrip("04")`, which strips every leading '0' and '4' character — so an x
coordinate that begins with 0 or 4 (one key in eight) is silently corrupted, whether or not "04" was prepended; its
default nonce comes from `random.choice` (not a CSPRNG) and may exceed the group order; and its verify does not check
that r and s lie in [1, n-1]. This module sets the public key after construction, draws the nonce from `secrets`, and
checks the range. Signatures are DER `SEQUENCE {r, s}`; public keys are published as the uncompressed point (04‖x‖y).
"""

import base64
import hashlib
import re
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from gmssl import sm2 as gm

ALGORITHM = "SM2-SM3"
USER_ID = "1234567812345678"  # GB/T 35276 default distinguishing id; gmssl's _sm3_z hard-codes the same bytes
CURVE = gm.default_ecc_table
N = int(CURVE["n"], 16)
P = int(CURVE["p"], 16)
HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
HEX_POINT = re.compile(r"04[0-9a-fA-F]{128}")


class SM2KeyError(RuntimeError):
    """SM2_SIGNING_KEY is missing or malformed, or a public key is not a point of the curve."""


def _crypt(private_hex, point_hex):
    """A gmssl CryptSM2 holding exactly these keys (never through its constructor's lstrip, see the docstring)."""
    crypt = gm.CryptSM2(private_key=private_hex, public_key="")
    crypt.public_key = point_hex[2:].lower()  # x‖y, 128 hex digits, as gmssl's arithmetic expects
    return crypt


def _on_curve(point_hex):
    """True when 04‖x‖y is a point of the SM2 curve."""
    x, y = int(point_hex[2:66], 16), int(point_hex[66:], 16)
    a, b = int(CURVE["a"], 16), int(CURVE["b"], 16)
    return x < P and y < P and (y * y - (x * x * x + a * x + b)) % P == 0


def public_point(private_hex):
    """The uncompressed public point 04‖x‖y (hex) of a private key."""
    d = int(private_hex, 16)
    xy = _crypt(private_hex, "04" + "0" * 128)._kg(d, CURVE["g"])  # d·G; gmssl has no public name for it
    return "04" + xy


def check_private(private_hex):
    """The private key as 64 lower-case hex digits in [1, n-2]; SM2KeyError otherwise."""
    text = (private_hex or "").strip()
    if not HEX_KEY.fullmatch(text) or not 1 <= int(text, 16) <= N - 2:
        raise SM2KeyError("SM2_SIGNING_KEY must be 64 hex digits, a number in [1, n-2]")
    return text.lower()


def check_point(point_hex):
    """A public key as 04‖x‖y on the curve (lower case); SM2KeyError otherwise."""
    text = (point_hex or "").strip().lower()
    if not HEX_POINT.fullmatch(text) or not _on_curve(text):
        raise SM2KeyError("an SM2 public key is 04 followed by 128 hex digits, a point of the curve")
    return text


def generate_private():
    """A new private key (64 hex digits)."""
    return f"{secrets.randbelow(N - 2) + 1:064x}"


def load_private_key(setting, instance_path, dev_mode):
    """SM2_SIGNING_KEY (hex, or a path to a file holding it); in development only, generate one under instance/."""
    if setting:
        text = setting
        if not HEX_KEY.fullmatch(setting.strip()) and Path(setting).is_file():
            text = Path(setting).read_text()
        return SigningKey(check_private(text))
    if not dev_mode:
        raise SM2KeyError("SM2_SIGNING_KEY is required outside development mode")
    path = Path(instance_path) / "sm2-signing-key.hex"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_private() + "\n")
        path.chmod(0o600)
    return SigningKey(check_private(path.read_text()))


def key_id(point_hex):
    """sm2- + the first 16 hex digits of SHA-256 over the uncompressed point's bytes."""
    return "sm2-" + hashlib.sha256(bytes.fromhex(point_hex)).hexdigest()[:16]


class SigningKey:
    """An SM2 private key with its public point and key id."""

    def __init__(self, private_hex):
        self.private_hex = check_private(private_hex)
        self.public_hex = public_point(self.private_hex)
        self.key_id = key_id(self.public_hex)

    def sign(self, payload):
        """Base64 of the DER SEQUENCE {r, s} over `payload` (SM3 with Z of USER_ID and this key)."""
        crypt = _crypt(self.private_hex, self.public_hex)
        while True:
            nonce = f"{secrets.randbelow(N - 1) + 1:064x}"
            raw = crypt.sign_with_sm3(payload, nonce)  # None in the rare case r = 0 or r + k = n: draw again
            if raw:
                r, s = int(raw[:64], 16), int(raw[64:], 16)
                return base64.b64encode(encode_dss_signature(r, s)).decode("ascii")


def verify(point_hex, payload, signature_b64):
    """True when the base64 DER signature is valid for `payload` under the public point."""
    try:
        point = check_point(point_hex)
        r, s = decode_dss_signature(base64.b64decode(signature_b64, validate=True))
    except (SM2KeyError, ValueError):
        return False
    if not (1 <= r < N and 1 <= s < N):
        return False
    return bool(_crypt("0" * 64, point).verify_with_sm3(f"{r:064x}{s:064x}", payload))
