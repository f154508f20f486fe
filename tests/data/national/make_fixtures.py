"""Write the department files of issue 10 (tests/data/national/) deterministically from the data below.

    .venv/bin/python tests/data/national/make_fixtures.py            write every file and MANIFEST.md's row tables
    .venv/bin/python tests/data/national/make_fixtures.py --check    exit 1 when a committed file differs

The rows are synthetic 黑河 data: USCCs built with models.uscc (GB 32100 and GB 11714 check characters),
居民身份证号码 with python-stdnum (GB 11643 check digit). Each row carries its expected outcome, which
MANIFEST.md prints between the `rows` markers (row numbers as a spreadsheet shows them). Production code never
reads anything here.
"""

import csv
import datetime as dt
import io
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.policy.uscc import make_org_code, make_uscc  # noqa: E402

HERE = Path(__file__).resolve().parent
ZIP_TIME = (2026, 11, 30, 9, 0, 0)
DOC_TIME = "2026-11-30T09:00:00Z"

# ---- who is who -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A subject of the fixtures (enterprise, 个体工商户, 合作社); `registered` False: left out of the register."""

    name: str
    prefix: str  # the USCC's first 8 characters: authority, type, division
    body: str  # the organisation code's 8-character body
    rep: str  # 法定代表人 / 经营者 / 负责人
    rep_id: tuple  # (division at birth, birth date, sequence) of the rep's 居民身份证号码
    mobile: str = ""
    address: str = ""
    county: str = ""
    registered: bool = True
    register_name: str = ""  # the name in the register when it differs from the name departments send

    @property
    def org(self):
        return make_org_code(self.body)

    @property
    def code(self):
        return make_uscc(self.prefix + self.org)

    @property
    def rep_id_no(self):
        return person_id(*self.rep_id)


def person_id(division, birth, sequence):
    """An 18-digit 居民身份证号码 with its GB 11643 check digit (python-stdnum)."""
    first = f"{division}{birth}{sequence}"
    return first + ric.calc_check_digit(first + "0")  # stdnum takes the number with a placeholder check digit


S = {
    "E01": Subject("黑河市龙江源商贸有限公司", "91231102", "MA1C4K7P", "刘建国", ("232601", "19780415", "301"),
                   "13904561207", "黑龙江省黑河市爱辉区海兰街62号", "爱辉区"),
    "E02": Subject("黑河市瑷珲建材有限责任公司", "91231102", "MA1D8N2Q", "王海涛", ("232601", "19820907", "113"),
                   "13845678012", "黑龙江省黑河市爱辉区西岗子镇建材路8号", "爱辉区"),
    "E03": Subject("北安市庆华食品有限公司", "91231181", "MA1E3R5T", "陈玉华", ("232621", "19750122", "246"),
                   "15846092233", "黑龙江省黑河市北安市北兴街15号", "北安市"),
    "E04": Subject("五大连池市矿泉饮品有限公司", "91231182", "MA1F6W9K", "韩志强", ("232623", "19800630", "017"),
                   "13359861540", "黑龙江省黑河市五大连池市药泉路3号", "五大连池市"),
    "E05": Subject("嫩江市金穗粮油贸易有限公司", "91231183", "MA1G2H4J", "马德明", ("232622", "19690311", "153"),
                   "13946798811", "黑龙江省黑河市嫩江市中央街118号", "嫩江市"),
    "E06": Subject("爱辉区老街坊烧烤店", "92231102", "MA1H5L7M", "孙桂兰", ("232601", "19860219", "428"),
                   "18245679031", "黑龙江省黑河市爱辉区王肃街27号", "爱辉区"),
    "E07": Subject("嫩江市丰泽大豆种植专业合作社", "93231183", "MA1J8P3R", "高凤山", ("232622", "19710805", "039"),
                   "13069872245", "黑龙江省黑河市嫩江市临江乡丰泽村", "嫩江市"),
    "E08": Subject("黑河市北极光能源科技有限公司", "91231100", "MA1K4T6U", "周立新", ("232601", "19830514", "275"),
                   "13512063378", "黑龙江省黑河市爱辉区黑河大街165号", "爱辉区"),
    "E09": Subject("黑河市边城药房连锁有限公司", "91231102", "MA1L7W2X", "吴春燕", ("232601", "19790928", "546"),
                   "15145675520", "黑龙江省黑河市爱辉区中央街89号", "爱辉区"),
    "E10": Subject("爱辉区惠民便利店", "92231102", "MA1M3Y5A", "李红霞", ("232601", "19900103", "624"),
                   "18604569127", "黑龙江省黑河市爱辉区通江路12号", "爱辉区"),
    "E11": Subject("北安市宏远汽车销售服务有限公司", "91231181", "MA1N6B8C", "杨国栋", ("232621", "19770716", "351"),
                   "13836521190", "黑龙江省黑河市北安市通北路218号", "北安市"),
    "E12": Subject("逊克县兴隆木业有限公司", "91231123", "MA1P9D2E", "徐长林", ("232625", "19680420", "071"),
                   "13796734408", "黑龙江省黑河市逊克县奇克镇林业路6号", "逊克县"),
    "E13": Subject("孙吴县龙腾建筑工程有限公司", "91231124", "MA1Q4F6G", "赵金山", ("232626", "19741102", "197"),
                   "15004567316", "黑龙江省黑河市孙吴县站前街41号", "孙吴县"),
    "E14": Subject("黑河鑫达建材有限公司", "91231102", "MA1R7H9J", "郑广义", ("232601", "19810825", "433"),
                   "13263018874", "黑龙江省黑河市爱辉区锦河大街301号", "爱辉区",
                       register_name="黑河市鑫达建材有限公司"),
    "E15": Subject("北安市福源食品有限公司", "91231181", "MA1T2K4L", "冯丽娟", ("232602", "19850309", "260"),
                   "", "黑龙江省黑河市北安市和平街7号", "北安市"),
    "U1": Subject("黑河市华盛物流有限公司", "91231100", "MA1U5M7N", "曹永军", ("232601", "19760611", "515"),
                  registered=False),
    "U2": Subject("北安市老王家水饺馆", "92231181", "MA1W8P2Q", "王德福", ("232621", "19720224", "079"),
                  registered=False),
    "U3": Subject("嫩江市宏图环保科技有限公司", "91231183", "MA1X3R5T", "邵振华", ("232622", "19840117", "319"),
                  registered=False),
}

# Natural persons: their names and ID numbers must never be stored anywhere.
PEOPLE = {
    "P1": ("张立军", ("232601", "19790312", "401")),
    "P2": ("李秀梅", ("232601", "19880627", "224")),
    "P3": ("赵永福", ("232625", "19650918", "055")),
    "P4": ("刘海波", ("232601", "19911130", "137")),
    "P5": ("孟繁成", ("232626", "19700502", "013")),
    "P6": ("赵金山", ("232626", "19741102", "197")),  # E13's legal representative, listed in person
}

AUTHORITIES = {
    "黑河市市场监督管理局": ("11231100", "MB1A4723"),
    "爱辉区市场监督管理局": ("11231102", "MB1B2856"),
    "北安市市场监督管理局": ("11231181", "MB1C7390"),
    "嫩江市市场监督管理局": ("11231183", "MB1D6418"),
    "五大连池市市场监督管理局": ("11231182", "MB1E5027"),
    "黑河市生态环境局": ("11231100", "MB1F3964"),
    "黑河市生态环境局逊克分局": ("11231123", "MB1G8135"),
    "黑河市应急管理局": ("11231100", "MB1H2748"),
    "孙吴县应急管理局": ("11231124", "MB1J6591"),
    "北安市应急管理局": ("11231181", "MB1K0473"),
    "黑河市人力资源和社会保障局": ("11231100", "MB1L9382"),
    "国家税务总局黑河市税务局": ("11231100", "MB1M4206"),
    "黑河市营商环境建设监督局": ("11231100", "MB1N7315"),
    "黑河市中级人民法院": ("11231100", "MB1P5824"),
    "孙吴县人民法院": ("11231124", "MB1Q3057"),
    "逊克县人民法院": ("11231123", "MB1R8642"),
    "嫩江市人民法院": ("11231183", "MB1T1968"),
}


def agency_code(name):
    """The USCC of a government body (registration authority 1, type 1)."""
    prefix, body = AUTHORITIES[name]
    return make_uscc(prefix + make_org_code(body))


def wrong_check(code):
    """`code` with its 18th character replaced: a USCC that fails only the GB 32100 check."""
    return code[:17] + ("1" if code[17] != "1" else "2")


