"""我的报告 (list, details with the QR code sent again, revoke, who viewed) and 重发二维码."""

import datetime as dt
import hashlib

from bot import parse, purposes, texts
from bot.flows.base import FormFlow, NotBound, enterprise_setup, enterprise_slot
from bot.parse import ParseError
from jobs.delivery import queue_image
from models.base import to_local, utcnow
from models.policy.report.qr import qr_png
from models.tables.accounts import HandledMessage
from models.tables.reports import VALID, Report, report_status
from models.tables.requests import ReportRequest

LIST_SIZE = 5
VIEWS_SHOWN = 10
FAILED_SHOWN_DAYS = 7
LIST, REVOKE = "list", "revoke"


def _local_day(moment):
    return to_local(moment).strftime("%Y-%m-%d")


def link(ctx, report):
    """The report's verify page."""
    return f"{ctx.rt.config['PUBLIC_BASE_URL']}/v/{report.token}"


def _queue_qr(ctx, report):
    """Queue the report's QR code image to this user again (once per message: the key holds the message)."""
    digest = hashlib.sha1(f"{ctx.user.id}:{ctx.incoming.msg_key}".encode()).hexdigest()[:16]
    queue_image(ctx.user.id, qr_png(link(ctx, report)), f"report-qr-again-{report.id}-{digest}")


def resend_qr(ctx):
    """重发二维码: the active enterprise's newest valid report's QR code, sent again (once per message)."""
    if not ctx.bound:
        raise NotBound(texts.NEED_BINDING.format(title="重发二维码"))
    enterprise = ctx.bound[0]
    report = Report.latest_valid_for(enterprise)
    if report is None:
        return texts.QR_NONE.format(name=enterprise.name)

    def resend():
        _queue_qr(ctx, report)
        return texts.QR_RESENT.format(name=enterprise.name, number=report.number,
                                      valid_until=_local_day(report.valid_until), link=link(ctx, report))

    return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "resend_qr", resend)


