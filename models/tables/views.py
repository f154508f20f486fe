"""Verifiers' views of reports, written in batches from the verify page's Redis stream and kept VIEW_LOG_DAYS days."""

from peewee import CharField, DateTimeField, ForeignKeyField, TextField

from models.base import BaseModel, db, utcnow
from models.tables.accounts import Binding, WechatUser
from models.tables.reports import Report
from models.tables.requests import ReportRequest


class ViewLog(BaseModel):
    """One verifier's view of a report. Written in batches from the Redis stream the verify page appends to
    (jobs/views.py); `entry` is the stream entry's id, so a batch flushed twice is stored once."""

    report = ForeignKeyField(Report, backref="views", on_delete="CASCADE")
    at = DateTimeField(default=utcnow, index=True)
    unit = CharField(max_length=120, null=True)
    openid = CharField(max_length=64, null=True)
    ip = CharField(max_length=64, default="")
    user_agent = TextField(default="")
    entry = CharField(max_length=40, null=True, unique=True)

    @classmethod
    def log_many(cls, views):
        """Store views (dicts of report id, at, ip, user_agent, openid, unit, entry); an entry already stored is
        skipped. Returns how many were new."""
        rows = [dict(report=v["report"], at=v["at"], unit=v.get("unit"), openid=v.get("openid"), ip=v["ip"][:64],
                     user_agent=v["user_agent"][:1000], entry=v.get("entry")) for v in views]
        known = {e for (e,) in cls.select(cls.entry).where(cls.entry.in_([r["entry"] for r in rows if r["entry"]]))
                 .tuples()}
        fresh = [r for r in rows if r["entry"] is None or r["entry"] not in known]
        with db.atomic():
            for start in range(0, len(fresh), 500):
                cls.insert_many(fresh[start:start + 500]).on_conflict_ignore().execute()
        return len(fresh)

    @classmethod
    def name_unit(cls, view, since):
        """A verifier named their unit: it goes on the viewer's latest view of the report since `since` (a later
        statement corrects an earlier one), else it is a view of its own; never a new entry per statement. The
        viewer is their openid when OAuth told us, else their address (a User-Agent is the sender's choice).
        Applying the same statement twice changes nothing more. `view` as for log_many."""
        if view.get("entry") and cls.select().where(cls.entry == view["entry"]).exists():
            return 0
        viewer = (cls.openid == view["openid"]) if view.get("openid") else (cls.ip == view["ip"][:64])
        latest = (cls.select(cls.id).where((cls.report == view["report"]) & viewer & (cls.at >= since))
                  .order_by(cls.at.desc()).first())
        if latest is not None:
            return cls.update(unit=view["unit"]).where(cls.id == latest.id).execute()
        return cls.log_many([view])


    @classmethod
    def seen_by_owners(cls, start, end):
        """(view time, unit, viewer openid, report number, owner id, owner openid) of the views in [start, end),
        oldest first, for reports whose requester is still bound to the report's enterprise."""
        return list(
            cls.select(cls.at, cls.unit, cls.openid, Report.number, WechatUser.id, WechatUser.openid)
            .join(Report).join(ReportRequest).join(WechatUser)
            .join(Binding, on=((Binding.user == WechatUser.id) & (Binding.enterprise == Report.enterprise)))
            .where((cls.at >= start) & (cls.at < end) & Binding.revoked_at.is_null())
            .order_by(cls.at)
            .tuples())

    @classmethod
    def purge_before(cls, cutoff):
        """Delete the views older than `cutoff` (retention); return how many went."""
        with db.atomic():
            return cls.delete().where(cls.at < cutoff).execute()