# ---- rows and their expectations ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One data row: its cells by column name and what the importer and the reports must do with it."""

    cells: dict
    outcome: str  # imported / held: … / skipped: … / rejected [列]: …
    heihe: str = "—"  # under heihe-2024: 违法记录 / 不计 (why) / — (not stored)
    ndrc: str = "—"
    note: str = ""
    severity: str = ""
    raw: dict = field(default_factory=dict)


MARKET = "黑河市市场监督管理局"
AIHUI = "爱辉区市场监督管理局"
BEIAN = "北安市市场监督管理局"
NENJIANG = "嫩江市市场监督管理局"
WUDALIANCHI = "五大连池市市场监督管理局"
FOREVER = "2099-12-31"
COUNTED = "违法记录"
NOT_PUNISHED = "不计：不予行政处罚"
SIMPLE_NO = "不计：简易程序"
HELD_NOTE = "不列出；阻断本领域“未查见”"


def company(key, *, with_rep_id=True, org_hyphen=True, tax_same=True):
    """The subject columns of the national layout for an enterprise."""
    s = S[key]
    category = "个体工商户" if s.prefix.startswith("92") else "法人及非法人组织"
    org = f"{s.org[:8]}-{s.org[8]}" if org_hyphen else s.org
    return {
        "行政相对人名称": s.name, "行政相对人类别": category, "行政相对人代码_1(统一社会信用代码)": s.code,
        "行政相对人代码_3(组织机构代码)": org, "行政相对人代码_4(税务登记号)": s.code if tax_same else "",
        "法定代表人": s.rep, "法定代表人证件类型": "身份证" if with_rep_id else "",
        "法定代表人证件号码": s.rep_id_no if with_rep_id else "",
    }


def person(key, category="自然人"):
    """The subject columns of the national layout for a natural person."""
    name, id_parts = PEOPLE[key]
    return {"行政相对人名称": name, "行政相对人类别": category, "证件类型": "身份证", "证件号码": person_id(*id_parts)}


def decision(number, authority, decided, *, source=MARKET, **cells):
    """The decision columns of the national layout."""
    out = {
        "行政处罚决定书文号": number, "处罚决定日期": decided, "处罚有效期": FOREVER,
        "处罚机关": authority, "处罚机关统一社会信用代码": agency_code(authority),
        "数据来源单位": source, "数据来源单位统一社会信用代码": agency_code(source) if source else "",
    }
    out.update(cells)
    return out


NATIONAL = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)", "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3(组织机构代码)", "行政相对人代码_4(税务登记号)", "行政相对人代码_5(事业单位证书号)",
    "行政相对人代码_6(社会组织登记证号)", "法定代表人", "法定代表人证件类型", "法定代表人证件号码", "证件类型",
    "证件号码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容",
    "罚款金额（万元）", "没收违法所得、没收非法财物的金额（万元）", "暂扣或吊销证照名称及编号", "处罚决定日期",
    "处罚有效期", "公示截止期", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位",
    "数据来源单位统一社会信用代码", "备注",
]
# The same columns as the XLSX export spells them: full-width brackets in some, half-width or spaces in others.
NATIONAL_XLSX = [
    "行政相对人名称 ", "行政相对人类别", "行政相对人代码_1（统一社会信用代码）", "行政相对人代码_2（工商注册号）",
    "行政相对人代码_3（组织机构代码）", "行政相对人代码_4（税务登记号）", "行政相对人代码_5（事业单位证书号）",
    "行政相对人代码_6（社会组织登记证号）", "法定代表人", "法定代表人证件类型", "法定代表人 证件号码", "证件类型",
    "证件号码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容",
    "罚款金额(万元)", "没收违法所得、没收非法财物的金额(万元)", "暂扣或吊销证照名称及编号", "处罚决定 日期",
    "处罚有效期", "公示截止期", "处罚机关", "处罚机关 统一社会信用代码", "数据来源单位",
    "数据来源单位统一社会信用代码", "备注",
]
XLSX_TITLE = "黑河市市场监督管理局行政处罚信息（双公示）"


