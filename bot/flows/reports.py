"""申请报告 (a ReportRequest, then the build job) and 我的报告 (list, details, revoke, who viewed)."""

import datetime as dt

from peewee import IntegrityError

from bot import parse, texts
from bot.flows.base import EnterpriseFormFlow, FormFlow, Slot, enterprise_setup, enterprise_slot
from bot.parse import ParseError
from jobs.pipeline import enqueue_build
from models.base import db, to_local, utcnow
from models.tables.accounts import HandledMessage
from models.tables.reports import BUILDING, FAILED, QUEUED, Report, ReportRequest, ViewLog, report_status
from runtime import current_trace_id

LIST_SIZE = 5
VIEWS_SHOWN = 10
FAILED_SHOWN_DAYS = 7


# --- slots of 申请报告: values are JSON (codes, ISO dates, {"category", "text"}) -------------------------


def _ask_domains(ctx):
    lines = [texts.APPLY_ASK_DOMAINS]
    lines += [f"{n}. {d.name}" for n, d in enumerate(ctx.domains, start=1)]
    return "\n".join(lines)


def _parse_domains(ctx, text):
    return parse.parse_domains(text, ctx.domains)


def _show_domains(ctx, codes):
    if set(codes) >= {d.code for d in ctx.domains}:
        return texts.APPLY_ALL_DOMAINS.format(count=len(codes))
    names = {d.code: d.name for d in ctx.domains}
    return "、".join(names.get(code, code) for code in codes)


def _parse_period(ctx, text):
    start, end = parse.parse_period(text, ctx.today)
    return [start.isoformat(), end.isoformat()]


def _show_period(ctx, value):
    return f"{value[0]} 至 {value[1]}"


def _ask_purpose(ctx):
    lines = [texts.APPLY_ASK_PURPOSE]
    number = 0
    for category, items in parse.PURPOSE_CATEGORIES:
        numbered = []
        for item in items:
            number += 1
            numbered.append(f"{number}.{item}")
        lines.append(f"【{category}】" + " ".join(numbered))
    lines.append(texts.APPLY_PURPOSE_OTHER)
    return "\n".join(lines)


def _parse_purpose(ctx, text):
    purpose = parse.parse_purpose(text)
    return {"category": purpose.category, "text": purpose.text}


def _show_purpose(ctx, value):
    return parse.Purpose(value["category"], value["text"]).label()


class ApplyFlow(EnterpriseFormFlow):
    name = "apply"
    title = "申请报告"
    slots = [
        enterprise_slot(),
        Slot("domains", "领域", _ask_domains, _parse_domains, _show_domains),
        Slot("period", "期间", lambda ctx: texts.APPLY_ASK_PERIOD, _parse_period, _show_period),
        Slot("purpose", "用途", _ask_purpose, _parse_purpose, _show_purpose),
    ]

    def extract(self, ctx, text):
        return sentence_slots(ctx, text)

    def complete(self, ctx):
        """Create the ReportRequest once (per confirming message; not twice while one is being built); queue it."""
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        values = request_values(ctx)
        ctx.state = None
        if _same_request_in_progress(ctx, enterprise, values):
            return texts.APPLY_DUPLICATE
        request = _create_request(ctx, enterprise, values)
        if request.status == QUEUED:
            enqueue_build(ctx.rt, request.id)
        return texts.APPLY_QUEUED


def sentence_slots(ctx, text):
    """申请报告's slots found in one sentence, as slot values (ParseError when a named period is wrong)."""
    found = parse.extract_report_slots(text, ctx.domains, ctx.today)
    slots = {}
    if "domains" in found:
        slots["domains"] = found["domains"]
    if "period" in found:
        slots["period"] = [d.isoformat() for d in found["period"]]
    if "purpose" in found:
        slots["purpose"] = {"category": found["purpose"].category, "text": found["purpose"].text}
    return slots


def request_values(ctx):
    """The ReportRequest fields from the filled slots."""
    start, end = (dt.date.fromisoformat(v) for v in ctx.slots["period"])
    return {
        "domains": ctx.slots["domains"],
        "period_start": start,
        "period_end": end,
        "purpose_category": ctx.slots["purpose"]["category"],
        "purpose": ctx.slots["purpose"]["text"],
    }


def _same_request_in_progress(ctx, enterprise, values):
    """True when this user already has the identical request queued or building (another message)."""
    query = ReportRequest.select().where(
        (ReportRequest.user == ctx.user)
        & (ReportRequest.enterprise == enterprise)
        & ReportRequest.status.in_([QUEUED, BUILDING])
        & (ReportRequest.msg_key != ctx.incoming.msg_key)
        & (ReportRequest.period_start == values["period_start"])
        & (ReportRequest.period_end == values["period_end"])
        & (ReportRequest.purpose_category == values["purpose_category"])
        & (ReportRequest.purpose == values["purpose"])
    )
    return any(sorted(r.domains) == sorted(values["domains"]) for r in query)


def _create_request(ctx, enterprise, values):
    """The row for this confirming message: created once; a repeat of the message finds the first one."""
    try:
        with db.atomic():
            return ReportRequest.create(
                user=ctx.user, enterprise=enterprise, msg_key=ctx.incoming.msg_key, trace_id=current_trace_id(),
                **values,
            )
    except IntegrityError:
        return ReportRequest.get((ReportRequest.user == ctx.user) & (ReportRequest.msg_key == ctx.incoming.msg_key))


