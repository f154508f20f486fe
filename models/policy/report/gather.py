"""What one snapshot shows, fetched in a handful of set queries and grouped here: a report's data costs the same
number of statements however many domains it covers and records it finds (issue 14).

Each query asks for the enterprise and the period across every domain at once (the queries live beside their
tables: `FeedStatus.certified`, `PenaltyRecord.for_report`, `CreditRepair.for_report`,
`ArrearsRecord.for_report` and the 565号 kinds' `for_report`); the rules (models/policy/report/rules.py) then pick,
per domain or kind, what is shown and what is held. Each query runs once, when a part first needs it: a snapshot
under heihe-2024 never asks for the 565号 kinds.
"""

import datetime as dt
from functools import cached_property
from types import SimpleNamespace

from models.base import Prepared
from models.policy.report import feeds, rules
from models.tables.cases import Case
from models.tables.listings import LISTING_MODELS
from models.tables.records import VERIFIED, ArrearsRecord, CreditRepair, FeedStatus, PenaltyRecord
from models.tables.registry import ARREARS_KINDS, Domain

# The queries' SQL is built once per process (models.base.Prepared) from these stand-ins: (enterprise id, USCC,
# period start, period end), values no report asks for.
STANDINS = (-914_000_001, "\x00stand-in USCC", dt.date(1001, 1, 1), dt.date(1002, 2, 2))


def _prepared(build):
    """`build(enterprise, start, end)` as a Prepared taking (enterprise id, USCC, start, end)."""
    return Prepared(lambda i, uscc, start, end: build(SimpleNamespace(id=i, uscc=uscc), start, end), *STANDINS)


PENALTIES = _prepared(lambda e, start, end: PenaltyRecord.for_report(e, start, end,
                                                                     Case.objection_open(PenaltyRecord.id)))
REPAIRS = _prepared(CreditRepair.for_report)
ARREARS = _prepared(lambda e, start, end: ArrearsRecord.for_report(e, start, end, ARREARS_KINDS))
LISTED = {kind: _prepared(model.for_report) for kind, model in LISTING_MODELS.items()}
FEEDS = Prepared(FeedStatus.certified)
DOMAINS = Prepared(lambda: Domain.ordered(active_only=False))


class Facts:
    """The rows of one Scope (enterprise, period, rule set), each kind fetched once."""

    def __init__(self, scope):
        self.scope = scope
        self._listed = {}  # kind: (verified items, held items)
        self._values = (scope.enterprise.id, scope.enterprise.uscc, scope.start, scope.end)

    # ---- feeds ---------------------------------------------------------------------------------------------------

    @cached_property
    def feed_dates(self):
        return FeedStatus.dates_by_feed(FEEDS())

    def coverage(self, domain, kind):
        """Coverage of `kind` for `domain` (None: a kind without domains) over the scope's period."""
        dates = self.feed_dates.get((domain.id if domain is not None else None, kind), [])
        return feeds.judge(dates, self.scope.end, self.scope.today, self.scope.stale_days)

    # ---- penalties and repairs -----------------------------------------------------------------------------------

    @cached_property
    def _penalties(self):
        """{domain id: rows} of the records shown or held (each with `under_objection`)."""
        by_domain = {}
        for row in PENALTIES(*self._values):
            row.under_objection = bool(row.under_objection)  # SQLite answers 0 / 1
            by_domain.setdefault(row.domain_id, []).append(row)
        return by_domain

    def penalties(self, domain):
        """The domain's records that the report shows, by decision date."""
        return rules.shown_penalties(self._penalties.get(domain.id, ()), domain.id, self.scope.rule_set)

    def held_penalties(self, domain):
        """How many of the domain's records held for review might count."""
        return len(rules.held_penalties_in(self._penalties.get(domain.id, ()), domain.id, self.scope.rule_set))

    @cached_property
    def _repairs(self):
        return REPAIRS(*self._values)

    @cached_property
    def _latest_repairs(self):
        return rules.latest_repairs(self._repairs)

    def latest_repair(self, record_id):
        """The most recent repair of a shown record, or None."""
        return self._latest_repairs.get(record_id)

    def repairs(self):
        """The repairs the report lists (every domain: the snapshot keeps its chosen ones), by repair date."""
        return rules.shown_repairs(self._repairs, self.scope.start, self.scope.end)

    # ---- arrears -------------------------------------------------------------------------------------------------

    @cached_property
    def _arrears(self):
        return ARREARS(*self._values)

    def arrears(self, kind):
        """The verified rows of `kind` that existed in the period (each with its Department)."""
        return [a for a in self._arrears if a.kind == kind and a.review == VERIFIED]

    def held_arrears(self, kind):
        return sum(1 for a in self._arrears if a.kind == kind and a.review != VERIFIED)

    # ---- the 565号 kinds -----------------------------------------------------------------------------------------

    def listed(self, kind):
        """(verified items, held items) of a 565号 kind matching the period, unordered."""
        if kind not in self._listed:
            rows = LISTED[kind](*self._values)
            self._listed[kind] = ([r for r in rows if r.review == VERIFIED], [r for r in rows if r.review != VERIFIED])
        return self._listed[kind]


def chosen_domains(codes):
    """The domains of `codes` in the register's order (unknown codes left out), from one prepared query."""
    wanted = set(codes)
    return [d for d in DOMAINS() if d.code in wanted]


def facts_of(scope):
    """The scope's Facts: those `freeze` gathered for it, or (a part asked for alone) fetched afresh."""
    return scope.facts if scope.facts is not None else Facts(scope)
