"""Which procedure a penalty was decided under, and whether a 简易程序 label can be true.

The national layout has no 程序类型 column: the procedure shows in the 文号 (简罚, 当场) or the 备注 (简易程序,
当场作出), else it is the 普通程序. Where 程序类型 is given, departments write 普通程序, 一般程序, 普通, 简易程序, 简易.

《中华人民共和国行政处罚法》(2021) 第五十一条: a penalty may be decided on the spot only when it is a 警告, or a fine
of at most 200 元 for a citizen or 3,000 元 for a legal person or other organisation. 个体工商户 are natural persons
(《民法典》第五十四条): the 200 元 bound applies to them (USCC beginning 92, or 行政相对人类别 个体工商户);
农民专业合作社 (93…) are organisations. A row labelled 简易程序 outside these bounds is a data error, not a 简易程序
decision: it is held for staff review with the reason (docs/DATA-STANDARD.md §2).
"""

import re
import unicodedata
from decimal import Decimal

from models.policy.ingestion.cells import RowRejected
from models.policy.ingestion.formats import text
from models.tables.records import HELD_IMPLAUSIBLE, ORDINARY, SIMPLIFIED

PROCEDURE_WORDS = {"普通程序": ORDINARY, "一般程序": ORDINARY, "普通": ORDINARY, "一般": ORDINARY,
                   "简易程序": SIMPLIFIED, "简易": SIMPLIFIED, "当场处罚": SIMPLIFIED}
NUMBER_MARKERS = ("简罚", "当场")
REMARK_MARKERS = ("简易程序", "当场作出", "当场处罚")
ALLOWED = {"警告", "罚款"}
CATEGORY_SPLIT = re.compile(r"[;；,，、/\s]+")
CITIZEN_BOUND, ORGANISATION_BOUND = Decimal(200), Decimal(3000)  # 元
INDIVIDUAL = "个体工商户"


def categories(category):
    """The kinds of penalty named in a 处罚类别 cell (罚款;没收违法所得 → [罚款, 没收违法所得])."""
    folded = unicodedata.normalize("NFKC", category or "")
    return [c for c in CATEGORY_SPLIT.split(folded) if c]


def procedure_of(row, decision_no, remark, column="程序类型"):
    """(procedure, marker): the 程序类型 cell when given, else what the 文号 (its matching key will do) or 备注 show;
    the marker says where a 简易程序 was read from, for a reason a person reads."""
    given = text(row.get(column))
    if given:
        procedure = PROCEDURE_WORDS.get(given)
        if procedure is None:
            raise RowRejected(column, f"“{given}”无法识别，应为普通程序或简易程序")
        return procedure, "程序类型为简易程序" if procedure == SIMPLIFIED else ""
    for word in NUMBER_MARKERS:
        if word in decision_no:
            return SIMPLIFIED, f"标为简易程序（文号“{word}”）"
    if not remark:
        return ORDINARY, ""
    folded = unicodedata.normalize("NFKC", remark)
    for word in REMARK_MARKERS:
        if word in folded:
            shown = remark if len(remark) <= 12 else word
            return SIMPLIFIED, f"标为简易程序（备注“{shown}”）"
    return ORDINARY, ""


def individual(subject_class, code):
    """True for a 个体工商户 (a natural person under 民法典 第五十四条)."""
    return INDIVIDUAL in (subject_class or "") or (code or "").startswith("92")


def implausible(marker, category, fine_wan, is_individual):
    """The reason a 简易程序 label cannot be true under 第五十一条, or None."""
    other = next((c for c in categories(category) if c not in ALLOWED), None)
    if other:
        return f"{marker}，但处罚种类含{other}，简易程序只能给予警告或罚款（行政处罚法第五十一条）"
    if fine_wan is None:
        return None
    yuan = (fine_wan * 10000).normalize()
    bound = CITIZEN_BOUND if is_individual else ORGANISATION_BOUND
    if yuan > bound:
        whom, law = ("个体工商户", "公民") if is_individual else ("单位", "法人")
        return (f"{marker}，但对{whom}罚款{yuan:f}元，超过行政处罚法第五十一条对{law}{bound}元的上限")
    return None


def plausibility_hold(procedure, marker, category, fine_wan, subject_class, code):
    """[the §51 hold] for a 简易程序 row beyond its bounds, else []."""
    if procedure != SIMPLIFIED:
        return []
    reason = implausible(marker, category, fine_wan, individual(subject_class, code))
    return [{"code": HELD_IMPLAUSIBLE, "reason": reason}] if reason else []
