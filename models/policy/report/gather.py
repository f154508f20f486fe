"""What one snapshot shows, fetched in a handful of set queries and grouped here: a report's data costs the same
number of statements however many domains it covers and records it finds (issue 14).

Each query asks for the enterprise and the period across every domain at once (the queries live beside their
tables: `FeedStatus.certified_dates`, `PenaltyRecord.for_report`, `CreditRepair.for_report`,
`ArrearsRecord.for_report` and the 565号 kinds' `for_report`); the rules (models/policy/report/rules.py) then pick,
per domain or kind, what is shown and what is held. Each query runs once, when a part first needs it: a snapshot
under heihe-2024 never asks for the 565号 kinds.
"""

from functools import cached_property

from models.policy.report import feeds, rules
from models.tables.cases import Case
from models.tables.listings import LISTING_MODELS
from models.tables.records import VERIFIED, ArrearsRecord, CreditRepair, FeedStatus, PenaltyRecord
from models.tables.registry import ARREARS_KINDS


class Facts:
    """The rows of one Scope (enterprise, period, rule set), each kind fetched once."""

    def __init__(self, scope):
        self.scope = scope
        self._listed = {}  # kind: (verified items, held items)

    # ---- feeds ---------------------------------------------------------------------------------------------------

    @cached_property
    def feed_dates(self):
        return FeedStatus.certified_dates()

    def coverage(self, domain, kind):
        """Coverage of `kind` for `domain` (None: a kind without domains) over the scope's period."""
        dates = self.feed_dates.get((domain.id if domain is not None else None, kind), [])
        return feeds.judge(dates, self.scope.end, self.scope.today, self.scope.stale_days)

    # ---- penalties and repairs -----------------------------------------------------------------------------------

    @cached_property
    def _penalties(self):
        """{domain id: rows} of the records shown or held (each with `under_objection`)."""
        scope, by_domain = self.scope, {}
        rows = PenaltyRecord.for_report(scope.enterprise, scope.start, scope.end, Case.objection_open(PenaltyRecord.id))
        for row in rows:
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
        return CreditRepair.for_report(self.scope.enterprise, self.scope.start, self.scope.end)

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
        scope = self.scope
        return ArrearsRecord.for_report(scope.enterprise, scope.start, scope.end, ARREARS_KINDS)

    def arrears(self, kind):
        """The verified rows of `kind` that existed in the period (each with its Department)."""
        return [a for a in self._arrears if a.kind == kind and a.review == VERIFIED]

    def held_arrears(self, kind):
        return sum(1 for a in self._arrears if a.kind == kind and a.review != VERIFIED)

    # ---- the 565号 kinds -----------------------------------------------------------------------------------------

    def listed(self, kind):
        """(verified items, held items) of a 565号 kind matching the period, unordered."""
        if kind not in self._listed:
            scope = self.scope
            rows = LISTING_MODELS[kind].for_report(scope.enterprise, scope.start, scope.end)
            self._listed[kind] = ([r for r in rows if r.review == VERIFIED], [r for r in rows if r.review != VERIFIED])
        return self._listed[kind]


def facts_of(scope):
    """The scope's Facts: those `freeze` gathered for it, or (a part asked for alone) fetched afresh."""
    return scope.facts if scope.facts is not None else Facts(scope)
