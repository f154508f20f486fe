"""The X.509 material of the PDF signature: the signer's certificate and key, and the CA chain they hang from.

Production: PDF_SIGNING_CERT, PDF_SIGNING_KEY and PDF_SIGNING_CHAIN name PEM files from a licensed 电子认证服务机构
(docs/CONTRACT.md §1). Development only: a local CA and a signer certificate are generated under instance/, plainly
named as test material. The signer certificate carries non-repudiation, which pyHanko requires (docs/PDF.md B.5).
"""

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEV_FILES = ("pdf-signer.pem", "pdf-signer-key.pem", "pdf-ca.pem")
DEV_CA_NAME = "合规一码通 开发测试根证书（仅供测试）"
DEV_SIGNER_NAME = "合规一码通报告签章（测试证书）"


class PdfSigningMaterialError(RuntimeError):
    """A PDF signing setting is missing, or its files cannot be read."""


@dataclass(frozen=True)
class Material:
    """Paths of the signer certificate, its key, and the CA chain (PEM)."""

    cert: str
    key: str
    chain: str
    development: bool


def material(config):
    """The configured files (all three, or none in development mode: then the generated ones)."""
    paths = [config.get(k) for k in ("PDF_SIGNING_CERT", "PDF_SIGNING_KEY", "PDF_SIGNING_CHAIN")]
    if all(paths):
        for path in paths:
            if not Path(path).is_file():
                raise PdfSigningMaterialError(f"PDF signing file not found: {path}")
        return Material(*paths, development=False)
    if any(paths) or not config["DEV_MODE"]:
        raise PdfSigningMaterialError("PDF_SIGNING_CERT, PDF_SIGNING_KEY and PDF_SIGNING_CHAIN are required together")
    folder = Path(config["INSTANCE_PATH"])
    if not all((folder / name).exists() for name in DEV_FILES):
        generate_development(folder, config["REPORT_ISSUER"])
    return Material(*(str(folder / name) for name in DEV_FILES), development=True)


def _short(text, limit=64):
    """`text` cut to at most `limit` UTF-8 bytes (X.509 caps a CN at 64)."""
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def _name(common, organisation):
    """C=CN, O=`organisation`, CN=`common` (cut to the CN limit)."""
    common = _short(common)
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _key_usage(**bits):
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: bits.get(n, False) for n in names})


def generate_development(folder, issuer, now=None):
    """A development CA and a signer certificate for `issuer` (ECDSA P-256), written under `folder`."""
    now = now or dt.datetime.now(dt.UTC)
    ca_key, signer_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(DEV_CA_NAME, "合规一码通（开发环境）")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    signer = (x509.CertificateBuilder().subject_name(_name(DEV_SIGNER_NAME, issuer)).issuer_name(ca_name)
              .public_key(signer_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=730))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    contents = {"pdf-ca-key.pem": _key_pem(ca_key), "pdf-signer-key.pem": _key_pem(signer_key),
                "pdf-signer.pem": _pem(signer), "pdf-ca.pem": _pem(ca)}
    for name, data in contents.items():  # each file whole or not at all (a second worker may race this one)
        tmp = folder / f".{name}.{os.getpid()}"
        tmp.write_bytes(data)
        tmp.chmod(0o600 if "key" in name else 0o644)
        tmp.replace(folder / name)


def chain_certificates(chain_path):
    """The CA certificates of the chain file, in file order."""
    try:
        return x509.load_pem_x509_certificates(Path(chain_path).read_bytes())
    except (OSError, ValueError) as exc:
        raise PdfSigningMaterialError(f"PDF_SIGNING_CHAIN unreadable: {exc}") from exc


def signer_certificate(cert_path):
    """The signer's certificate."""
    try:
        return x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    except (OSError, ValueError) as exc:
        raise PdfSigningMaterialError(f"PDF_SIGNING_CERT unreadable: {exc}") from exc


def published_ca(config):
    """What /keys publishes of the PDF signature: the CA chain as PEM, fingerprints, and the signer's subject."""
    files = material(config)
    cas = chain_certificates(files.chain)
    signer = signer_certificate(files.cert)
    return {
        "ca_certificates_pem": b"".join(_pem(c) for c in cas).decode("ascii"),
        "ca_fingerprints_sha256": [hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()
                                   for c in cas],
        "signer_subject": signer.subject.rfc4514_string(),
        "signer_serial": format(signer.serial_number, "x"),
        "development": files.development,
    }


def common_name(cert):
    """The certificate's CN, or its whole subject when it has none."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else cert.subject.rfc4514_string()
