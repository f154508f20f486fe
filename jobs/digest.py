"""The daily view digest: one message per report owner per day listing yesterday's views (time and unit only)."""

import datetime as dt
import logging
from collections import defaultdict

from jobs.delivery import queue_notice
from models.base import LOCAL_TZ, local_today, to_local
from models.tables.views import ViewLog

log = logging.getLogger(__name__)

MAX_LINES = 20


def send_view_digests(day=None):
    """Queue yesterday's (or `day`'s, ISO date) digest for every owner whose reports were viewed; return the count."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else (day or local_today() - dt.timedelta(days=1))
    queued = 0
    for user_id, views in views_by_owner(day).items():
        queue_notice(user_id, "view_digest", digest_facts(day, views), f"view-digest:{user_id}:{day.isoformat()}")
        queued += 1
    log.info("view digests for %s: %s owners", day, queued)
    return queued


def _utc_bounds(day):
    """The local (China) day as a naive-UTC half-open range."""
    start = dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(dt.UTC).replace(tzinfo=None)
    return start, start + dt.timedelta(days=1)


def views_by_owner(day):
    """{owner user id: [(local time, report number, unit)]} for views on `day`, the owner's own views left out.

    The owner is who requested the report, while still bound to its enterprise: someone who unbound (an employee who
    left) learns nothing more about who checks the company."""
    grouped = defaultdict(list)
    for at, unit, viewer, number, owner_id, owner_openid in ViewLog.seen_by_owners(*_utc_bounds(day)):
        if viewer and viewer == owner_openid:
            continue
        grouped[owner_id].append((to_local(at), number, unit))
    return grouped


def digest_facts(day, views):
    """The facts of one owner's digest: the day, the count, up to MAX_LINES (time, unit, number), the units."""
    return {"day": day.isoformat(), "count": len(views),
            "lines": [(f"{at:%H:%M}", unit, number) for at, number, unit in views[:MAX_LINES]],
            "more": max(len(views) - MAX_LINES, 0), "units": sorted({unit for _, _, unit in views if unit})}
