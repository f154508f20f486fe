"""A double of an RFC 3161 timestamp server for PAdES B-T tests: `POST /` with a TimeStampReq, answered by pyHanko's
own test timestamper (`DummyTimeStamper`) under a throw-away TSA root. Counts the requests it answered.

    server = start_tsa_double()      # server.base_url → PDF_TSA_URL; server.root_pem → the TSA's trust root
"""

import datetime as dt
import threading

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask, Response, request
from pyhanko.sign.timestamps import DummyTimeStamper

from devtools.wechat_double import ServerThread


def _name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_tsa():
    """(root certificate, TSA certificate, TSA key) as cryptography objects; the TSA's EKU is timeStamping."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's DummyTimeStamper: RSA only
    root = (x509.CertificateBuilder().subject_name(_name("TSA double root")).issuer_name(_name("TSA double root"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(root_key, hashes.SHA256()))
    tsa = (x509.CertificateBuilder().subject_name(_name("TSA double")).issuer_name(root.subject)
           .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .sign(root_key, hashes.SHA256()))
    return root, tsa, tsa_key


def create_tsa_app():
    """The Flask app: POST / answers a TimeStampReq; `app.requests` counts them."""
    root, cert, key = make_tsa()
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                                                  serialization.NoEncryption())),
        certs_to_embed=[asn1_x509.Certificate.load(root.public_bytes(der))],
    )
    app = Flask("tsa_double")
    app.requests = 0
    app.lock = threading.Lock()
    app.root_pem = root.public_bytes(serialization.Encoding.PEM)

    @app.post("/")
    def stamp():
        if request.mimetype != "application/timestamp-query":
            return Response("expected application/timestamp-query", status=415)
        reply = stamper.request_tsa_response(tsp.TimeStampReq.load(request.get_data()))
        with app.lock:
            app.requests += 1
        return Response(reply.dump(), mimetype="application/timestamp-reply")

    return app


def start_tsa_double(port=0):
    """Start the TSA double on 127.0.0.1:`port` in a thread; `.root_pem` and `.app.requests` on the result."""
    server = ServerThread(create_tsa_app(), port=port).start()
    server.root_pem = server.app.root_pem
    return server