def start_from_sentence(ctx, text):
    """A sentence that asks for a report: 申请报告 with what it names filled in (a wrong period is said first)."""
    try:
        prefill = sentence_slots(ctx, text)
    except ParseError as error:
        prefill = None
        lead = error.message
    else:
        lead = texts.APPLY_FROM_SENTENCE
    reply = ApplyFlow().begin(ctx, prefill)
    return f"{lead}\n{reply}" if ctx.state else reply


# --- 我的报告 -------------------------------------------------------------------------------------------

LIST, REVOKE = "list", "revoke"


def _local_day(moment):
    return to_local(moment).strftime("%Y-%m-%d")


def _link(ctx, report):
    return f"{ctx.rt.config['PUBLIC_BASE_URL']}/v/{report.token}"


class MyReportsFlow(FormFlow):
    """The active enterprise's recent reports by number: details and link, 撤销N, 查看记录N."""

    name = "my_reports"
    title = "我的报告"
    confirm = False
    slots = [enterprise_slot()]

    def precheck(self, ctx):
        return None if ctx.bound else texts.NEED_BINDING.format(title=self.title)

    def setup(self, ctx, prefill):
        enterprise_setup(ctx)

    def complete(self, ctx):
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        reports = list(
            Report.select().where(Report.enterprise == enterprise).order_by(Report.issued_at.desc()).limit(LIST_SIZE)
        )
        ctx.state["step"] = LIST
        ctx.data["reports"] = [r.id for r in reports]
        lines = [texts.MY_REPORTS_HEAD.format(name=enterprise.name) if reports else
                 texts.MY_REPORTS_NONE.format(name=enterprise.name)]
        for n, report in enumerate(reports, start=1):
            lines.append(texts.MY_REPORTS_ITEM.format(
                n=n, number=report.number, status=report_status(report),
                valid_until=_local_day(report.valid_until), link=_link(ctx, report),
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
        for prefix, action in (("撤销", self.ask_revoke), ("查看记录", self.views), ("", self.detail)):
            if word.startswith(prefix):
                try:
                    report = self.pick(ctx, word[len(prefix):])
                except ParseError as error:
                    return error.message
                if report is not None:
                    return action(ctx, report)
        return texts.REPORT_PICK

    def pick(self, ctx, text):
        """The listed report numbered in `text`, re-checked to belong to a bound enterprise; None if no number."""
        ids = ctx.data["reports"]
        number = parse.parse_index(text, len(ids)) if text else None
        if number is None:
            return None
        report = Report.get_by_id(ids[number - 1])
        ctx.bound_enterprise(report.enterprise_id)
        return report

    def detail(self, ctx, report):
        request = report.request
        return texts.REPORT_DETAIL.format(
            number=report.number, status=report_status(report),
            purpose=parse.Purpose(request.purpose_category, request.purpose).label(),
            start=request.period_start, end=request.period_end,
            valid_until=_local_day(report.valid_until), link=_link(ctx, report),
        )

    def views(self, ctx, report):
        """Who checked the report: time and unit only (never openids or addresses)."""
        query = ViewLog.select(ViewLog.at, ViewLog.unit).where(ViewLog.report == report)
        count = query.count()
        if not count:
            return texts.VIEWS_NONE.format(number=report.number)
        lines = [texts.VIEWS_HEAD.format(number=report.number, count=count)]
        for view in query.order_by(ViewLog.at.desc()).limit(VIEWS_SHOWN):
            lines.append(f"{to_local(view.at):%m-%d %H:%M} {view.unit or texts.VIEWS_UNIT_UNKNOWN}")
        return "\n".join(lines)

    def ask_revoke(self, ctx, report):
        if report.revoked_at:
            return texts.REVOKE_ALREADY.format(number=report.number)
        ctx.state["step"] = REVOKE
        ctx.data["revoke"] = report.id
        return texts.REVOKE_ASK.format(number=report.number)

    def on_revoke_text(self, ctx, text):
        if parse.command_word(text) not in parse.CONFIRM_WORDS:
            return texts.REVOKE_HOW
        report = Report.get_by_id(ctx.data.pop("revoke"))
        ctx.bound_enterprise(report.enterprise_id)
        ctx.state["step"] = LIST

        def revoke():
            Report.update(revoked_at=utcnow()).where((Report.id == report.id) & Report.revoked_at.is_null()).execute()
            return texts.REVOKE_DONE.format(number=report.number)

        return HandledMessage.run_once(ctx.user.id, ctx.incoming.msg_key, "revoke", revoke)


def _requests_in_progress(enterprise):
    """Lines about requests still being built, and recent failures."""
    lines = []
    building = (
        ReportRequest.select()
        .where((ReportRequest.enterprise == enterprise) & ReportRequest.status.in_([QUEUED, BUILDING]))
        .count()
    )
    if building:
        lines.append(texts.MY_REPORTS_BUILDING.format(count=building))
    since = utcnow() - dt.timedelta(days=FAILED_SHOWN_DAYS)
    failed = list(
        ReportRequest.select()
        .where((ReportRequest.enterprise == enterprise) & (ReportRequest.status == FAILED)
               & (ReportRequest.created_at >= since))
        .order_by(ReportRequest.created_at.desc())
    )
    if failed:
        lines.append(texts.MY_REPORTS_FAILED.format(count=len(failed), when=_local_day(failed[0].created_at)))
    return lines
