"""The report as HTML (Jinja) and as PDF (wkhtmltopdf, then every page stamped with reportlab + pypdf).

`html_to_pdf` is the one engine entry point: replace its body to change engines. Debian's wkhtmltopdf ignores
header/footer options (unpatched Qt), so the report number, 第 x 页 / 共 y 页 and the QR code are drawn on each page
afterwards. Fonts are WenQuanYi Zen Hei: Noto CJK breaks the extracted text layer (see docs/PDF.md).
"""

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pdfkit
from pypdf import PdfReader, PdfWriter
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from models.policy.report import present, summary

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"  # the repository's templates/
FONT_NAME = "WQYZenHei"
SEAL_ANCHOR = "#seal"  # the fragment of the seal box's link in templates/report/report.html
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
WKHTMLTOPDF_OPTIONS = {
    "page-size": "A4",
    "margin-top": "16mm",
    "margin-bottom": "36mm",
    "margin-left": "16mm",
    "margin-right": "16mm",
    "encoding": "UTF-8",
    "disable-local-file-access": None,
    "disable-javascript": None,
    "quiet": None,
}


class PdfRenderError(RuntimeError):
    """wkhtmltopdf or the page stamping failed."""


@dataclass(frozen=True)
class PageStamp:
    """What every page carries: the report number, the page counter and the QR code."""

    number: str
    qr_png: bytes
    issuer: str = ""
    title: str = ""
    subject: str = ""


def template_environment():
    """A plain Jinja environment over templates/ with autoescape on (jobs run outside Flask), the shared filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(present.FILTERS)
    return env


def render_report_html(snapshot, check_code, proof, qr_png, notice):
    """The report body as HTML from templates/report/report.html; every value is escaped, the QR a data URI.

    `proof` holds the digest, the key ids and the CA certificate's URL; `notice` the contact and objection deadline."""
    base = snapshot["verify"]["lookup"].rsplit("/verify", 1)[0]
    return template_environment().get_template("report/report.html").render(
        r=snapshot,
        v=summary.view(snapshot, notice),
        check_code=check_code,
        proof={"ca_url": f"{base}/keys/ca.pem", "sm2_key_id": "", **proof},
        keys_url=f"{base}/keys",
        qr_src=data_uri(qr_png),
    )


def html_to_pdf(html, stamp):
    """The PDF engine: our HTML to A4 PDF bytes, every page stamped. The only function that knows the engine."""
    return stamp_pages(wkhtmltopdf(html), stamp)


def wkhtmltopdf(html):
    """Run wkhtmltopdf with the safety flags on `html` (from stdin); return the PDF bytes."""
    try:
        return pdfkit.from_string(html, False, options=WKHTMLTOPDF_OPTIONS)
    except OSError as exc:
        raise PdfRenderError(f"wkhtmltopdf failed: {exc}") from exc


def register_font():
    """Register WenQuanYi Zen Hei with reportlab once per process (subfont 0 of the .ttc)."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, FONT_PATH, subfontIndex=0))


def _draw_stamp(pdf, width, height, stamp, page_no, total):
    """One page's overlay: a rule, the report number, 第 x 页 / 共 y 页 and the QR code."""
    side = 22 * mm
    margin = 16 * mm
    base = 10 * mm
    pdf.setStrokeColorRGB(0.64, 0, 0)
    pdf.setLineWidth(0.8)
    pdf.line(margin, base + side + 3 * mm, width - margin, base + side + 3 * mm)
    pdf.setFont(FONT_NAME, 9)
    pdf.setFillColorRGB(0.1, 0.1, 0.1)
    pdf.drawString(margin, base + 14 * mm, f"报告编号：{stamp.number}")
    if stamp.issuer:
        pdf.drawString(margin, base + 8 * mm, f"出具单位：{stamp.issuer}")
    counter = f"第 {page_no} 页 / 共 {total} 页"
    text = pdf.beginText(width / 2 - pdfmetrics.stringWidth(counter, FONT_NAME, 9) / 2 - 4, base + 2 * mm)
    text.setFont(FONT_NAME, 9)
    text.setWordSpace(1.5)  # the font's narrow space is lost by text extraction; widen it so "第 1 页" survives
    text.textOut(counter)
    pdf.drawText(text)
    pdf.drawImage(ImageReader(io.BytesIO(stamp.qr_png)), width - margin - side, base, side, side)
    pdf.setFont(FONT_NAME, 7)
    pdf.drawCentredString(width - margin - side / 2, base - 3 * mm, "扫码查验")


def stamp_pages(body, stamp):
    """Overlay every page of `body` with its stamp; return the merged PDF bytes."""
    register_font()
    writer = PdfWriter(clone_from=io.BytesIO(body))
    total = len(writer.pages)
    overlay_bytes = io.BytesIO()
    pdf = canvas.Canvas(overlay_bytes, initialFontName=FONT_NAME)
    for index, page in enumerate(writer.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        pdf.setPageSize((width, height))
        _draw_stamp(pdf, width, height, stamp, index, total)
        pdf.showPage()
    pdf.save()
    overlay = PdfReader(io.BytesIO(overlay_bytes.getvalue()))
    for page, layer in zip(writer.pages, overlay.pages, strict=True):
        page.merge_page(layer)
    writer.add_metadata({"/Title": stamp.title or f"专用信用报告 {stamp.number}", "/Author": stamp.issuer,
                         "/Subject": stamp.subject, "/Creator": "合规一码通", "/Producer": "合规一码通"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def seal_box(pdf_bytes):
    """(x1, y1, x2, y2) in points of the box the HTML reserved for the seal: the `a.seal-box` link on the last page.

    wkhtmltopdf turns the empty link into a link annotation whose /Rect is where the block landed, so the signature
    goes exactly there whatever the page count (docs/PDF.md B.6)."""
    page = PdfReader(io.BytesIO(pdf_bytes)).pages[-1]
    boxes = []
    for annot in page.get("/Annots") or []:
        annot = annot.get_object()
        uri = (annot.get("/A") or {}).get("/URI", "")
        if annot.get("/Subtype") == "/Link" and str(uri).endswith(SEAL_ANCHOR):
            x1, x2 = sorted(float(v) for v in annot["/Rect"][0::2])
            y1, y2 = sorted(float(v) for v in annot["/Rect"][1::2])
            boxes.append((x1, y1, x2, y2))
    if not boxes:
        raise PdfRenderError("the seal box (a.seal-box) is not on the last page")
    return boxes[-1]


def data_uri(png):
    """A PNG as a data: URI (wkhtmltopdf may not fetch anything)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
