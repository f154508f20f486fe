import io
import subprocess

import pdfkit
import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from models.policy.report import pdf, rules, snapshot, summary
from models.policy.report.qr import qr_png

URL = "http://hegui.test/v/Qm9va3MtYXJlLWdvb2QtZm9yLXlvdS0xMjM0NTY"
PROOF = {"digest": "5f" * 32, "algorithm": "Ed25519", "key_id": "ed25519-0123456789abcdef",
         "sm2_key_id": "sm2-0123456789abcdef"}
NOTICE = summary.Notice(contact="黑河市信用信息中心 0456-8220000（工作日 8:30—17:00）", objection_days=5)


def _snapshot(world):
    header = {"number": "HH-20261127-000042", "issuer": "黑河市社会信用体系建设领导小组办公室（信用黑河）",
              "issued_at": "2026-11-27T09:30:00+08:00", "valid_until": "2026-12-27T09:30:00+08:00",
              "verify": {"url": URL, "lookup": "http://hegui.test/verify"}}
    return snapshot.freeze(world.request(), rules.get_rule_set(), header, today=world.today).data


def _text(pdf_bytes, tmp_path, first=None):
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf_bytes)
    args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(first), "-l", str(first)] if first else [])
    return subprocess.run([*args, str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8")


def test_every_value_is_escaped_in_the_html(report_world):
    report_world.enterprise.name = '<img src="http://evil.test/x"><script>alert(1)</script>北疆'
    report_world.enterprise.save()
    html = pdf.render_report_html(_snapshot(report_world), "ABCD2345XY", PROOF, qr_png(URL), NOTICE)
    assert "<script>alert(1)</script>" not in html and 'src="http://evil.test' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;北疆" in html
    assert 'src="data:image/png;base64,' in html and "http://" not in html.split("<body>")[0].replace(URL, "")


def test_pdf_has_the_stamp_on_every_page_and_a_clean_text_layer(report_world, tmp_path):
    for n in range(40):
        report_world.record("market", decision_no=f"黑市监罚〔2025〕{300 + n}号", days_ago=50 + n)
    png = qr_png(URL)
    data = _snapshot(report_world)
    html = pdf.render_report_html(data, "ABCD2345XY", PROOF, png, NOTICE)
    out = pdf.html_to_pdf(html, pdf.PageStamp(number="HH-20261127-000042", qr_png=png, issuer=data["issuer"]))
    pages = _text(out, tmp_path).split("\f")[:-1]
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert f"第 {n} 页 / 共 {len(pages)} 页" in page and "报告编号：HH-20261127-000042" in page
    text = "".join(pages)
    assert "统一社会信用代码" in text and report_world.enterprise.uscc in text
    assert "SHA-256 " + PROOF["digest"] in text and "查验码：ABCD2345XY" in text
    assert "黑市监罚〔2025〕339号" in text
    fonts = subprocess.run(["pdffonts", "-"], input=out, capture_output=True, check=True).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row.split("  ", 1)[1] for row in rows)  # every font embedded
    assert "Noto" not in fonts and "WenQuanYi" in fonts


def test_the_qr_code_on_the_printed_page_decodes_to_the_verify_url(report_world, tmp_path):
    png = qr_png(URL)
    data = _snapshot(report_world)
    out = pdf.html_to_pdf(pdf.render_report_html(data, "ABCD2345XY", PROOF, png, NOTICE),
                          pdf.PageStamp(number=data["number"], qr_png=png))
    (tmp_path / "p.pdf").write_bytes(out)
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(tmp_path / "p.pdf"),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png")))
    assert [s.data.decode() for s in decode(image)] == [URL]
    assert [s.data.decode() for s in decode(Image.open(io.BytesIO(png)))] == [URL]


def test_wkhtmltopdf_refuses_local_files(tmp_path):
    secret = tmp_path / "secret.html"
    secret.write_text("<p>SECRET-LOCAL-CONTENT</p>")
    html = f'<html><body><p>before</p><iframe src="file://{secret}"></iframe></body></html>'
    with pytest.raises(pdf.PdfRenderError) as caught:
        pdf.wkhtmltopdf(html)
    assert "ProtocolUnknownError" in str(caught.value)
    unsafe = pdfkit.from_string(html, False, options={"quiet": None, "enable-local-file-access": None})
    assert "SECRET-LOCAL-CONTENT" in _text(unsafe, tmp_path)  # what the flag prevents


def test_wkhtmltopdf_runs_no_script(tmp_path):
    html = ('<html><body><p id="js">no-script</p>'
            '<script>document.getElementById("js").innerHTML = "SCRIPT-RAN";</script></body></html>')
    text = _text(pdf.wkhtmltopdf(html), tmp_path)
    assert "no-script" in text and "SCRIPT-RAN" not in text
    assert "SCRIPT-RAN" in _text(pdfkit.from_string(html, False, options={"quiet": None}), tmp_path)