def market_rows():
    """File 1 (and 2): 市场监管 in the current national layout, as the 双公示 system exports it."""
    return [
        Row({**company("E01"), **decision(
            "黑市监罚〔2026〕118号", MARKET, "2026-06-18", 违法行为类型="发布含有绝对化用语的广告",
            违法事实="当事人在其微信公众号发布的商品广告中使用“国家级”“最佳”等用语，系初次违法且及时整改。",
            处罚依据="《中华人民共和国广告法》第九条第（三）项、第五十七条第（一）项，《中华人民共和国行政处罚法》第三十二条",
            处罚类别="罚款", 处罚内容="责令停止发布违法广告，并处罚款人民币伍万元整（减轻处罚）。",
            **{"罚款金额（万元）": "5.000000"},
            公示截止期="2027-06-17")},
            "imported", COUNTED, COUNTED, "普通程序 (no marker); 公示截止期 in the future", "一般（默认）"),
        Row({**company("E01"), **decision(
            "黑市监罚〔2025〕36号", MARKET, "2025/3/14", 违法行为类型="销售不合格产品",
            违法事实="当事人销售的电热水壶经抽样检验，泄漏电流项目不合格，货值金额人民币8900元。",
            处罚依据="《中华人民共和国产品质量法》第四十九条", 处罚类别="罚款;没收违法所得",
            处罚内容="没收违法所得人民币3560元，并处罚款人民币12000元。",
            **{"罚款金额（万元）": "1.200000", "没收违法所得、没收非法财物的金额（万元）": "0.356000"},
            公示截止期="2026-03-13")},
            "imported", COUNTED + "，标「公示期满」", COUNTED + "，标「公示期满」",
            "two categories joined by `;`; 公示截止期 2026-03-13 has passed", "一般（默认）"),
        Row({**company("E01"), **decision(
            "黑市监罚〔2024〕197号", MARKET, "2024-11-20", 违法行为类型="未按规定明码标价",
            违法事实="当事人经营场所内销售的12种商品未标明价格。", 处罚依据="《中华人民共和国价格法》第四十二条",
            处罚类别="罚款", 处罚内容="罚款人民币叁仟元整。", **{"罚款金额（万元）": "0.300000"},
            公示截止期="2025-11-19")},
            "imported", COUNTED + "（报告期外，不列出）", COUNTED + "（报告期外，不列出）",
            "decided before the report period 2025-01-01", "一般（默认）"),
        Row({**company("E01"), **decision(
            "黑市监罚〔2025〕211号", MARKET, "2025-09-02", 违法行为类型="销售标签存在瑕疵的预包装食品",
            违法事实="当事人销售的预包装食品标签存在瑕疵，不影响食品安全且不会对消费者造成误导，已及时改正。",
            处罚依据="《中华人民共和国食品安全法》第一百二十五条第二款，《中华人民共和国行政处罚法》第三十三条第一款",
            处罚类别="其他", 处罚内容="不予行政处罚")},
            "imported", NOT_PUNISHED, NOT_PUNISHED, "不予行政处罚: 处罚类别 「其他」 + 处罚内容 「不予行政处罚」"),
        Row({**company("E01"), **decision(
            "黑市监简罚〔2026〕14号", MARKET, "2026-02-10", 违法行为类型="未按规定建立并遵守进货查验记录制度",
            违法事实="当事人经营的预包装食品未按规定留存供货者的许可证和产品合格证明文件。",
            处罚依据="《中华人民共和国食品安全法》第一百二十六条第一款第（三）项", 处罚类别="警告", 处罚内容="警告",
            公示截止期="")},
            "imported", SIMPLE_NO, COUNTED + "，标「公示期满」",
            "简易程序 only by 文号 「简罚」; 警告 is inside §51; 轻微 → publicity ≤ 3 months → ended 2026-05-10",
            "轻微（简易程序）"),
        Row({**company("E02", with_rep_id=False), **decision(
            "爱市监不罚〔2025〕7号", AIHUI, "2025-05-22", 违法行为类型="未按规定办理变更登记",
            违法事实="当事人变更经营场所后未在30日内申请变更登记，已主动改正。",
            处罚依据="《中华人民共和国市场主体登记管理条例》第四十六条", 处罚类别="其他", 处罚内容="责令改正")},
            "imported", NOT_PUNISHED, NOT_PUNISHED, "不予行政处罚 shown only by 文号 「不罚〔2025〕」; county bureau"),
        Row({**company("E02", with_rep_id=False), **decision(
            "爱市监罚〔2025〕88号", AIHUI, "2025年8月21日", 违法行为类型="销售不符合标准的建材产品",
            违法事实="当事人销售的一批水泥经检验强度不符合GB 175-2023要求。",
            处罚依据="《中华人民共和国产品质量法》第四十九条", 处罚类别="罚款",
            处罚内容="罚款人民币贰万元。当事人提出的陈述、申辩意见不予采纳。", **{"罚款金额（万元）": "2.000000"},
            公示截止期="2028-08-20")},
            "imported", COUNTED, COUNTED,
            "trap: 「不予采纳」 is not 不予处罚; date written 2025年8月21日; 公示截止期 (3 years) wins over the 1-year "
            "maximum", "一般（默认）"),
        Row({**company("E07"), **decision(
            "嫩市监罚〔2025〕52号", NENJIANG, "2025-06-03", 违法行为类型="未按规定标注产品标识",
            违法事实="当事人销售的自产大豆包装未标注生产日期和产地，系首次违法且危害后果轻微，已及时改正。",
            处罚依据="《黑龙江省市场监管领域轻微违法行为不予行政处罚清单》第12项", 处罚类别="其他",
            处罚内容="首违不罚，责令限期改正")},
            "imported", NOT_PUNISHED, NOT_PUNISHED, "首违不罚; 农民专业合作社 (93…) in scope"),
        Row({**company("E03"), **decision(
            "北市监罚〔2025〕61号", BEIAN, "2025-07-02 00:00:00", 违法行为类型="食品标签不符合规定",
            违法事实="当事人生产的糕点标签未标注贮存条件，违法行为轻微并及时改正。",
            处罚依据="《中华人民共和国食品安全法》第一百二十五条第二款", 处罚类别="其他",
            处罚内容="违法行为轻微并及时改正，没有造成危害后果，轻微不罚")},
            "imported", NOT_PUNISHED, NOT_PUNISHED, "轻微不罚; date with a time part"),
        Row({**company("E05"), **decision(
            "嫩市监罚〔2025〕70号", NENJIANG, "20251009", 违法行为类型="计量器具未按规定检定",
            违法事实="当事人使用的一台电子台秤超过检定周期，已于检查当日送检合格。",
            处罚依据="《中华人民共和国计量法》第九条", 处罚类别="",
            处罚内容="经调查，当事人违法行为轻微，依据《中华人民共和国行政处罚法》第三十三条第一款，决定不予处罚。")},
            "imported", NOT_PUNISHED, NOT_PUNISHED,
            "不予处罚 in 处罚内容 with 处罚类别 empty (not a rejection: 处罚内容 is given); date 20251009"),
        Row({**company("E04"), **decision(
            "五市监罚〔2025〕19号", WUDALIANCHI, "2025.11.4", source=WUDALIANCHI, 违法行为类型="生产标签虚假的饮用水",
            违法事实="当事人生产的饮用天然矿泉水标签标示的偏硅酸含量与实际检测值不符。",
            处罚依据="《中华人民共和国食品安全法》第一百二十五条第一款第（二）项", 处罚类别="罚款;没收违法所得",
            处罚内容="没收违法所得人民币4200元，并处罚款人民币25000元。",
            **{"罚款金额（万元）": "2.500000", "没收违法所得、没收非法财物的金额（万元）": "0.420000"},
            公示截止期="2026-11-03")},
            "imported", COUNTED + "，标「公示期满」", COUNTED + "，标「公示期满」",
            "处罚机关 and 数据来源单位 a county bureau (五大连池); date 2025.11.4", "一般（默认）"),
        Row({**company("E06"), **decision(
            "黑市监简罚〔2026〕27号", MARKET, "2026-07-15", 违法行为类型="未按规定明码标价",
            违法事实="当事人店内菜品及酒水未标明价格。",
            处罚依据="《中华人民共和国价格法》第四十二条", 处罚类别="罚款",
            处罚内容="罚款人民币伍佰元", **{"罚款金额（万元）": "0.050000"})},
            "held: 标为简易程序（文号“简罚”），但对个体工商户罚款500元，超过行政处罚法第五十一条对公民200元的上限",
            HELD_NOTE, HELD_NOTE,
                "§51: 500 元 to a 个体工商户 (a natural person, 民法典 第五十四条) marked 简易 by 文号"),
        Row({**company("E09"), **decision(
            "黑市监当场罚〔2026〕9号", MARKET, "2026-03-30", 违法行为类型="销售过期药品",
            违法事实="当事人货架上陈列销售已过有效期的药品2盒。",
            处罚依据="《中华人民共和国药品管理法》第一百一十七条第一款",
            处罚类别="没收违法所得;没收非法财物", 处罚内容="没收过期药品2盒及违法所得人民币120元。",
            **{"没收违法所得、没收非法财物的金额（万元）": "0.012000"})},
            "held: 标为简易程序（文号“当场”），但处罚种类含没收违法所得，"
            "简易程序只能给予警告或罚款（行政处罚法第五十一条）",
            HELD_NOTE, HELD_NOTE, "§51: 没收 marked 简易 by 文号 「当场」"),
        Row({**company("E08"), **decision(
            "黑市监罚〔2026〕133号", MARKET, "2026-08-06", 违法行为类型="未按规定明码标价",
            违法事实="当事人经营的加气站未按规定公示车用天然气销售价格。",
            处罚依据="《中华人民共和国价格法》第四十二条",
            处罚类别="罚款", 处罚内容="罚款人民币伍仟元", **{"罚款金额（万元）": "0.500000"}, 备注="适用简易程序")},
            "held: 标为简易程序（备注“适用简易程序”），但对单位罚款5000元，超过行政处罚法第五十一条对法人3000元的上限",
            HELD_NOTE, HELD_NOTE, "§51: 5,000 元 to a company marked 简易 only by 备注"),
        Row({**company("E10"), **decision(
            "黑市监罚〔2026〕140号", MARKET, "2026-08-19", 违法行为类型="未按规定明码标价",
            违法事实="当事人销售的散装食品未标明价格。", 处罚依据="《明码标价和禁止价格欺诈规定》第二十一条",
            处罚类别="罚款", 处罚内容="罚款人民币贰佰元", **{"罚款金额（万元）": "0.020000"},
            备注="当场作出行政处罚决定")},
            "imported", SIMPLE_NO, COUNTED + "，标「公示期满」",
            "简易 only by 备注 「当场作出」; 200 元 to a 个体工商户 is exactly §51's bound (inside)",
                "轻微（简易程序）"),
        Row({**company("E11"), **decision(
            "北市监简罚〔2026〕6号", BEIAN, "2026-04-07", 违法行为类型="未按规定公示收费标准",
            违法事实="当事人维修车间未公示工时收费标准。", 处罚依据="《中华人民共和国价格法》第四十二条",
            处罚类别="罚款", 处罚内容="罚款人民币叁仟元", **{"罚款金额（万元）": "0.300000"})},
            "imported", SIMPLE_NO, COUNTED + "，标「公示期满」",
            "简罚; 3,000 元 to a company is exactly §51's bound (inside)", "轻微（简易程序）"),
        Row({**person("P1"), **decision(
            "黑市监罚〔2026〕58号", MARKET, "2026-05-08", 违法行为类型="无照经营",
            违法事实="当事人未经登记擅自从事预包装食品流动销售。",
            处罚依据="《无证无照经营查处办法》第十三条", 处罚类别="罚款", 处罚内容="罚款人民币壹仟元",
            **{"罚款金额（万元）": "0.100000"})},
            "skipped: 行政相对人类别为自然人", note="natural person: name and 证件号码 must not be stored anywhere"),
        Row({**person("P2", category="个体工商户"), **decision(
            "爱市监罚〔2026〕12号", AIHUI, "2026-06-02", 违法行为类型="未按规定标明商品价格",
            违法事实="当事人修鞋配件未标明价格。", 处罚依据="《中华人民共和国价格法》第四十二条",
            处罚类别="罚款", 处罚内容="罚款人民币壹佰元", **{"罚款金额（万元）": "0.010000"})},
            "skipped: 载有个人证件号码而无统一社会信用代码",
            note="类别 个体工商户 but only the operator's 证件号码, no USCC: treated as a natural person"),
        Row({**company("U1"), **decision(
            "黑市监罚〔2026〕151号", MARKET, "2026-09-10", 违法行为类型="擅自改变计量器具",
            违法事实="当事人擅自改装地磅计量装置。", 处罚依据="《中华人民共和国计量法》第二十六条",
            处罚类别="罚款", 处罚内容="罚款人民币壹万元", **{"罚款金额（万元）": "1.000000"},
            公示截止期="2027-09-09")},
            "held: 统一社会信用代码未在企业名录中登记（核验）", HELD_NOTE, HELD_NOTE,
            "enterprise deliberately missing from enterprises.csv"),
        Row({**company("E05", with_rep_id=False, org_hyphen=False, tax_same=False), **decision(
            "嫩市监罚〔2025〕33号", NENJIANG, "2025-04-16", source="", 违法行为类型="未按规定建立食品进货查验记录",
            处罚类别="罚款", 处罚内容="罚款人民币捌仟元", 处罚有效期="", 处罚机关统一社会信用代码="")},
            "imported; 数据来源单位 → 黑河市市场监督管理局 (the sending department)",
            COUNTED + "，标「公示期满」", COUNTED + "，标「公示期满」",
            "blank optional columns (违法事实, 处罚依据, 罚款金额, 有效期, 公示截止期, codes): "
            "stored blank, printed 「未提供」; "
            "一般 ≤ 1 year from 2025-04-16 → ended", "一般（默认）"),
        Row({**company("E03"), **decision(
            "北市监罚〔2026〕15号", BEIAN, "2026-05-26", 违法行为类型="使用非食品原料生产食品",
            违法事实="执法人员现场检查时当场查获当事人使用工业用碳酸氢铵生产的糕点86公斤。",
            处罚依据="《中华人民共和国食品安全法》第一百二十三条第一款第（一）项",
            处罚类别="罚款；没收违法所得；没收非法财物；吊销许可证件",
            处罚内容="没收违法所得人民币34800元及违法生产的食品，罚款人民币12万元，吊销食品生产许可证。",
            **{"罚款金额（万元）": "12.000000", "没收违法所得、没收非法财物的金额（万元）": "3.480000",
               "暂扣或吊销证照名称及编号": "食品生产许可证（SC10623118100123）"},
            公示截止期="2029-05-25")},
            "imported", COUNTED, COUNTED,
            "full-width `；` between categories; 「当场」 in 违法事实 is no 简易 marker; 吊销 with licence number",
            "一般（默认）"),
    ]


