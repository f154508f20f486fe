"""models.policy.uscc: GB 32100-2015 check character, GB 11714 organisation code, authorities, normalisation."""

import pytest

from models.policy.uscc import InvalidUSCC, check_char, is_valid, make_org_code, make_uscc, normalise, validate

# Published USCCs of real enterprises (national enterprise credit information publicity system).
REAL = [
    "91350100M000100Y43",  # the standard's own example
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_are_valid(code):
    assert validate(code) == code
    assert make_uscc(code[:17]) == code
    assert make_org_code(code[8:16]) == code[8:17]


def test_organisation_code_check_digit_ten_is_x():
    body = next(f"{n:08d}" for n in range(1000) if make_org_code(f"{n:08d}")[-1] == "X")
    assert make_org_code(body).endswith("X")
    assert validate(make_uscc("91231102" + make_org_code(body)))


def test_normalises_full_width_lower_case_and_spaces():
    raw = " ９１３５０１００ｍ０００１００ｙ４３ "
    assert normalise(raw) == "91350100M000100Y43"
    assert validate("9135-0100 m000 100y43") == "91350100M000100Y43"


@pytest.mark.parametrize("first17", [
    "N2231183" + make_org_code("MA123456"),  # 村股份经济合作社, registered by agriculture departments
    "Y1231100" + make_org_code("MA654321"),
    "A1231100" + make_org_code("12345678"),
    "12231100" + make_org_code("01234567"),  # 事业单位
    "52231181" + make_org_code("MJ000001"),  # 民办非企业单位
    "93231182" + make_org_code("MA1XYW12"),  # 农民专业合作社
])
def test_registration_authority_letters_are_legal(first17):
    code = make_uscc(first17)
    assert validate(code) == code


@pytest.mark.parametrize("raw, message", [
    ("", "统一社会信用代码为空"),
    ("91350100M000100Y4", "应为18位，实为17位"),
    ("91350100M000100Y431", "应为18位，实为19位"),
    ("91350100M000100O43", "第16位字符“O”不合法（统一社会信用代码不使用字母I、O、S、V、Z）"),
    ("91350100M000100Y4#", "第18位字符“#”不合法"),
    ("91350100M000100Y44", "第18位校验码错误"),
    ("91350100M000100Y53", "第9至17位组织机构代码校验位错误"),
    ("B1350100M000100Y43", "第1位登记管理部门代码“B”不存在"),
    ("94350100M000100Y43", "第2位机构类别代码“4”与登记管理部门代码“9”不符"),
    ("9135A100M000100Y43", "第3至8位行政区划码应为6位数字"),
])
def test_invalid_codes_say_why(raw, message):
    with pytest.raises(InvalidUSCC) as caught:
        validate(raw)
    assert message in caught.value.message
    assert not is_valid(raw)


def test_every_single_substitution_is_caught():
    code = REAL[0]
    for pos in range(17):
        for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if ch != code[pos]:
                assert check_char(code[:pos] + ch + code[pos + 1:17]) != code[17]


def test_make_uscc_rejects_bad_input():
    with pytest.raises(InvalidUSCC):
        make_uscc("9135")
    with pytest.raises(InvalidUSCC):
        make_uscc("91350100M000100I4")
