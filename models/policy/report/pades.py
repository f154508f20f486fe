"""The PAdES signature on the finished PDF (pyHanko): B-B, or B-T when PDF_TSA_URL names a timestamp server.

Signing is the last step (docs/PDF.md B.1): the page stamp and the metadata are in place, and pyHanko appends the
signature as an incremental update over the whole file. The visible signature sits in the box the report's HTML
reserved at the issuer line of the last page (`pdf.seal_box`). Its appearance is drawn with reportlab in the report's
own font and imported by pyHanko as vector content (docs/PDF.md B.7 (a)): the issuer's seal image from
PDF_SEAL_IMAGE; without one, a placeholder marked 「样章（仅供测试）」 in development and text only in production —
never a seal the office did not issue.
"""

import io
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.stamp import StaticStampStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from models.policy.report import pki
from models.policy.report.pdf import FONT_NAME, register_font

FIELD_NAME = "IssuerSeal"  # no period in a field name (docs/PDF.md B.6)
PLACEHOLDER_TEXT = "样章（仅供测试）"
TSA_TIMEOUT = 10  # seconds per timestamp request (pyHanko may ask twice per signature, docs/PDF.md B.4)
RED = (0.75, 0.05, 0.05)


class PdfSigningError(RuntimeError):
    """The PDF could not be signed (key material, timestamp server, or pyHanko)."""


@dataclass(frozen=True)
class Seal:
    """What the visible signature shows: the issuer, the signing time as printed, and the seal (if any)."""

    issuer: str
    signed_at: str  # e.g. 2026年11月27日 09:30
    image: str | None = None  # PDF_SEAL_IMAGE
    placeholder: bool = False  # development without an image


def seal_for(config, signed_at):
    """The appearance the configuration allows: the office's image, the development placeholder, or text only."""
    image = config.get("PDF_SEAL_IMAGE")
    return Seal(issuer=config["REPORT_ISSUER"], signed_at=signed_at, image=image,
                placeholder=not image and config["DEV_MODE"])


def _fit_lines(pdf, lines, x, top, width, size):
    """Draw `lines` from `top` down, wrapping each at `width` points; returns the y below the last line."""
    y = top
    for line in lines:
        chunk = ""
        for char in line:
            if pdf.stringWidth(chunk + char, FONT_NAME, size) > width:
                pdf.drawString(x, y, chunk)
                y, chunk = y - size * 1.35, "　" + char
            else:
                chunk += char
        pdf.drawString(x, y, chunk)
        y -= size * 1.35
    return y


def _draw_placeholder(pdf, cx, cy, radius):
    """A drawn test seal: a red ring, a star, 「样章」 and 「（仅供测试）」 — visibly not the office's seal."""
    pdf.setStrokeColorRGB(*RED)
    pdf.setFillColorRGB(*RED)
    pdf.setLineWidth(2)
    pdf.circle(cx, cy, radius, stroke=1, fill=0)
    star = pdf.beginPath()
    for i in range(10):
        r = radius * (0.32 if i % 2 == 0 else 0.13)
        angle = math.pi / 2 + i * math.pi / 5
        point = (cx + r * math.cos(angle), cy + radius * 0.22 + r * math.sin(angle))
        star.moveTo(*point) if i == 0 else star.lineTo(*point)
    star.close()
    pdf.drawPath(star, stroke=0, fill=1)
    pdf.setFont(FONT_NAME, radius * 0.36)
    pdf.drawCentredString(cx, cy - radius * 0.42, "样章")
    pdf.setFont(FONT_NAME, radius * 0.2)
    pdf.drawCentredString(cx, cy - radius * 0.7, "（仅供测试）")


def appearance_pdf(seal, cert, width, height):
    """A one-page PDF of `width` × `height` points: the seal (image or placeholder) and the signature's text."""
    register_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width, height), initialFontName=FONT_NAME)
    text_x = 6
    if seal.image or seal.placeholder:
        side = height - 4
        if seal.image:
            pdf.drawImage(ImageReader(seal.image), 2, 2, side, side, mask="auto", preserveAspectRatio=True)
        else:
            _draw_placeholder(pdf, 2 + side / 2, 2 + side / 2, side / 2 - 2)
        text_x = side + 10
    pdf.setFillColorRGB(0.1, 0.1, 0.1)
    size = min(8.0, height / 8)
    pdf.setFont(FONT_NAME, size)
    lines = [f"电子签章：{seal.issuer}", f"签署时间：{seal.signed_at}",
             f"签名证书：{pki.common_name(cert)}", f"证书序列号：{format(cert.serial_number, 'x')[:20]}"]
    if seal.placeholder:
        lines.append(f"本印章为{PLACEHOLDER_TEXT}")
    _fit_lines(pdf, lines, text_x, height - size - 4, width - text_x - 4, size)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def load_signer(files):
    """pyHanko's signer over the configured key, certificate and chain."""
    signer = signers.SimpleSigner.load(files.key, files.cert, ca_chain_files=(files.chain,))
    if signer is None:  # pyHanko logs the reason and returns None
        raise PdfSigningError("the PDF signing key or certificate could not be loaded")
    return signer


def sign_pdf(pdf_bytes, box, seal, config):
    """The PAdES-signed PDF: `pdf_bytes` plus one incremental update holding the signature in `box` (last page)."""
    files = pki.material(config)
    cert = pki.signer_certificate(files.cert)
    x1, y1, x2, y2 = box
    tsa = config.get("PDF_TSA_URL")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason="专用信用报告出具", location=seal.issuer, name=pki.common_name(cert))
    with tempfile.TemporaryDirectory() as tmp:
        look = Path(tmp) / "appearance.pdf"
        look.write_bytes(appearance_pdf(seal, cert, x2 - x1, y2 - y1))
        pdf_signer = signers.PdfSigner(
            meta, signer=load_signer(files),
            timestamper=RequestsHTTPTimeStamper(tsa, timeout=TSA_TIMEOUT) if tsa else None,
            stamp_style=StaticStampStyle.from_pdf_file(str(look), border_width=0, background_opacity=1.0),
            new_field_spec=fields.SigFieldSpec(FIELD_NAME, on_page=-1, box=(x1, y1, x2, y2)),
        )
        try:
            out = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False))
        except (SigningError, TimestampRequestError, PdfError, requests.RequestException, OSError, ValueError) as exc:
            raise PdfSigningError(f"PAdES signing failed: {type(exc).__name__}: {exc}") from exc
    return out.getvalue()
