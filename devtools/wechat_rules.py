"""WeChat's rules as the WeChat double enforces them: category-template field types (docs/WECHAT.md §2.4) and the
custom menu's limits (§2.6).

Written apart from the project's own template mapping (jobs/compose.py) on purpose: the double states WeChat's rules,
the service has to obey them.
"""

import re

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
DAY = r"\d{4}(-|/|年)\d{1,2}(-|/|月)\d{1,2}日?"
CLOCK = r"\d{1,2}:\d{2}(:\d{2})?"
TIME = re.compile(rf"({DAY} )?{CLOCK}(~({DAY} )?{CLOCK})?")
DATE = re.compile(rf"{DAY}( {CLOCK})?(~{DAY}( {CLOCK})?)?")
FIELD_TYPES = {
    "thing": lambda v: len(v) <= 20,
    "character_string": lambda v: len(v) <= 32 and re.fullmatch(r"[\x21-\x7e]+", v),
    "number": lambda v: len(v) <= 32 and re.fullmatch(r"\d+(\.\d+)?", v),
    "letter": lambda v: len(v) <= 32 and re.fullmatch(r"[A-Za-z]+", v),
    "symbol": lambda v: len(v) <= 5 and re.fullmatch(rf"[^\sA-Za-z0-9{CJK}]+", v),
    "time": lambda v: TIME.fullmatch(v),
    "date": lambda v: DATE.fullmatch(v),
    "amount": lambda v: re.fullmatch(r"[¥￥$]?\d{1,10}(\.\d{1,2})?元?", v),
    "phone_number": lambda v: re.fullmatch(r"[0-9+\-*() ]{1,17}", v),
    "car_number": lambda v: len(v) <= 8,
    "name": lambda v: (len(v) <= 10) if re.search(f"[{CJK}]", v) else (len(v) <= 20),
    "phrase": lambda v: re.fullmatch(f"[{CJK}]{{1,5}}", v),
    "const": lambda v: len(v) <= 20,
}
FILTERED = ("first", "remark")  # dropped from every template message since May 2023: never shown


def template_problem(data):
    """(delivered data, None) for a valid template message's `data`, or (None, the 47003 message)."""
    if not isinstance(data, dict) or not data:
        return None, "argument invalid! data is empty"
    delivered = {}
    for key, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        if key in FILTERED:
            continue
        if not isinstance(value, str):
            return None, f"argument invalid! data.{key}.value invalid"
        kind = key.rstrip("0123456789")
        check = FIELD_TYPES.get(kind)
        # [project] the double serves category templates only: keys are <type><n>, no keyword1 or other old keys.
        if check is None or "\n" in value or "\r" in value or (value and not check(value)) or (
                not value and kind != "const"):
            return None, f"argument invalid! data.{key}.value invalid"
        delivered[key] = {"value": value}
    return delivered, None


def menu_error(body):
    """WeChat's menu limits: 1–3 buttons, up to 5 sub-buttons, key ≤ 128 bytes, names present."""
    buttons = body.get("button") or []
    if not 1 <= len(buttons) <= 3:
        return 40016
    for button in buttons:
        subs = button.get("sub_button")
        if subs is not None and not 1 <= len(subs) <= 5:
            return 40023
        for item in subs or [button]:
            if not item.get("name"):
                return 40018
            if item.get("type") == "click" and not 0 < len(item.get("key", "").encode()) <= 128:
                return 40019
            if item.get("type") == "view" and not item.get("url"):
                return 40055
            if item.get("type") not in ("click", "view", "scancode_push", "scancode_waitmsg"):
                return 40017
    return None
