"""Feed status: when each department's data arrived and the date it is complete up to (数据截至).

A department declares, with every file or API push, that its data of that kind is complete up to `as_of` for every
domain it is granted (a file with no rows for a domain still says "nothing else up to as_of" — this is how "no record"
becomes certifiable). Domains for which the load rejected rows do not advance: a rejected row is missing data (and
a rejected row whose domain could not be told, e.g. an unknown 领域, holds back every domain of the load).
`complete_until` never moves backwards (re-sending old data with an earlier as_of keeps the later date).

Coverage of a (domain, kind) for a report period:
- "missing":  no department holding that grant has ever loaded it (no FeedStatus row with a complete_until);
- "complete": the earliest complete_until of the feeds that exist is ≥ min(period_end, today − stale_days):
              for a period ending recently we can only certify absence up to 数据截至, which the report prints,
              and a feed refreshed within `stale_days` counts as current;
- "stale":    feeds exist but are older than that.
With several departments feeding one (domain, kind) the earliest date wins: absence is certified only as far as
every feed reaches.
"""

import datetime as dt
from dataclasses import dataclass

from models.base import db, local_today, utcnow
from models.tables.records import FeedStatus

COMPLETE = "complete"
STALE = "stale"
MISSING = "missing"
DEFAULT_STALE_DAYS = 45


@dataclass(frozen=True)
class Coverage:
    state: str
    complete_until: dt.date | None


def record_load(department, kind, domain_ids, as_of, loaded_at=None):
    """Mark a load of `kind` by `department` for `domain_ids` (None for arrears kinds), complete up to `as_of`."""
    loaded_at = loaded_at or utcnow()
    with db.atomic():
        for domain_id in domain_ids:
            feed, created = FeedStatus.get_or_create(
                department=department, domain=domain_id, kind=kind,
                defaults={"last_loaded_at": loaded_at, "complete_until": as_of},
            )
            if not created:
                feed.last_loaded_at = loaded_at
                if as_of and (feed.complete_until is None or as_of > feed.complete_until):
                    feed.complete_until = as_of
                feed.save()


def touch_load(department, kind, domain_ids, loaded_at=None):
    """Record that data arrived without advancing 数据截至 (a load with rejected rows for these domains)."""
    loaded_at = loaded_at or utcnow()
    with db.atomic():
        for domain_id in domain_ids:
            feed, created = FeedStatus.get_or_create(
                department=department, domain=domain_id, kind=kind, defaults={"last_loaded_at": loaded_at},
            )
            if not created:
                feed.last_loaded_at = loaded_at
                feed.save()


def coverage(domain, kind, period_end, today=None, stale_days=DEFAULT_STALE_DAYS):
    """Coverage(state, complete_until) of `kind` data for `domain` (None: arrears) for a period ending `period_end`."""
    dates = FeedStatus.certified_dates().get((getattr(domain, "id", domain), kind), [])
    return judge(dates, period_end, today, stale_days)


def judge(dates, period_end, today=None, stale_days=DEFAULT_STALE_DAYS):
    """Coverage from the complete_until `dates` of the feeds of one (domain, kind) (FeedStatus.certified_dates)."""
    if not dates:
        return Coverage(MISSING, None)
    complete_until = min(dates)
    today = today or local_today()
    threshold = min(period_end, today - dt.timedelta(days=stale_days))
    return Coverage(COMPLETE if complete_until >= threshold else STALE, complete_until)
