"""Canonical report data, its SHA-256 digest and an Ed25519 signature, with a key id so keys can rotate."""

import base64
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"


class SigningKeyError(RuntimeError):
    """SIGNING_KEY is missing or unreadable."""


def canonical_json(data):
    """Sorted keys, UTF-8, no insignificant whitespace: the exact bytes that are digested and signed."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(payload):
    """Hex SHA-256 of canonical bytes."""
    return hashlib.sha256(payload).hexdigest()


def key_id(public_key):
    """A short stable id: the first 16 hex digits of SHA-256 over the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key):
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key(setting, instance_path, dev_mode):
    """SIGNING_KEY as PEM text or a path; in development mode only, generate one under instance/."""
    if setting:
        text = setting if "BEGIN" in setting else Path(setting).read_text()
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except ValueError as exc:
            raise SigningKeyError(f"SIGNING_KEY is not a PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("SIGNING_KEY must be an Ed25519 key")
        return key
    if not dev_mode:
        raise SigningKeyError("SIGNING_KEY is required outside development mode")
    path = Path(instance_path) / "signing-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def sign(private_key, payload):
    """Base64 Ed25519 signature over canonical bytes."""
    return base64.b64encode(private_key.sign(payload)).decode("ascii")


def verify(public_key, payload, signature_b64):
    """True when the signature is valid for these exact bytes."""
    try:
        public_key.verify(base64.b64decode(signature_b64), payload)
        return True
    except (InvalidSignature, ValueError):
        return False


def load_public_key(pem):
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("not an Ed25519 public key")
    return key
