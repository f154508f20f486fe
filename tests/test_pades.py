"""The PAdES signature on the report PDF, validated by pyHanko against the published CA as the only trust root."""

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from devtools.tsa_double import start_tsa_double
from models.policy.report import pades, pdf, pki, rules, snapshot, summary
from models.policy.report.qr import qr_png

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
URL = "http://hegui.test/v/Qm9va3MtYXJlLWdvb2QtZm9yLXlvdS0xMjM0NTY"
PROOF = {"digest": "5f" * 32, "algorithm": "Ed25519", "key_id": "ed25519-0123456789abcdef",
         "sm2_key_id": "sm2-0123456789abcdef"}


def _unsigned(world, config, extra_records=2):
    """A stamped, unsigned report PDF of `world` (more records make more pages)."""
    for n in range(extra_records):
        world.record(("market", "ecology", "transport", "health")[n % 4], decision_no=f"黑罚〔2026〕{500 + n}号",
                     days_ago=20 + n, violation_type="未按规定履行安全生产主体责任，经责令限期改正逾期未改正",
                     content=f"罚款人民币{n + 1}万元，并责令立即改正违法行为")
    header = {"number": "HH-20261127-000042", "issuer": config["REPORT_ISSUER"],
              "issued_at": "2026-11-27T09:30:00+08:00", "valid_until": "2026-12-27T09:30:00+08:00",
              "verify": {"url": URL, "lookup": "http://hegui.test/verify"}}
    data = snapshot.freeze(world.request(), rules.get_rule_set(), header, today=world.today).data
    png = qr_png(URL)
    html = pdf.render_report_html(data, "ABCD2345XY", PROOF, png, summary.notice_for(config))
    return pdf.html_to_pdf(html, pdf.PageStamp(number=data["number"], qr_png=png, issuer=data["issuer"],
                                               title=data["title"], subject="测试"))


def _sign(body, config):
    return pades.sign_pdf(body, pdf.seal_box(body), pades.seal_for(config, "2026年11月27日 09:30"), config)


def _status(signed, roots, ts_roots=()):
    """pyHanko's verdict on the one signature, with `roots` as the only trust roots."""
    reader = PdfFileReader(io.BytesIO(signed))
    [embedded] = reader.embedded_signatures
    context = ValidationContext(trust_roots=[load_cert_from_pemder(p) for p in roots], allow_fetching=False)
    ts_context = ValidationContext(trust_roots=[load_cert_from_pemder(p) for p in ts_roots or roots],
                                   allow_fetching=False)
    return validate_pdf_signature(embedded, signer_validation_context=context, ts_validation_context=ts_context)


@pytest.fixture
def ca_file(app, tmp_path):
    """The CA certificate as /keys/ca.pem publishes it, saved to a file."""
    path = tmp_path / "ca.pem"
    path.write_text(pki.published_ca(app.config)["ca_certificates_pem"])
    return path


def test_signature_is_intact_covers_the_whole_file_and_chains_to_the_published_ca(app, report_world, ca_file):
    signed = _sign(_unsigned(report_world, app.config), app.config)
    status = _status(signed, [ca_file])
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES, not adbe.pkcs7.detached
    assert status.timestamp_validity is None  # B-B: no PDF_TSA_URL


def test_a_one_byte_change_or_another_root_fails(app, report_world, ca_file, tmp_path):
    signed = _sign(_unsigned(report_world, app.config), app.config)
    at = signed.index(b"HH-20261127-000042") if b"HH-20261127-000042" in signed else len(signed) // 3
    changed = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
    assert not _status(changed, [ca_file]).intact
    other = tmp_path / "other"
    pki.generate_development(other, app.config["REPORT_ISSUER"])
    status = _status(signed, [other / "pdf-ca.pem"])
    assert status.intact and not status.trusted and not status.bottom_line


def test_visible_signature_sits_in_the_reserved_box_on_the_last_page(app, report_world, tmp_path):
    body = _unsigned(report_world, app.config, extra_records=0)  # several pages with today's record fields
    box = pdf.seal_box(body)
    signed = _sign(body, app.config)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-signed.pdf").write_bytes(signed)  # for the page images a person looks at
    reader = PdfReader(io.BytesIO(signed))
    pages = len(reader.pages)
    assert pages >= 2
    widgets = [a.get_object() for page in reader.pages for a in page.get("/Annots") or []
               if a.get_object().get("/FT") == "/Sig"]
    assert len(widgets) == 1 and widgets[0]["/P"].get_object() == reader.pages[-1].get_object()
    assert tuple(round(float(v), 1) for v in widgets[0]["/Rect"]) == tuple(round(v, 1) for v in box)
    assert reader.metadata.title == "市场主体专用信用报告（替代有无违法记录证明）"
    assert reader.metadata.author == app.config["REPORT_ISSUER"] and reader.metadata.subject == "测试"
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    last = _page_texts(path)[-1]
    assert "出具单位：" + app.config["REPORT_ISSUER"] in last and f"第 {pages} 页 / 共 {pages} 页" in last
    assert "本报告正文完" in last