# ---- file 3: 生态环境, the 2016 layout, GB18030 -------------------------------------------------------------------

LAYOUT_2016 = [
    "行政处罚决定书文号", "处罚名称", "处罚类别1", "处罚类别2", "处罚事由", "处罚依据", "行政相对人名称",
    "行政相对人代码_1 (统一社会信用代码)", "行政相对人代码_2 (组织机构代码)", "行政相对人代码_3 (工商登记码)",
    "行政相对人代码_4 (税务登记号)", "行政相对人代码_5 (居民身份证号)", "法定代表人姓名", "处罚结果", "处罚决定日期",
    "处罚机关", "当前状态", "地方编码", "数据更新时间戳", "备注",
]
ECOLOGY = "黑河市生态环境局"
XUNKE = "黑河市生态环境局逊克分局"


def old_company(key, name=None):
    """Subject columns of the 2016 layout."""
    s = S[key]
    return {"行政相对人名称": name or s.name, "行政相对人代码_1 (统一社会信用代码)": s.code,
            "行政相对人代码_2 (组织机构代码)": s.org, "行政相对人代码_4 (税务登记号)": s.code,
            "法定代表人姓名": s.rep, "地方编码": s.prefix[2:]}


def ecology_rows():
    """File 3: 生态环境 from an older system in the 2016 layout."""
    return [
        Row({**old_company("E12"), "行政处罚决定书文号": "黑环逊罚〔2025〕12号", "处罚名称": "超标排放大气污染物",
             "处罚类别1": "罚款", "处罚事由": "该公司生物质锅炉烟气颗粒物排放浓度超过《锅炉大气污染物排放标准》限值。",
             "处罚依据": "《中华人民共和国大气污染防治法》第九十九条第（二）项", "处罚结果": "罚款人民币拾贰万元整",
             "处罚决定日期": "2025/09/18", "处罚机关": XUNKE, "当前状态": "正常",
                 "数据更新时间戳": "2025-09-20 10:31:22"},
            "imported", COUNTED + "，标「公示期满」", COUNTED + "，标「公示期满」",
            "2016 names; no 罚款金额 column (printed 「未提供」); a county 分局; no 公示截止期: 一般 ≤ 1 year → ended",
            "一般（默认）"),
        Row({**old_company("U3"), "行政处罚决定书文号": "黑环罚〔2025〕41号", "处罚名称": "未依法报批环境影响评价文件",
             "处罚类别1": "罚款", "处罚事由": "该公司危险废物暂存库项目未依法报批环境影响评价文件擅自开工建设。",
             "处罚依据": "《中华人民共和国环境影响评价法》第三十一条第一款", "处罚结果": "罚款人民币伍万元",
             "处罚决定日期": "2025-10-27", "处罚机关": ECOLOGY, "当前状态": "0",
                 "数据更新时间戳": "2025-10-28 16:05:40"},
            "held: 统一社会信用代码未在企业名录中登记（核验）", HELD_NOTE, HELD_NOTE,
                "enterprise missing from the register"),
        Row({**old_company("E07"), "行政处罚决定书文号": "黑环不罚〔2025〕2号", "处罚名称": "畜禽养殖废弃物未及时处理",
             "处罚类别1": "其他", "处罚事由": "该社养殖场粪污暂存池防渗层局部破损，已于当日修复，未造成污染后果。",
             "处罚依据": "《中华人民共和国行政处罚法》第三十三条第一款", "处罚结果": "责令改正",
             "处罚决定日期": "2025年11月3日", "处罚机关": ECOLOGY, "当前状态": "正常",
             "数据更新时间戳": "2025-11-05 09:12:03"},
            "imported", NOT_PUNISHED, NOT_PUNISHED, "不予行政处罚 only by 文号 「不罚〔2025〕」 in the 2016 layout"),
        Row({"行政相对人名称": PEOPLE["P3"][0], "行政相对人代码_5 (居民身份证号)": person_id(*PEOPLE["P3"][1]),
             "行政处罚决定书文号": "黑环罚〔2026〕6号", "处罚名称": "露天焚烧秸秆", "处罚类别1": "罚款",
             "处罚事由": "当事人在逊克县奇克镇农田内露天焚烧秸秆。",
                 "处罚依据": "《中华人民共和国大气污染防治法》第一百一十九条",
             "处罚结果": "罚款人民币伍佰元", "处罚决定日期": "2026-04-11", "处罚机关": XUNKE, "当前状态": "正常",
             "地方编码": "231123", "数据更新时间戳": "2026-04-12 08:40:17"},
            "skipped: 载有个人证件号码（行政相对人代码_5 居民身份证号）而无统一社会信用代码",
            note="natural person in the old layout: _5 is 居民身份证号 here (事业单位证书号 in the current one)"),
        Row({**old_company("E02"), "行政处罚决定书文号": "黑环当场罚〔2026〕5号",
             "处罚名称": "在商业经营活动中使用高音广播喇叭招揽顾客",
             "处罚类别1": "警告",
             "处罚事由": "该公司门市在商业经营活动中使用高音广播喇叭反复播放促销广告，经劝阻拒不改正。",
             "处罚依据": "《中华人民共和国噪声污染防治法》第八十二条第一款第（三）项", "处罚结果": "警告",
             "处罚决定日期": "2026年3月2日", "处罚机关": ECOLOGY, "当前状态": "正常",
             "数据更新时间戳": "2026-03-02 15:22:48"},
            "imported", SIMPLE_NO, COUNTED + "，标「公示期满」", "简易 only by 文号 「当场」; 警告 (inside §51)",
            "轻微（简易程序）"),
        Row({**old_company("E14"), "行政处罚决定书文号": "黑环罚〔2026〕17号", "处罚名称": "未采取防尘措施",
             "处罚类别1": "罚款", "处罚事由": "该公司砂石料堆场未采取覆盖等防尘措施。",
             "处罚依据": "《中华人民共和国大气污染防治法》第一百一十七条第（一）项", "处罚结果": "罚款人民币贰万元",
             "处罚决定日期": "2026-05-19", "处罚机关": ECOLOGY, "当前状态": "正常",
                 "数据更新时间戳": "2026-05-20 11:03:36"},
            "held: 名称与企业名录登记名称“黑河市鑫达建材有限公司”不一致（核验）", HELD_NOTE, HELD_NOTE,
            "name sent without 「市」: name mismatch with the register"),
        Row({**old_company("E03"), "行政处罚决定书文号": "黑环罚〔2026〕29号", "处罚名称": "超标排放水污染物",
             "处罚类别1": "罚款", "处罚类别2": "责令改正",
             "处罚事由": "该公司污水处理设施出水化学需氧量浓度超过排放标准1.6倍。",
             "处罚依据": "《中华人民共和国水污染防治法》第八十三条第（二）项",
             "处罚结果": "责令改正，罚款人民币拾万元", "处罚决定日期": "20260611", "处罚机关": ECOLOGY, "当前状态": "0",
             "数据更新时间戳": "2026-06-12 09:55:01"},
            "imported", COUNTED, COUNTED, "处罚类别1 + 处罚类别2 → 处罚类别 「罚款;责令改正」", "一般（默认）"),
    ]


