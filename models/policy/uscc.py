"""统一社会信用代码 (USCC) validation to GB 32100-2015, with the embedded organisation code checked to GB 11714.

Layout of the 18 characters:
  1      registration authority (1 机构编制, 5 民政, 9 市场监管/工商, A 军队编制, N 农业农村, Y 其他 …)
  2      organisation type within that authority
  3–8    administrative division code (6 digits)
  9–17   organisation code: 8 body characters + the GB 11714 check character (10 → 'X', 11 → '0')
  18     the GB 32100 check character over the first 17
The USCC alphabet is 0-9 and A-Z without I, O, S, V, Z (31 characters).
"""

import unicodedata

from models.refusals import Refusal

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
# Registration authority → the organisation types it issues (GB 32100-2015 table 1 and later additions).
AUTHORITY_TYPES = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129",
    "7": "129", "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
}
FORBIDDEN = set("IOSVZ")
# Characters people paste around a code: spaces of every width, hyphens, dots.
STRIP = {ord(c): None for c in " \t\r\n\u3000-‐‑–—·."}


class InvalidUSCC(Refusal, ValueError):
    """The text is not a valid 统一社会信用代码; `message` says why, in Chinese."""


def normalise(raw):
    """Full-width to half-width, upper case, separators removed."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return text.translate(STRIP).upper()


def check_char(first17):
    """The GB 32100 18th character for 17 characters of the USCC alphabet."""
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_char(first8):
    """The GB 11714 9th character for an 8-character organisation code body."""
    total = sum(_org_value(ch) * w for ch, w in zip(first8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def _org_value(ch):
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def make_org_code(first8):
    """A full 9-character organisation code from its 8-character body."""
    body = normalise(first8)
    if len(body) != 8 or not all(c.isdigit() or "A" <= c <= "Z" for c in body):
        raise InvalidUSCC("组织机构代码本体应为8位数字或大写字母")
    return body + org_check_char(body)


def make_uscc(first17):
    """A full USCC from its first 17 characters (appends the check character)."""
    body = normalise(first17)
    if len(body) != 17:
        raise InvalidUSCC(f"应为17位，实为{len(body)}位")
    _check_alphabet(body)
    return body + check_char(body)


def _check_alphabet(code):
    for pos, ch in enumerate(code, start=1):
        if ch not in VALUES:
            hint = "（统一社会信用代码不使用字母I、O、S、V、Z）" if ch in FORBIDDEN else ""
            raise InvalidUSCC(f"第{pos}位字符“{ch}”不合法{hint}")


def validate(raw):
    """Return the normalised USCC, or raise InvalidUSCC with the specific reason."""
    code = normalise(raw)
    if not code:
        raise InvalidUSCC("统一社会信用代码为空")
    if len(code) != 18:
        raise InvalidUSCC(f"统一社会信用代码应为18位，实为{len(code)}位")
    _check_alphabet(code)
    if code[0] not in AUTHORITY_TYPES:
        raise InvalidUSCC(f"第1位登记管理部门代码“{code[0]}”不存在")
    if code[1] not in AUTHORITY_TYPES[code[0]]:
        raise InvalidUSCC(f"第2位机构类别代码“{code[1]}”与登记管理部门代码“{code[0]}”不符")
    if not code[2:8].isdigit():
        raise InvalidUSCC("第3至8位行政区划码应为6位数字")
    if org_check_char(code[8:16]) != code[16]:
        raise InvalidUSCC("第9至17位组织机构代码校验位错误")
    if check_char(code[:17]) != code[17]:
        raise InvalidUSCC("第18位校验码错误")
    return code


def is_valid(raw):
    """True when `raw` is a valid USCC."""
    try:
        validate(raw)
    except InvalidUSCC:
        return False
    return True
