"""Outside values in what we render, and the typed fields of WeChat's category templates.

`neutral` is the one function every outside value (an enterprise name, a 文号, a 处罚机关, an owner's reason, a
verifier's unit) goes through before it is put into WeCom markdown, hand-written HTML, a chat notice or a template
message: one line, no control characters, every character that markdown or HTML would read as markup replaced by its
full-width form (WeCom's markdown has no escapes), URL schemes broken so nothing is linked. An enterprise name, a 文号
or a 处罚机关 once planted a fake 「点此办理」 link in the staff group (docs/WECHAT.md §3).

`field_value` makes a value fit its template field's type (docs/WECHAT.md §2.4): a value that cannot fit is a bug in
our mapping and raises TemplateFieldError, as WeChat would answer 47003.
"""

import re
import unicodedata

MARKUP = str.maketrans({
    "[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞", "*": "＊", "_": "＿", "`": "｀", "#": "＃",
    "!": "！", "|": "｜", "~": "～", "\\": "＼", "&": "＆", '"': "＂", "'": "＇", "{": "｛", "}": "｝", "=": "＝",
})
URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(//)")
WWW = re.compile(r"(?i)\bwww\.")
ELLIPSIS = "…"

# Template field types and their rules as WeChat states them for category templates (docs/WECHAT.md §2.4).
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
FIELD_RULES = {
    "thing": (20, None),
    "character_string": (32, re.compile(r"[\x21-\x7e]+")),
    "number": (32, re.compile(r"[0-9]+(\.[0-9]+)?")),
    "letter": (32, re.compile(r"[A-Za-z]+")),
    "symbol": (5, re.compile(r"[^\sA-Za-z0-9" + CJK + r"]+")),
    "time": (40, re.compile(r"(\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}(~(\d{4}-\d{2}-\d{2} )?\d{2}:\d{2})?")),
    "date": (40, re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?(~\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?)?")),
    "amount": (14, re.compile(r"[¥￥$]?\d{1,12}(\.\d{1,2})?元?")),
    "phone_number": (17, re.compile(r"[0-9+*()\-\s]+")),
    "car_number": (8, None),
    "name": (20, None),
    "phrase": (5, re.compile(f"[{CJK}]+")),
    "const": (20, None),
}
# Free text, where outside values go: neutralised and shortened with an ellipsis. The other types hold our own facts
# (numbers, times, masked phones) and must match their pattern as they are.
FREE_TEXT = {"thing", "name", "car_number", "const"}


class TemplateFieldError(ValueError):
    """A value our mapping put into a template field does not fit the field's type (WeChat: 47003)."""


def neutral(value, limit=None):
    """`value` as plain text safe in markdown, HTML and template fields; at most `limit` characters (… at the end)."""
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in str(value or ""))
    text = " ".join(text.split()).translate(MARKUP)
    text = WWW.sub("www．", URL_SCHEME.sub(r"\1：\2", text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    return text


def field_type(key):
    """The type of a template field from its key: `thing1` → thing, `character_string12` → character_string."""
    return key.rstrip("0123456789")


def field_value(kind, value):
    """`value` made to fit a field of type `kind`, or TemplateFieldError."""
    if kind not in FIELD_RULES:
        raise TemplateFieldError(f"unknown template field type {kind!r}")
    longest, pattern = FIELD_RULES[kind]
    text = neutral(value, longest) if kind in FREE_TEXT else " ".join(str(value or "").split())
    if kind == "name" and re.search(f"[{CJK}]", text) and len(text) > 10:
        text = text[:9] + ELLIPSIS
    if not text and kind != "const":
        raise TemplateFieldError(f"empty {kind} value")
    if len(text) > longest or (pattern is not None and text and not pattern.fullmatch(text)):
        raise TemplateFieldError(f"{text!r} is not a valid {kind} value")
    return text