# ---- file 4: 应急管理, edited by hand in our own columns ----------------------------------------------------------

EDITED = ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
    "处罚类别",
          "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关", "程序类型", "失信程度", "备注", "内部案件编号"]
SAFETY = "黑河市应急管理局"
SUNWU_SAFETY = "孙吴县应急管理局"
BEIAN_SAFETY = "北安市应急管理局"


def edited(key, number, authority, decided, case, **cells):
    """A row of the hand-edited file."""
    s = S[key]
    out = {"行政相对人名称": s.name, "统一社会信用代码": s.code, "行政处罚决定书文号": number,
           "处罚决定日期": decided, "处罚机关": authority, "内部案件编号": case}
    out.update(cells)
    return out


def safety_rows():
    """File 4: 安全生产, our own columns edited by hand; no 领域, no 数据来源单位, an unknown extra column."""
    return [
        Row(edited("E13", "孙应急罚〔2026〕8号", SUNWU_SAFETY, "2026-05-12", "AJ-SW-2026-0031",
                   违法行为类型="未按规定对从业人员进行安全生产教育和培训",
                   违法事实="该公司施工现场12名作业人员未经安全生产教育和培训即上岗作业。",
                   处罚依据="《中华人民共和国安全生产法》第九十七条第（三）项", 处罚类别="罚款",
                   处罚内容="责令限期改正，处罚款人民币叁万元", 程序类型="一般程序",
                       **{"罚款金额（万元）": "3.000000"}),
            "imported", COUNTED, COUNTED, "程序类型 「一般程序」 → 普通程序; 领域 absent → 安全生产 (one grant)",
            "一般（默认）"),
        Row(edited("E05", "黑应急罚〔2026〕21号", SAFETY, "2026-06-23", "AJ-HH-2026-0107",
                   违法行为类型="粉尘防爆安全措施不落实",
                       违法事实="该公司粮食烘干车间未按规定清理积尘，除尘系统未设置锁气卸灰装置。",
                   处罚依据="《工贸企业粉尘防爆安全规定》第三十条", 处罚类别="罚款", 处罚内容="罚款人民币伍万元",
                   程序类型="普通", 失信程度="一般", **{"罚款金额（万元）": "5.000000"}),
            "imported", COUNTED, COUNTED, "程序类型 「普通」 → 普通程序; 失信程度 sent", "一般（部门）"),
        Row(edited("E02", "黑应急简罚〔2026〕3号", SAFETY, "2026-03-18", "AJ-HH-2026-0044",
                   违法行为类型="违反操作规程作业",
                   违法事实="该公司粉磨车间作业人员未按操作规程佩戴防护用品进行清料作业。",
                   处罚依据="《安全生产违法行为行政处罚办法》第四十五条第（一）项", 处罚类别="警告", 处罚内容="警告",
                   程序类型="简易程序", 失信程度="轻微"),
            "imported", SIMPLE_NO, COUNTED + "，标「公示期满」", "程序类型 「简易程序」, 警告 (inside §51)",
                "轻微（部门）"),
        Row(edited("E12", "黑应急罚〔2026〕30号", SAFETY, "2026-07-08", "AJ-HH-2026-0133",
                   违法行为类型="未按规定配备安全生产管理人员",
                       违法事实="该公司从业人员超过100人，未配备专职安全生产管理人员。",
                   处罚依据="《中华人民共和国安全生产法》第九十七条第（一）项", 处罚类别="罚款",
                       处罚内容="罚款人民币伍仟元",
                   程序类型="简易程序", **{"罚款金额（万元）": "0.500000"}),
            "held: 程序类型为简易程序，但对单位罚款5000元，超过行政处罚法第五十一条对法人3000元的上限", HELD_NOTE,
                HELD_NOTE,
            "§51: 5,000 元 to a company with an explicit 程序类型 简易程序"),
        Row(edited("E11", "北应急罚〔2026〕9号", BEIAN_SAFETY, "2026-04-21", "AJ-BA-2026-0018",
                   统一社会信用代码=wrong_check(S["E11"].code), 违法行为类型="未按规定进行安全检查",
                   处罚类别="罚款", 处罚内容="罚款人民币壹万元", 程序类型="一般程序",
                       **{"罚款金额（万元）": "1.000000"}),
            "rejected [统一社会信用代码]: 第18位校验码错误", note="bad USCC: the check character is wrong"),
        Row(edited("E03", "", BEIAN_SAFETY, "2026-05-06", "AJ-BA-2026-0022",
                   违法行为类型="特种作业人员未持证上岗", 处罚类别="罚款", 处罚内容="罚款人民币贰万元",
                       程序类型="一般程序",
                   **{"罚款金额（万元）": "2.000000"}),
            "rejected [行政处罚决定书文号]: 不能为空", note="missing 文号"),
        Row(edited("E04", "黑应急罚〔2026〕38号", SAFETY, "2026-08-14", "AJ-HH-2026-0152",
                   违法行为类型="未按规定开展事故应急救援演练", 程序类型="一般程序"),
            "rejected [处罚类别]: 处罚类别和处罚内容不能同时为空", note="处罚类别 and 处罚内容 both empty"),
        Row(edited("E08", "黑应急罚〔2026〕44号", SAFETY, "2026-09-03", "AJ-HH-2026-0171",
                   违法行为类型="危险化学品储存场所重大事故隐患未消除",
                   违法事实="该公司液化石油气储罐区可燃气体报警装置失效，经责令整改逾期未改正。",
                   处罚依据="《中华人民共和国安全生产法》第一百零二条", 处罚类别="罚款；责令停产停业",
                   处罚内容="责令停产停业整顿，并处罚款人民币贰拾万元", 程序类型="一般程序", 失信程度="严重",
                   **{"罚款金额（万元）": "20.000000"}),
            "imported", COUNTED, COUNTED, "失信程度 「严重」 from the department", "严重（部门）"),
        Row(edited("E03", "北应急罚〔2026〕12号", BEIAN_SAFETY, "2026-07-30", "AJ-BA-2026-0029",
                   违法行为类型="未如实记录安全生产教育和培训情况", 违法事实="该公司未建立安全生产教育和培训档案。",
                   处罚依据="《中华人民共和国安全生产法》第九十七条第（四）项", 处罚类别="罚款",
                       处罚内容="罚款人民币壹仟元",
                   备注="当场作出", **{"罚款金额（万元）": "0.100000"}),
            "imported", SIMPLE_NO, COUNTED + "，标「公示期满」",
            "程序类型 blank, 简易 from 备注 「当场作出」; 1,000 元 to a company (inside §51)", "轻微（简易程序）"),
        Row(edited("E11", "北应急罚〔2026〕10号", BEIAN_SAFETY, "2026-04-21", "",
                   违法行为类型="未按规定进行安全检查", 处罚类别="罚款", 处罚内容="罚款人民币壹万元"),
            "imported", COUNTED, COUNTED, "blank optional columns; 程序类型 blank, no marker → 普通程序",
                "一般（默认）"),
        Row(edited("E05", "黑应急罚〔2026〕52号", SAFETY, "2026-10-15", "AJ-HH-2026-0190",
                   行政相对人名称="黑河市新兴化工有限公司", 统一社会信用代码="", 违法行为类型="未按规定登记危险化学品",
                   处罚类别="罚款", 处罚内容="罚款人民币叁万元", 程序类型="一般程序",
                       **{"罚款金额（万元）": "3.000000"}),
            "rejected [统一社会信用代码]: 统一社会信用代码为空", note="a company with no USCC and no personal ID"),
        Row(edited("E13", "孙应急罚〔2026〕11号", SUNWU_SAFETY, "2026-06-30", "AJ-SW-2026-0040",
                   违法行为类型="未按规定公示安全生产责任制",
                       违法事实="该公司项目部未公示全员安全生产责任制，已当场改正。",
                   处罚依据="《中华人民共和国行政处罚法》第三十三条第一款", 处罚类别="不予行政处罚",
                       处罚内容="责令改正",
                   程序类型="一般程序"),
            "imported", NOT_PUNISHED, NOT_PUNISHED, "处罚类别 「不予行政处罚」 (our own layout's word)"),
    ]


