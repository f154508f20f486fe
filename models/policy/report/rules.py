"""The policy's rules as versioned rule sets: which records a report shows, chosen by the `RULE_SET` setting.

heihe-2024  黑河市实施方案（试行）: 违法记录 are 行政处罚 records in the 16 domains; penalties under 简易程序 and
            不予行政处罚 decisions do not count.
ndrc-2025   发改财金〔2025〕565号: every 行政处罚 counts, 简易程序 included; 不予行政处罚 still does not.

Common to both:
- only records that are active or repaired appear (withdrawn or corrected-away ones do not), and never records held
  for 核验; repaired records appear marked as repaired, with the repair;
- arrears appear when they existed at some time in the period: the arrears began on or before the period end and were
  unsettled, or settled on or after the period start (shown as settled, with the date). Arrears settled before the
  period began do not appear;
- repairs appear for records of the enterprise decided in the period, or when the repair itself is dated in it.
"""

from dataclasses import dataclass, field

from models.tables.records import (
    ACTIVE,
    NO_PENALTY,
    REPAIRED,
    SIMPLIFIED,
    VERIFIED,
    ArrearsRecord,
    CreditRepair,
    PenaltyRecord,
)

DEFAULT_VERSION = "heihe-2024"
COMMON_NOTES = [
    "已撤销的记录不列入报告；已完成信用修复的记录标注为“已修复”。",
    "欠缴信息列示报告期内存在的欠缴（含报告期内已补缴的，注明补缴日期）。",
]


class UnknownRuleSet(LookupError):
    """The configured RULE_SET names no known rule set."""


def is_no_penalty(record):
    """True for a 不予行政处罚 decision."""
    return (record.category or "").strip().startswith(NO_PENALTY)


@dataclass(frozen=True)
class RuleSet:
    version: str
    title: str
    count_simplified: bool
    notes: list = field(default_factory=list)

    def counts(self, record):
        """True when `record` is a 违法记录 under this rule set."""
        if is_no_penalty(record):
            return False
        return self.count_simplified or record.procedure != SIMPLIFIED


RULE_SETS = {
    "heihe-2024": RuleSet(
        version="heihe-2024",
        title="黑河市推行市场主体以专用信用报告替代有无违法记录证明实施方案（试行）",
        count_simplified=False,
        notes=["依据简易程序作出的行政处罚及不予行政处罚决定，不列入违法记录。", *COMMON_NOTES],
    ),
    "ndrc-2025": RuleSet(
        version="ndrc-2025",
        title="发改财金〔2025〕565号",
        count_simplified=True,
        notes=["行政处罚记录（含依简易程序作出的）列入违法记录；不予行政处罚决定不列入。", *COMMON_NOTES],
    ),
}


def get_rule_set(version=None, default=DEFAULT_VERSION):
    """The rule set named `version` (None → `default`, which callers take from the RULE_SET setting)."""
    name = version or default
    try:
        return RULE_SETS[name]
    except KeyError:
        raise UnknownRuleSet(f"unknown rule set {name!r}; known: {', '.join(sorted(RULE_SETS))}") from None


def report_penalties(enterprise, domain, start, end, rule_set):
    """The penalty records of `enterprise` in `domain` decided in [start, end] that count, repaired ones included."""
    query = (
        PenaltyRecord.select()
        .where(
            (PenaltyRecord.enterprise == enterprise)
            & (PenaltyRecord.domain == domain)
            & PenaltyRecord.decided_on.between(start, end)
            & PenaltyRecord.status.in_([ACTIVE, REPAIRED])
            & (PenaltyRecord.review == VERIFIED)
        )
        .order_by(PenaltyRecord.decided_on, PenaltyRecord.id)
    )
    return [record for record in query if rule_set.counts(record)]


def held_penalties(enterprise, domain, start, end, rule_set):
    """Records with this enterprise's USCC in `domain` and the period that would count but are held for 核验."""
    query = PenaltyRecord.select().where(
        (PenaltyRecord.uscc == enterprise.uscc)
        & (PenaltyRecord.domain == domain)
        & PenaltyRecord.decided_on.between(start, end)
        & PenaltyRecord.status.in_([ACTIVE, REPAIRED])
        & (PenaltyRecord.review != VERIFIED)
    )
    return [record for record in query if rule_set.counts(record)]


def report_arrears(enterprise, kind, start, end):
    """Arrears of `kind` that existed at some time in [start, end]: unsettled, or settled on or after `start`, or
    settled on a date nobody sent while its months reach into the period."""
    return list(
        ArrearsRecord.select()
        .where(
            (ArrearsRecord.enterprise == enterprise)
            & (ArrearsRecord.kind == kind)
            & (ArrearsRecord.period_start <= end)
            & (
                (ArrearsRecord.settled == False)  # noqa: E712
                | (ArrearsRecord.settled_on >= start)
                | (ArrearsRecord.settled_on.is_null() & (ArrearsRecord.period_end >= start))
            )
            & (ArrearsRecord.withdrawn == False)  # noqa: E712
            & (ArrearsRecord.review == VERIFIED)
        )
        .order_by(ArrearsRecord.period_start, ArrearsRecord.id)
    )


def report_repairs(enterprise, start, end):
    """Credit repairs of the enterprise's records decided in the period, or dated in it."""
    return list(
        CreditRepair.select(CreditRepair, PenaltyRecord)
        .join(PenaltyRecord)
        .where(
            (PenaltyRecord.enterprise == enterprise)
            & (PenaltyRecord.review == VERIFIED)
            & (PenaltyRecord.status == REPAIRED)
            & (PenaltyRecord.decided_on.between(start, end) | CreditRepair.repaired_on.between(start, end))
        )
        .order_by(CreditRepair.repaired_on, CreditRepair.id)
    )
