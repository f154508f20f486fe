"""What the parts of a snapshot share: the scope it is taken of, dates and amounts as printed, coverage as JSON."""

from dataclasses import dataclass, field
from decimal import Decimal

from models.policy.report import feeds

COMPLETE, STALE, MISSING = feeds.COMPLETE, feeds.STALE, feeds.MISSING


@dataclass(frozen=True)
class Scope:
    """What a snapshot is taken of: the enterprise, the period, the rules, and the day coverage is judged on; `facts`
    the rows `freeze` gathered for it (models/policy/report/gather.py), None for a part asked for alone."""

    enterprise: object
    start: object
    end: object
    rule_set: object
    today: object
    stale_days: int = feeds.DEFAULT_STALE_DAYS
    facts: object = field(default=None, compare=False, repr=False)

    def coverage(self, domain, kind):
        if self.facts is not None:
            return self.facts.coverage(domain, kind)
        return feeds.coverage(domain, kind, self.end, today=self.today, stale_days=self.stale_days)


def cn_date(value):
    """A date (or ISO date string) as 2026年11月27日."""
    text = value if isinstance(value, str) else value.isoformat()
    year, month, day = text[:10].split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def iso(value):
    """A date as ISO text, or None."""
    return value.isoformat() if value else None


def money(value, places):
    """A Decimal as a fixed-point string, or None."""
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places)))


def coverage_part(coverage):
    """Coverage as JSON."""
    until = coverage.complete_until
    return {"state": coverage.state, "complete_until": until.isoformat() if until else None}


def incomplete_clause(coverage, subject="该领域"):
    """Why absence is not certified: 数据未归集, or 数据截至 a date."""
    if coverage.state == STALE and coverage.complete_until:
        return f"{subject}数据截至{cn_date(coverage.complete_until)}，未覆盖完整报告期"
    return f"{subject}数据未归集"