# ---- the enterprise register (docs/CONTRACT.md §4) -----------------------------------------------------------------

REGISTER = ["企业名称", "统一社会信用代码", "法定代表人", "联系电话", "注册地址", "所属区县"]


def register_rows():
    """The register the credit office loads first; U1–U3 are left out on purpose."""
    return [[s.register_name or s.name, s.code, s.rep, s.mobile, s.address, s.county]
            for s in S.values() if s.registered]


# ---- 社保 arrears from 人社 and from 税务 (docs/CONTRACT.md §4) ----------------------------------------------------

ARREARS = ["单位名称", "统一社会信用代码", "欠缴类型", "欠缴起始月份", "欠缴截止月份", "欠缴金额（元）", "是否已补缴",
           "补缴日期", "操作"]


def arrears(key, kind, start, end, amount, settled="否", on=""):
    s = S[key]
    return {"单位名称": s.name, "统一社会信用代码": s.code, "欠缴类型": kind, "欠缴起始月份": start,
            "欠缴截止月份": end, "欠缴金额（元）": amount, "是否已补缴": settled, "补缴日期": on, "操作": ""}


def hrss_rows():
    """人社's file: the 社保 arrears it knows."""
    return [
        Row(arrears("E01", "社会保险费", "2026-03", "2026-05", "18,640.50"), "imported",
            note="same item as 税务 row 2: one item, both sources"),
        Row(arrears("E13", "社会保险费", "2025-10", "2025-12", "42,300.00", "是", "2026-02-15"), "imported",
            note="same item as 税务 row 3 (settled)"),
        Row(arrears("U2", "社会保险费", "2026-06", "2026-08", "2,160.00"),
            "held: 统一社会信用代码未在企业名录中登记（核验）", note="个体工商户 missing from the register"),
        Row(arrears("E05", "社会保险费", "2026-07", "2026-08", "6,200.00"), "imported", note="only 人社 sends it"),
    ]


def tax_rows():
    """税务's file: the same enterprises and months as 人社 for two items, written its own way."""
    return [
        Row(arrears("E01", "社保", "202603", "202605", 18640.5), "imported",
            note="same item as 人社 row 2 (months written 202603)"),
        Row(arrears("E13", "社会保险", "2025年10月", "2025年12月", 42300, "是", "2026/2/15"), "imported",
            note="same item as 人社 row 3"),
        Row(arrears("E01", "", "2025-06", "2025-06", "3,920.00", "是", "2025-07-20"), "imported",
            note="only 税务 sends it; 欠缴类型 blank → 社保 (税务's one arrears grant)"),
        Row(arrears("E03", "", "2026-08", "2026-09", 3150), "imported", note="only 税务 sends it"),
    ]


# ---- the three data kinds of 565号 (our own layouts, modelled on 双公示) -------------------------------------------

ENFORCEMENT = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)", "法定代表人", "法定代表人证件类型",
    "法定代表人证件号码", "证件类型", "证件号码", "行政强制决定书文号", "行政强制类别", "行政强制方式", "强制事由",
    "强制依据", "强制对象", "涉案金额（万元）", "决定日期", "强制期限开始日期", "强制期限截止日期", "解除日期",
    "实施机关", "实施机关统一社会信用代码", "数据来源单位", "数据来源单位统一社会信用代码", "备注",
]


def enforcement(subject, number, kind, method, decided, authority=MARKET, **cells):
    out = {**subject, "行政强制决定书文号": number, "行政强制类别": kind, "行政强制方式": method,
           "决定日期": decided, "实施机关": authority, "实施机关统一社会信用代码": agency_code(authority),
           "数据来源单位": MARKET, "数据来源单位统一社会信用代码": agency_code(MARKET)}
    out.update(cells)
    return out


def subject_cells(key):
    """行政相对人 columns shared by the new layouts."""
    cells = company(key)
    return {k: v for k, v in cells.items() if not k.startswith("行政相对人代码_") or k.endswith("(统一社会信用代码)")}


def enforcement_rows():
    """行政强制 decisions of 市场监管 (强制措施 and 强制执行)."""
    return [
        Row(enforcement(subject_cells("E01"), "黑市监强扣〔2025〕6号", "行政强制措施", "扣押财物", "2025-02-26",
                        强制事由="当事人涉嫌销售泄漏电流不合格的电热水壶。",
                        强制依据="《中华人民共和国产品质量法》第十八条第一款第（四）项", 强制对象="电热水壶32台",
                        **{"涉案金额（万元）": "0.890000"}, 强制期限开始日期="2025-02-26",
                        强制期限截止日期="2025-03-27", 解除日期="2025-03-14", 备注="案件办结，依法作出处理决定后解除"),
            "imported", "— (heihe-2024 prints no 行政强制 section)", "列出（已解除 2025-03-14）",
            "强制措施 with a release date; linked in fact to 处罚 黑市监罚〔2025〕36号"),
        Row(enforcement(subject_cells("E09"), "黑市监强封〔2026〕3号", "行政强制措施", "查封场所、设施或者财物",
                        "2026-03-05", 强制事由="当事人涉嫌经营假药。",
                        强制依据="《中华人民共和国药品管理法》第一百条第二款", 强制对象="药品库房一间及库存药品",
                        强制期限开始日期="2026-03-05", 强制期限截止日期="2026-04-03"),
            "imported", "—", "列出", "查封, not released"),
        Row(enforcement(subject_cells("E04"), "五市监强执〔2026〕2号", "行政强制执行", "加处罚款或者滞纳金",
            "2026年5月20日",
                        WUDALIANCHI, 强制事由="当事人逾期不缴纳五市监罚〔2025〕19号行政处罚决定书确定的罚款。",
                        强制依据="《中华人民共和国行政强制法》第四十五条", 强制对象="罚款人民币25000元",
                        **{"涉案金额（万元）": "2.500000"}, 备注="每日按罚款数额的百分之三加处罚款"),
            "imported", "—", "列出", "强制执行 by a county bureau; date written 2026年5月20日"),
        Row(enforcement({**person("P4")}, "黑市监强扣〔2026〕11号", "行政强制措施", "扣押财物", "2026-06-17",
                        强制事由="当事人涉嫌无照销售烟花爆竹。", 强制对象="烟花爆竹12箱"),
            "skipped: 行政相对人类别为自然人", note="natural person"),
        Row(enforcement(subject_cells("U1"), "黑市监强封〔2026〕8号", "行政强制措施", "查封场所、设施或者财物",
            "2026-09-01",
                        强制事由="当事人涉嫌使用改装的地磅计量。", 强制对象="地磅一台"),
            "held: 统一社会信用代码未在企业名录中登记（核验）", "—", HELD_NOTE, "unregistered enterprise"),
    ]


DISHONEST = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)", "法定代表人", "法定代表人证件类型",
    "法定代表人证件号码", "证件类型", "证件号码", "名单名称", "列入决定书文号", "列入事由", "列入依据", "认定单位",
    "认定单位统一社会信用代码", "列入日期", "移出日期", "移出原因", "数据来源单位", "数据来源单位统一社会信用代码",
        "备注",
]
DISHONEST_TITLE = "黑河市严重失信主体名单信息（截至2026年11月30日）"
CREDIT = "黑河市营商环境建设监督局"


def listed(subject, name, number, unit, on, **cells):
    out = {**subject, "名单名称": name, "列入决定书文号": number, "认定单位": unit,
           "认定单位统一社会信用代码": agency_code(unit), "列入日期": on, "数据来源单位": CREDIT,
           "数据来源单位统一社会信用代码": agency_code(CREDIT)}
    out.update(cells)
    return out


