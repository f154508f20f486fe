"""Retention: views of reports are kept VIEW_LOG_DAYS days (180 by default), then deleted by a periodic job."""

import datetime as dt
import logging

from models.base import utcnow
from models.tables.views import ViewLog
from runtime import current

log = logging.getLogger(__name__)


def purge_view_logs(days=None):
    """Delete ViewLog rows older than `days` (default VIEW_LOG_DAYS); return how many went."""
    keep = int(days if days is not None else current().config["VIEW_LOG_DAYS"])
    cutoff = utcnow() - dt.timedelta(days=keep)
    deleted = ViewLog.purge_before(cutoff)
    log.info("purged %s view log rows older than %s days", deleted, keep)
    return deleted
