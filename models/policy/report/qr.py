"""QR codes as PNG bytes: the 合规一码通 code a verifier scans."""

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def qr_png(url, box_size=8, border=4):
    """A PNG of a QR code for `url` (error correction M, quiet zone of `border` modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()