def _page_texts(path):
    """The text of each page (pdftotext, layout kept)."""
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True).stdout.decode()
    return text.split("\f")[:-1]


@pytest.mark.parametrize("extra", [3, 9, 14])
def test_no_record_is_split_across_a_page_break_and_the_seal_stays_on_the_last_page(app, report_world, tmp_path,
                                                                                    extra):
    """Each 违法记录 prints whole on one page (its 文号 and its last row, 数据来源单位, on the same page), for
    lengths that put page breaks in different places; the seal box is always found on the last page."""
    body = _unsigned(report_world, app.config, extra_records=extra)
    pdf.seal_box(body)  # PdfRenderError if the sign-off was pushed off the last page
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    numbers = [f"黑罚〔2026〕{500 + n}号" for n in range(extra)]
    for number in numbers:
        [page] = [text for text in _page_texts(path) if number in text]
        tail = page[page.index(number):]
        following = tail.find("处罚机关", tail.find("处罚机关") + 1)  # the next entry's first row, if on this page
        entry = tail if following < 0 else tail[:following]
        assert "处罚机关" in entry and "数据来源单位" in entry, f"{number} does not end on its page"


@pytest.mark.parametrize("mode", ["placeholder", "production-text", "seal-image"])
def test_appearance_is_the_office_seal_a_marked_placeholder_or_text_only(app, tmp_path, mode):
    config = dict(app.config)
    if mode == "production-text":
        config["DEV_MODE"] = False
        pki.generate_development(tmp_path / "prod", config["REPORT_ISSUER"])
        config.update(PDF_SIGNING_CERT=str(tmp_path / "prod/pdf-signer.pem"),
                      PDF_SIGNING_KEY=str(tmp_path / "prod/pdf-signer-key.pem"),
                      PDF_SIGNING_CHAIN=str(tmp_path / "prod/pdf-ca.pem"))
    if mode == "seal-image":
        image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
        ImageDraw.Draw(image).ellipse((10, 10, 390, 390), outline=(200, 0, 0, 255), width=16)
        image.save(tmp_path / "seal.png")
        config["PDF_SEAL_IMAGE"] = str(tmp_path / "seal.png")
    seal = pades.seal_for(config, "2026年11月27日 09:30")
    cert = pki.signer_certificate(pki.material(config).cert)
    look = tmp_path / "look.pdf"
    look.write_bytes(pades.appearance_pdf(seal, cert, 300, 100))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(look), "-"], capture_output=True,
                          check=True).stdout.decode()
    images = subprocess.run(["pdfimages", "-list", str(look)], capture_output=True, check=True).stdout.decode()
    assert "电子签章：" + config["REPORT_ISSUER"] in text.replace("\n", "") and "2026年11月27日 09:30" in text
    assert ("样章" in text) == (mode == "placeholder")
    assert (len(images.splitlines()) > 2) == (mode == "seal-image")


def test_b_t_with_a_timestamp_server(app, report_world, ca_file):
    tsa = start_tsa_double()
    try:
        config = {**app.config, "PDF_TSA_URL": tsa.base_url + "/"}
        signed = _sign(_unsigned(report_world, config), config)
        root = ca_file.parent / "tsa-root.pem"
        root.write_bytes(tsa.root_pem)
        status = _status(signed, [ca_file], ts_roots=[root])
        assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        assert status.timestamp_validity is not None and status.timestamp_validity.trusted
        assert tsa.app.requests >= 1
    finally:
        tsa.stop()


def test_unreachable_timestamp_server_is_a_typed_error(app, report_world):
    config = {**app.config, "PDF_TSA_URL": "http://127.0.0.1:9/"}
    body = _unsigned(report_world, config)
    with pytest.raises(pades.PdfSigningError, match="PAdES signing failed"):
        _sign(body, config)


def test_production_refuses_to_sign_without_its_certificate(app):
    config = {**app.config, "DEV_MODE": False, "PDF_SIGNING_CERT": None, "PDF_SIGNING_KEY": None,
              "PDF_SIGNING_CHAIN": None}
    with pytest.raises(pki.PdfSigningMaterialError, match="required"):
        pki.material(config)