class MyReportsFlow(FormFlow):
    """The active enterprise's recent reports by number: details and link (the QR code sent again), 撤销N,
    查看记录N."""

    name = "my_reports"
    title = "我的报告"
    keywords = ("我的报告",)
    aliases = ("查看报告", "报告列表", "我的报表", "撤销报告", "报告进度", "查询报告", "报告查询", "查验记录",
               "my report", "my reports")
    menu_key = "MY_REPORTS"
    help_line = "查看、撤销报告，重发二维码，查看谁查验过"
    confirm = False
    slots = [enterprise_slot()]

    def precheck(self, ctx):
        return None if ctx.bound else texts.NEED_BINDING.format(title=self.title)

    def setup(self, ctx, prefill):
        enterprise_setup(ctx)

    def complete(self, ctx):
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        reports = Report.recent_for(enterprise, LIST_SIZE)
        ctx.state["step"] = LIST
        ctx.data["reports"] = [r.id for r in reports]
        lines = [texts.MY_REPORTS_HEAD.format(name=enterprise.name) if reports else
                 texts.MY_REPORTS_NONE.format(name=enterprise.name)]
        for n, report in enumerate(reports, start=1):
            lines.append(texts.MY_REPORTS_ITEM.format(
                n=n, number=report.number, status=report_status(report),
                valid_until=_local_day(report.valid_until), link=link(ctx, report),
            ))
        lines += _requests_in_progress(enterprise)
        if not reports:
            ctx.state = None
        else:
            lines.append(texts.MY_REPORTS_FOOT)
        return "\n".join(lines)

    def prompt(self, ctx):
        if ctx.state["step"] == LIST:
            return texts.MY_REPORTS_FOOT
        if ctx.state["step"] == REVOKE:
            return texts.REVOKE_HOW
        return super().prompt(ctx)

    def back(self, ctx):
        if ctx.state["step"] == REVOKE:
            ctx.state["step"] = LIST
            ctx.data.pop("revoke", None)
            return texts.REVOKE_KEPT + "\n" + texts.MY_REPORTS_FOOT
        if ctx.state["step"] == LIST:
            ctx.slots.pop("enterprise", None)
            enterprise_setup(ctx)
            if "enterprise" in ctx.slots:
                return texts.FIRST_STEP + "\n" + texts.MY_REPORTS_FOOT
            return self.advance(ctx)
        return super().back(ctx)

    def on_text(self, ctx, text):
        step = ctx.state["step"]
        if step == REVOKE:
            return self.on_revoke_text(ctx, text)
        if step != LIST:
            return super().on_text(ctx, text)
        word = parse.command_word(text)
        for prefix, action in (("撤销", self.ask_revoke), ("查看记录", self.views), ("查验记录", self.views),
                               ("重发", self.detail), ("", self.detail)):
            if word.startswith(prefix):
                try:
                    report = self.pick(ctx, word[len(prefix):])
                except ParseError as error:
                    return error.message
                if report is not None:
                    return action(ctx, report)
        return self.not_understood(ctx, text, texts.REPORT_PICK)

    def pick(self, ctx, text):
        """The listed report numbered in `text`, re-checked to belong to a bound enterprise; None if no number."""
        ids = ctx.data["reports"]
        number = parse.parse_index(text, len(ids)) if text else None
        if number is None:
            return None
        report = Report.find(ids[number - 1])
        if report is None:
            raise NotBound(texts.NOT_BOUND_ANY)
        ctx.bound_enterprise(report.enterprise_id)
        return report

    def detail(self, ctx, report):
        """The report's details; a valid one's QR code is sent again (once per message)."""
        request = report.request
        status = report_status(report)

        def show(qr):
            return texts.REPORT_DETAIL.format(
                number=report.number, status=status,
                purpose=purposes.Purpose(request.purpose_category, request.purpose).label(),
                start=request.period_start, end=request.period_end,
                valid_until=_local_day(report.valid_until), link=link(ctx, report), qr=qr,
            )

        if status != VALID:
            return show(texts.REPORT_DETAIL_NO_QR)

        def resend():
            _queue_qr(ctx, report)
            return show(texts.REPORT_DETAIL_QR)

        return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "resend_qr", resend)

    def views(self, ctx, report):
        """Who checked the report: time and unit only (never openids or addresses)."""
        count, recent = report.recent_views(VIEWS_SHOWN)
        if not count:
            return texts.VIEWS_NONE.format(number=report.number)
        lines = [texts.VIEWS_HEAD.format(number=report.number, count=count)]
        lines += [f"{to_local(at):%m-%d %H:%M} {unit or texts.VIEWS_UNIT_UNKNOWN}" for at, unit in recent]
        return "\n".join(lines)

    def ask_revoke(self, ctx, report):
        if report.revoked_at:
            return texts.REVOKE_ALREADY.format(number=report.number)
        ctx.state["step"] = REVOKE
        ctx.data["revoke"] = report.id
        return texts.REVOKE_ASK.format(number=report.number)

    def on_revoke_text(self, ctx, text):
        if parse.yes_no(text) is not True:
            return texts.REVOKE_HOW
        report = Report.find(ctx.data.pop("revoke"))
        if report is None:
            raise NotBound(texts.NOT_BOUND_ANY)
        ctx.bound_enterprise(report.enterprise_id)
        ctx.state["step"] = LIST

        def revoke():
            report.revoke()
            return texts.REVOKE_DONE.format(number=report.number)

        return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "revoke", revoke)


def _requests_in_progress(enterprise):
    """Lines about requests still being built, and recent failures."""
    lines = []
    building = ReportRequest.in_progress_for(enterprise)
    if building:
        lines.append(texts.MY_REPORTS_BUILDING.format(count=building))
    failed = ReportRequest.failed_since(enterprise, utcnow() - dt.timedelta(days=FAILED_SHOWN_DAYS))
    if failed:
        lines.append(texts.MY_REPORTS_FAILED.format(count=len(failed), when=_local_day(failed[0].created_at)))
    return lines