def dishonest_rows():
    """严重失信主体名单 as the credit office compiles them from the 认定单位."""
    return [
        Row(listed(subject_cells("E13"), "拖欠农民工工资失信联合惩戒对象名单", "黑人社失惩〔2026〕2号",
                   "黑河市人力资源和社会保障局", "2026-01-20",
                   列入事由="拖欠孙吴县站前街住宅项目农民工工资共计人民币86.4万元，经责令限期支付逾期未支付。",
                   列入依据="《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》第五条第（一）项"),
            "imported", "— (heihe-2024 prints no 名单 section)", "列出（在列）", "listed, not removed"),
        Row(listed(subject_cells("E09"), "市场监督管理严重违法失信名单", "黑市监失信〔2025〕4号", MARKET, "2025-04-10",
                   列入事由="因经营假劣药品受到较重行政处罚。",
                       列入依据="《市场监督管理严重违法失信名单管理办法》第九条",
                   移出日期="2026-04-12", 移出原因="列入满一年，已履行义务并完成信用修复"),
            "imported", "—", "列出（已移出 2026-04-12）", "on the list during the period, removed since"),
        Row(listed(subject_cells("E03"), "市场监督管理严重违法失信名单", "北市监失信〔2022〕1号", BEIAN, "2022-06-15",
                   列入事由="因生产不符合食品安全标准的食品受到较重行政处罚。",
                   列入依据="《市场监督管理严重违法失信名单管理办法》第九条", 移出日期="2024-06-20",
                       移出原因="期满移出"),
            "imported", "—", "不列出（移出早于报告期）", "removed 2024-06-20, before the period began"),
        Row(listed(subject_cells("E12"), "重大税收违法失信主体", "黑税稽失信〔2025〕7号", "国家税务总局黑河市税务局",
                   "2025-11-05", 列入事由="虚开增值税普通发票，涉及金额人民币136万元。",
                   列入依据="《重大税收违法失信主体信息公布管理办法》第六条第（四）项"),
            "imported", "—", "列出（在列）", "listed by 税务"),
        Row(listed(person("P6"), "拖欠农民工工资失信联合惩戒对象名单", "黑人社失惩〔2026〕3号",
                   "黑河市人力资源和社会保障局", "2026-01-20", 列入事由="孙吴县龙腾建筑工程有限公司法定代表人。"),
            "skipped: 行政相对人类别为自然人",
                note="the company's legal representative listed in person: out of scope"),
        Row(listed(subject_cells("U1"), "安全生产严重失信主体名单", "黑应急失信〔2026〕1号", SAFETY, "2026-07-01",
                   列入事由="瞒报较大生产安全事故。", 列入依据="《安全生产严重失信主体名单管理办法》第六条"),
            "held: 统一社会信用代码未在企业名录中登记（核验）", "—", HELD_NOTE, "unregistered enterprise"),
    ]


CRIMINAL = [
    "被告类别", "被告单位名称", "统一社会信用代码", "诉讼代表人", "被告人姓名", "被告人证件号码", "案号", "案由",
    "审判程序", "审理法院", "审理法院统一社会信用代码", "判决日期", "生效日期", "判决结果", "罚金金额（万元）",
    "数据来源单位", "数据来源单位统一社会信用代码", "备注",
]
COURT = "黑河市中级人民法院"


def judgment(key, number, cause, court, decided, effective, result, fine, **cells):
    s = S[key]
    out = {"被告类别": "单位", "被告单位名称": s.name, "统一社会信用代码": s.code, "诉讼代表人": s.rep,
           "案号": number, "案由": cause, "审判程序": "一审", "审理法院": court,
           "审理法院统一社会信用代码": agency_code(court), "判决日期": decided, "生效日期": effective,
           "判决结果": result, "罚金金额（万元）": fine, "数据来源单位": COURT,
           "数据来源单位统一社会信用代码": agency_code(COURT)}
    out.update(cells)
    return out


def criminal_rows():
    """单位犯罪 judgments that the intermediate court sends for the courts of 黑河."""
    return [
        Row(judgment("E13", "（2026）黑1124刑初15号", "拒不支付劳动报酬罪", "孙吴县人民法院", "2026-04-28",
            "2026-05-12",
                     "被告单位孙吴县龙腾建筑工程有限公司犯拒不支付劳动报酬罪，判处罚金人民币八万元。", "8.000000"),
            "imported", "— (heihe-2024 prints no 刑事 section)", "列出", "单位犯罪, first instance, effective"),
        Row({"被告类别": "自然人", "被告人姓名": PEOPLE["P5"][0], "被告人证件号码": person_id(*PEOPLE["P5"][1]),
             "案号": "（2026）黑1124刑初15号", "案由": "拒不支付劳动报酬罪", "审判程序": "一审",
                 "审理法院": "孙吴县人民法院",
             "判决日期": "2026-04-28", "生效日期": "2026-05-12",
             "判决结果": "被告人孟繁成犯拒不支付劳动报酬罪，判处有期徒刑一年，缓刑一年六个月，并处罚金人民币二万元。",
             "罚金金额（万元）": "2.000000", "数据来源单位": COURT, "备注": "被告单位直接负责的主管人员"},
            "skipped: 被告类别为自然人", note="the responsible manager of the same case: a natural person"),
        Row(judgment("E12", "（2025）黑1123刑初37号", "污染环境罪", "逊克县人民法院", "2025/12/9", "2025/12/22",
                     "被告单位逊克县兴隆木业有限公司犯污染环境罪，判处罚金人民币二十万元。", "20.000000"),
            "imported", "—", "列出", "单位犯罪; dates written 2025/12/9"),
        Row(judgment("E05", "（2023）黑1183刑初56号", "单位行贿罪", "嫩江市人民法院", "2023-09-14", "2023-09-26",
                     "被告单位嫩江市金穗粮油贸易有限公司犯单位行贿罪，判处罚金人民币三十万元。", "30.000000"),
            "imported", "—", "不列出（判决早于报告期）", "judged before the period"),
    ]


# ---- writing --------------------------------------------------------------------------------------------------------


def cells_in(headers, row, rename=None):
    """A Row's cells in header order (`rename` maps a written header to the canonical key in `row.cells`)."""
    rename = rename or {}
    return [row.cells.get(rename.get(h, h), "") for h in headers]


def csv_bytes(headers, rows, encoding):
    """A CSV as Excel writes it: CRLF line ends, minimal quoting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def typed(value, header):
    """An XLSX cell as a department's Excel holds it: real dates and numbers where the export types them."""
    if value in ("", None):
        return None
    if not isinstance(value, str):
        return value
    if header.replace(" ", "") in TYPED_DATES and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.datetime.strptime(value, "%Y-%m-%d")
    if re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", value) and "日期" in header:
        return dt.datetime.strptime(value, "%Y/%m/%d")
    if "万元" in header and re.fullmatch(r"\d+\.\d+", value):
        return float(value)
    return value


TYPED_DATES = {"处罚决定日期", "处罚有效期", "公示截止期", "列入日期", "移出日期"}


def xlsx_bytes(headers, rows, title=None, blank_row=False, creator="黑河市市场监督管理局"):
    """An XLSX export: optional merged title row (and blank row) above the header; bytes identical on every run."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet.cell(1, 1).font = Font(bold=True, size=14)
        sheet.cell(1, 1).alignment = Alignment(horizontal="center")
        if blank_row:
            sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append([typed(v, h) for v, h in zip(row, headers, strict=True)])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, float):
                cell.number_format = "0.000000"
    book.properties.creator = creator
    book.properties.created = dt.datetime(2026, 11, 30, 9, 0, 0)
    raw = io.BytesIO()
    book.save(raw)
    return stable_zip(raw.getvalue())


def stable_zip(data):
    """Rewrite an XLSX with fixed entry times and a fixed modification date, so reruns give the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + DOC_TIME.encode(), content)
            target.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


FILES = [
    # (file name, title, what it is)
    ("enterprises.csv", "企业名录 (docs/CONTRACT.md §4 enterprise columns), UTF-8"),
    ("market-penalties-national.csv", "市场监管 行政处罚, current national layout, UTF-8 with BOM"),
    ("market-penalties-national.xlsx", "the same rows as XLSX: merged title row, blank row, header variants"),
    ("ecology-penalties-2016.csv", "生态环境 行政处罚, the 2016 layout, GB18030"),
    ("work-safety-penalties-edited.csv", "安全生产 行政处罚, our own columns edited by hand, UTF-8 without BOM"),
    ("social-arrears-hrss.csv", "社保 arrears from 人社, UTF-8 with BOM"),
    ("social-arrears-tax.xlsx", "社保 arrears from 税务, XLSX"),
    ("enforcement-market.csv", "行政强制 (our layout), UTF-8 with BOM"),
    ("dishonest-list.xlsx", "严重失信主体名单 (our layout), XLSX with a merged title row"),
    ("criminal-judgments.csv", "刑事 单位犯罪 judgments (our layout), GB18030"),
]


