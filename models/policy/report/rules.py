"""The policy's rules as versioned rule sets: which records a report shows, chosen by the `RULE_SET` setting.

heihe-2024  《黑河市推行市场主体以专用信用报告替代有无违法记录证明实施方案（试行）》 (the seed plan, in force locally,
            the default): 违法记录 are 行政处罚 records in the register's domains; 「对市场主体行为依据简易程序作出的
            行政处罚和已依法不予行政处罚的，不列入违法记录」. Title 市场主体专用信用报告.
ndrc-2025   发改财金〔2025〕565号: every 行政处罚 counts, 简易程序 included; 不予行政处罚 still does not; the report
            also covers 行政强制, 严重失信主体名单 and 刑事 (单位犯罪). Title 经营主体专项信用报告.

Common to both:
- a decision not to punish (不予行政处罚, however the department wrote it: see `is_no_penalty`) is never a 违法记录, and
  what is not a 违法记录 under the report's rule set does not appear on the report at all;
- a 违法记录 decided inside the period is always listed: marked 「已修复」 when repaired and 「公示期满」 when its
  publicity (《信用修复管理办法》令第36号) has ended — never dropped for either reason, since the report stands in for
  certificates of the *absence* of records;
- only records that are active or repaired appear (withdrawn or corrected-away ones do not), and never records held
  for staff review; a held record that might be a 违法记录 keeps its domain from being certified clean;
- arrears appear when they existed at some time in the period: the arrears began on or before the period end and were
  unsettled, or settled on or after the period start (shown as settled, with the date);
- repairs appear for records of the enterprise decided in the period, or when the repair itself is dated in it.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from models.tables.records import (
    HELD_IMPLAUSIBLE,
    REPAIRED,
    SIMPLIFIED,
    VERIFIED,
    ArrearsRecord,
    CreditRepair,
    PenaltyRecord,
)
from models.tables.registry import CRIMINAL, DISHONEST_LIST, ENFORCEMENT

DEFAULT_VERSION = "heihe-2024"
COMMON_NOTES = [
    "不予行政处罚决定（含首违不罚、轻微不罚）不列入违法记录。",
    "已撤销的记录不列入报告；报告期内的违法记录，已完成信用修复的标注「已修复」，公示期已满的标注「公示期满」，均不因此"
    "从报告中删除（公示期依《信用修复管理办法》（国家发展改革委令第36号），部门报送公示截止期的以其为准）。",
    "欠缴信息列示报告期内存在的欠缴（含报告期内已补缴的，注明补缴日期）；多个部门报送的同一笔欠缴合并为一条，注明各来源。",
    "正在核验的记录不列入报告，其所在领域在核验完成前不出具「未查见」结论。",
]
# 不予行政处罚 as departments write it: in 处罚类别 or 处罚内容, or 「不罚〔…〕」 in the 文号
# (docs/DATA-STANDARD.md §1.2).
NO_PENALTY_WORDS = ("不予行政处罚", "不予处罚", "首违不罚", "轻微不罚", "无过错不罚", "初次违法不罚")
NO_PENALTY_NUMBER = re.compile(r"不罚\s*[〔\[(【]|不予处罚")


class UnknownRuleSet(LookupError):
    """The configured RULE_SET names no known rule set."""


def is_no_penalty(record):
    """True for a decision not to punish, wherever the department wrote so (行政处罚法 第三十三条)."""
    return no_penalty_text(record.category, record.content, record.decision_no)


def no_penalty_text(category, content, decision_no):
    """is_no_penalty over the three texts (NFKC-folded for matching only)."""
    words = unicodedata.normalize("NFKC", f"{category or ''}\n{content or ''}")
    if any(word in words for word in NO_PENALTY_WORDS):
        return True
    return bool(NO_PENALTY_NUMBER.search(unicodedata.normalize("NFKC", decision_no or "")))


@dataclass(frozen=True)
class RuleSet:
    version: str
    title: str  # the report's title
    source: str  # the text the rule set applies
    count_simplified: bool
    sections: tuple = ()  # the 565号 kinds the report covers besides penalties and arrears
    notes: list = field(default_factory=list)

    def counts(self, record):
        """True when `record` is a 违法记录 under this rule set."""
        if is_no_penalty(record):
            return False
        return self.count_simplified or record.procedure != SIMPLIFIED

    def might_count(self, record):
        """True when a held `record` could be a 违法记录 once resolved: a 简易程序 label held under §51 may be false."""
        if is_no_penalty(record):
            return False
        doubtful = any(h["code"] == HELD_IMPLAUSIBLE for h in record.holds or ())
        return self.count_simplified or record.procedure != SIMPLIFIED or doubtful


RULE_SETS = {
    "heihe-2024": RuleSet(
        version="heihe-2024",
        title="市场主体专用信用报告（替代有无违法记录证明）",
        source="黑河市推行市场主体以专用信用报告替代有无违法记录证明实施方案（试行）",
        count_simplified=False,
        notes=["依据简易程序作出的行政处罚及不予行政处罚决定，不列入违法记录。", *COMMON_NOTES],
    ),
    "ndrc-2025": RuleSet(
        version="ndrc-2025",
        title="经营主体专项信用报告（替代有无违法违规记录证明）",
        source="发改财金〔2025〕565号",
        count_simplified=True,
        sections=(ENFORCEMENT, DISHONEST_LIST, CRIMINAL),
        notes=["行政处罚记录（含依简易程序作出的）列入违法记录；不予行政处罚决定不列入。",
               "报告同时列示行政强制、严重失信主体名单和刑事判决（单位犯罪）信息。", *COMMON_NOTES],
    ),
}


def get_rule_set(version=None, default=DEFAULT_VERSION):
    """The rule set named `version` (None → `default`, which callers take from the RULE_SET setting)."""
    name = version or default
    try:
        return RULE_SETS[name]
    except KeyError:
        raise UnknownRuleSet(f"unknown rule set {name!r}; known: {', '.join(sorted(RULE_SETS))}") from None


# Which of the rows gathered for a report (PenaltyRecord.for_report, ArrearsRecord.for_report, CreditRepair.for_report:
# the period and the enterprise are chosen there, in one query each) it shows or is held back by.

def shown_penalties(rows, domain_id, rule_set):
    """The verified records among `rows` in the domain that count, repaired ones included, by decision date."""
    found = [r for r in rows if r.domain_id == domain_id and r.review == VERIFIED and rule_set.counts(r)]
    return sorted(found, key=lambda r: (r.decided_on, r.id))


def held_penalties_in(rows, domain_id, rule_set):
    """The records among `rows` in the domain held for review (of the enterprise's USCC) that might count."""
    return [r for r in rows if r.domain_id == domain_id and r.review != VERIFIED and rule_set.might_count(r)]


def shown_repairs(repairs, start, end):
    """Repairs of repaired records decided in [start, end], or dated in it, by repair date."""
    found = [r for r in repairs if r.record.status == REPAIRED
             and (start <= r.record.decided_on <= end or start <= r.repaired_on <= end)]
    return sorted(found, key=lambda r: (r.repaired_on, r.id))


def latest_repairs(repairs):
    """{record id: its most recent repair} among `repairs`."""
    latest = {}
    for r in sorted(repairs, key=lambda r: (r.repaired_on, r.id)):
        latest[r.record_id] = r
    return latest


def report_penalties(enterprise, domain, start, end, rule_set):
    """The penalty records of `enterprise` in `domain` decided in [start, end] that count, repaired ones included."""
    return shown_penalties(PenaltyRecord.for_report(enterprise, start, end), domain.id, rule_set)


def held_penalties(enterprise, domain, start, end, rule_set):
    """Records with this enterprise's USCC in `domain` and the period, held for review, that might count."""
    return held_penalties_in(PenaltyRecord.for_report(enterprise, start, end), domain.id, rule_set)


def report_arrears(enterprise, kind, start, end):
    """Arrears of `kind` that existed at some time in [start, end]: unsettled, or settled on or after `start`, or
    settled on a date nobody sent while its months reach into the period."""
    rows = ArrearsRecord.for_report(enterprise, start, end, [kind])
    return sorted((a for a in rows if a.review == VERIFIED), key=lambda a: (a.period_start, a.id))


def held_arrears(enterprise, kind, start, end):
    """Arrears rows with this enterprise's USCC held for review whose months reach into the period."""
    return sum(1 for a in ArrearsRecord.for_report(enterprise, start, end, [kind]) if a.review != VERIFIED)


def report_repairs(enterprise, start, end):
    """Credit repairs of the enterprise's records decided in the period, or dated in it."""
    return shown_repairs(CreditRepair.for_report(enterprise, start, end), start, end)