def tables():
    """{file name: (headers, rows, first data row number)} for the row tables of MANIFEST.md."""
    market = market_rows()
    return {
        "market-penalties-national.csv": (NATIONAL, market, 2),
        "market-penalties-national.xlsx": (NATIONAL_XLSX, market, 4),
        "ecology-penalties-2016.csv": (LAYOUT_2016, ecology_rows(), 2),
        "work-safety-penalties-edited.csv": (EDITED, safety_rows(), 2),
        "social-arrears-hrss.csv": (ARREARS, hrss_rows(), 2),
        "social-arrears-tax.xlsx": (ARREARS, tax_rows(), 2),
        "enforcement-market.csv": (ENFORCEMENT, enforcement_rows(), 2),
        "dishonest-list.xlsx": (DISHONEST, dishonest_rows(), 3),
        "criminal-judgments.csv": (CRIMINAL, criminal_rows(), 2),
    }


def build():
    """{file name: bytes} of every data file."""
    market = [cells_in(NATIONAL, r) for r in market_rows()]
    return {
        "enterprises.csv": csv_bytes(REGISTER, register_rows(), "utf-8"),
        "market-penalties-national.csv": csv_bytes(NATIONAL, market, "utf-8-sig"),
        "market-penalties-national.xlsx": xlsx_bytes(NATIONAL_XLSX, market, title=XLSX_TITLE, blank_row=True),
        "ecology-penalties-2016.csv": csv_bytes(LAYOUT_2016, [cells_in(LAYOUT_2016, r) for r in ecology_rows()],
                                                "gb18030"),
        "work-safety-penalties-edited.csv": csv_bytes(EDITED, [cells_in(EDITED, r) for r in safety_rows()], "utf-8"),
        "social-arrears-hrss.csv": csv_bytes(ARREARS, [cells_in(ARREARS, r) for r in hrss_rows()], "utf-8-sig"),
        "social-arrears-tax.xlsx": xlsx_bytes(ARREARS, [cells_in(ARREARS, r) for r in tax_rows()],
                                              creator="国家税务总局黑河市税务局"),
        "enforcement-market.csv": csv_bytes(ENFORCEMENT, [cells_in(ENFORCEMENT, r) for r in enforcement_rows()],
                                            "utf-8-sig"),
        "dishonest-list.xlsx": xlsx_bytes(DISHONEST, [cells_in(DISHONEST, r) for r in dishonest_rows()],
                                          title=DISHONEST_TITLE, creator=CREDIT),
        "criminal-judgments.csv": csv_bytes(CRIMINAL, [cells_in(CRIMINAL, r) for r in criminal_rows()], "gb18030"),
    }


# ---- MANIFEST.md's generated part -----------------------------------------------------------------------------------

BEGIN, END = "<!-- rows: generated by make_fixtures.py; edit the script, not this block -->", "<!-- /rows -->"


def subject_of(row):
    """The subject a row names, for the tables."""
    cells = row.cells
    return (cells.get("行政相对人名称") or cells.get("单位名称") or cells.get("被告单位名称")
            or cells.get("被告人姓名") or "")


NUMBER_COLUMNS = ("行政处罚决定书文号", "行政强制决定书文号", "列入决定书文号", "案号")


def number_of(row):
    """The row's 文号 (or its months, for arrears) for the tables."""
    cells = row.cells
    for column in NUMBER_COLUMNS:
        if column in cells:
            return cells[column]
    return f"{cells['欠缴起始月份']}–{cells['欠缴截止月份']}"


def cell_text(text):
    return str(text).replace("|", "\\|")


def summary(rows):
    """The import summary lines a first load of these rows prints (held rows are stored, so counted as imported)."""
    kinds = [row.outcome.split()[0].rstrip(":;") for row in rows]
    rejected, skipped, held = kinds.count("rejected"), kinds.count("skipped"), kinds.count("held")
    imported = len(rows) - rejected - skipped
    return f"`imported {imported}, updated 0, rejected {rejected}` then `held {held}, skipped {skipped}, unchanged 0`"


def row_table(name, headers, rows, first):
    """One file's table: row number, subject, number, outcome, both rule sets, what the row tests."""
    lines = [f"#### `{name}` (header in row {first - 1}, data rows {first}–{first + len(rows) - 1})", "",
             f"First load prints {summary(rows)}.", "",
             "| row | 行政相对人 | 文号 / 月份 | outcome | heihe-2024 | ndrc-2025 | severity | what it tests |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for offset, row in enumerate(rows):
        values = [first + offset, subject_of(row), number_of(row) or "（空）", row.outcome, row.heihe, row.ndrc,
                  row.severity or "—", row.note]
        lines.append("| " + " | ".join(cell_text(v) for v in values) + " |")
    return lines


ID_COLUMNS = ("证件号码", "居民身份证号")


def personal_ids():
    """{居民身份证号码: {(file name, column)}} for every personal ID the files carry."""
    found = {}
    for name, (_headers, rows, _first) in tables().items():
        for row in rows:
            for column, value in row.cells.items():
                if value and any(word in column for word in ID_COLUMNS):
                    found.setdefault(value, set()).add((name, column))
    return found


def owners():
    """{居民身份证号码: whose}."""
    out = {s.rep_id_no: f"{s.rep}（{key} 的法定代表人/经营者）" for key, s in S.items()}
    for key, (name, parts) in PEOPLE.items():
        out.setdefault(person_id(*parts), f"{name}（{key}，自然人）")
    return out


def codes_table():
    """Every file, every subject with its USCC, and every personal ID that must never be stored."""
    lines = ["#### Files", "", "| file | what |", "| --- | --- |"]
    lines += [f"| `{name}` | {what} |" for name, what in FILES]
    lines += ["", "#### Subjects and their codes", "",
              "| key | 名称 (as departments send it) | 统一社会信用代码 | in enterprises.csv |",
                  "| --- | --- | --- | --- |"]
    for key, s in S.items():
        if not s.registered:
            where = "**no** (left out on purpose)"
        elif s.register_name:
            where = f"yes, as 「{s.register_name}」"
        else:
            where = "yes"
        lines.append(f"| {key} | {s.name} | `{s.code}` | {where} |")
    lines += ["", "Government bodies named in the files, with the USCC the files give them:", "",
              "| 机关 | 统一社会信用代码 |", "| --- | --- |"]
    lines += [f"| {name} | `{agency_code(name)}` |" for name in AUTHORITIES]
    lines += ["", "Personal IDs in the files: each is dropped on read and must be found in no table, log, message or "
              "signed snapshot (nor the names of the natural persons P1–P6):", "",
              "| 居民身份证号码 | whose | file: column |", "| --- | --- | --- |"]
    names = owners()
    for value, places in sorted(personal_ids().items()):
        where = "; ".join(f"`{f}`: {c}" for f, c in sorted(places))
        lines.append(f"| `{value}` | {names[value]} | {where} |")
    return lines


def manifest_block():
    """The generated part of MANIFEST.md."""
    lines = [BEGIN, ""]
    lines += codes_table()
    lines += ["", "#### `enterprises.csv` (header in row 1, data rows 2–16)", "",
              f"First load prints `imported {len(register_rows())}, updated 0, rejected 0` "
              "then `held 0, skipped 0, unchanged 0`."]
    for name, (headers, rows, first) in tables().items():
        lines += [""] + row_table(name, headers, rows, first)
    lines += ["", END]
    return "\n".join(lines)


def manifest_text(current):
    """MANIFEST.md with its generated block replaced."""
    start, stop = current.index(BEGIN), current.index(END) + len(END)
    return current[:start] + manifest_block() + current[stop:]


def outputs():
    """{path: bytes} of everything this script writes."""
    files = {HERE / name: data for name, data in build().items()}
    manifest = HERE / "MANIFEST.md"
    files[manifest] = manifest_text(manifest.read_text(encoding="utf-8")).encode("utf-8")
    return files


def _xlsx_parts(data):
    """An XLSX's members with their XML canonicalised: openpyxl serialises through lxml when it is installed (pyHanko
    brings it) and through the standard library otherwise, so the bytes differ while the workbook is the same."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: ET.canonicalize(book.read(name).decode("utf-8")) if name.endswith((".xml", ".rels"))
                else book.read(name) for name in book.namelist()}


def same_content(path, data):
    """True when the committed file at `path` holds what `data` holds (XLSX compared by content)."""
    if not path.exists():
        return False
    committed = path.read_bytes()
    if path.suffix == ".xlsx":
        return _xlsx_parts(committed) == _xlsx_parts(data)
    return committed == data


def main(argv):
    """Write the files, or with --check report those that differ from what the script makes."""
    stale = [path for path, data in outputs().items() if not same_content(path, data)]
    if "--check" in argv:
        for path in stale:
            print(f"differs: {path.name}")
        return 1 if stale else 0
    for path, data in outputs().items():
        path.write_bytes(data)
    print(f"wrote {len(outputs())} files ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
