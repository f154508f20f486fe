"""申请报告: the form (domains, period, purpose) filled from whole sentences and corrected in plain words, then a
ReportRequest and the build job.

Whatever the owner writes at any step of this form is first read as a sentence (`bot.reading`): what it names is
taken, the later statement winning (「不对，改成近一年」「用途改成招投标」「领域再加上消防」), and only what is still
missing is asked. The numbered summary names the enterprise's valid reports for the same purpose that the new one
would replace (已被新报告替代): 「确认」 issues it and replaces them, 「保留」 issues it and keeps them valid. The other
owners bound to the enterprise who asked for a report it replaces are told.
"""

import datetime as dt
import hashlib

from bot import domains as domain_words
from bot import parse, purposes, texts
from bot.flows.base import CONFIRM, EnterpriseFormFlow, Slot, enterprise_header, enterprise_slot
from bot.periods import parse_period
from bot.reading import read_request
from jobs.delivery import enqueue_rows
from jobs.pipeline import enqueue_build
from models.base import to_local, transaction
from models.policy.report.present import cn_date
from models.tables.accounts import Binding
from models.tables.outbound import OutboundMessage
from models.tables.reports import Report
from models.tables.requests import QUEUED, ReportRequest
from runtime import current_trace_id


def _ask_domains(ctx):
    lines = [texts.APPLY_ASK_DOMAINS]
    lines += [f"{n}. {d.name}" for n, d in enumerate(ctx.domains, start=1)]
    return "\n".join(lines)


def _parse_domains(ctx, text):
    ctx.data["excluded"] = False
    return domain_words.parse_domains(text, ctx.domains)


def show_domains(ctx, codes):
    """The 领域 line: 全部, or the included domains by name."""
    if set(codes) >= {d.code for d in ctx.domains}:
        return texts.APPLY_ALL_DOMAINS.format(count=len(codes))
    names = {d.code: d.name for d in ctx.domains}
    return texts.APPLY_SOME_DOMAINS.format(names="、".join(names.get(c, c) for c in codes), count=len(codes))


def _parse_period(ctx, text):
    start, end = parse_period(text, ctx.today)
    return [start.isoformat(), end.isoformat()]


def _show_period(ctx, value):
    return texts.PERIOD_LINE.format(start=value[0], end=value[1])


def _ask_purpose(ctx):
    lines = [texts.APPLY_ASK_PURPOSE]
    number = 0
    for category, items in purposes.CATEGORIES:
        numbered = []
        for item in items:
            number += 1
            numbered.append(f"{number}.{item}")
        lines.append(texts.PURPOSE_GROUP.format(category=category, items=" ".join(numbered)))
    lines.append(texts.APPLY_PURPOSE_OTHER)
    return "\n".join(lines)


def _parse_purpose(ctx, text):
    return purposes.parse_purpose(text).as_slot()


def show_purpose(ctx, value):
    return purposes.Purpose(value["category"], value["text"]).label()


class ApplyFlow(EnterpriseFormFlow):
    name = "apply"
    title = "申请报告"
    keywords = ("申请报告",)
    aliases = ("开报告", "开证明", "申请信用报告", "开具报告", "要报告", "报告", "report", "apply", "new report",
               "apply for a report")
    menu_key = "REPORT_APPLY"
    help_line = "开具专用信用报告（可一句话说明领域、期间和用途）"
    slots = [
        enterprise_slot(),
        Slot("domains", "领域", _ask_domains, _parse_domains, show_domains),
        Slot("period", "期间", lambda ctx: texts.APPLY_ASK_PERIOD, _parse_period, _show_period),
        Slot("purpose", "用途", _ask_purpose, _parse_purpose, show_purpose),
    ]

    def start_with(self, ctx, reading, lead=""):
        """Begin with what a sentence named (the bot then asks only for the rest)."""
        reply = self.begin(ctx)
        if ctx.state is None:  # not bound: the precheck's answer
            return reply
        return self.take(ctx, reading, lead or texts.APPLY_FROM_SENTENCE)

    def on_text(self, ctx, text):
        step = ctx.state["step"]
        if step == "enterprise" or (step == "purpose" and purposes.names_other(parse.normalize(text))):
            return super().on_text(ctx, text)
        if step == CONFIRM and ctx.data.get("supersedes") and parse.is_keep(text):
            return self.complete(ctx, keep=True)
        reading = read_request(text, ctx.domains, ctx.today, current=ctx.slots)
        if reading.names_any():
            return self.take(ctx, reading)
        return super().on_text(ctx, text)

    def take(self, ctx, reading, lead=""):
        """Merge what the message names into the form (the later statement wins) and go on."""
        notes = [lead] if lead else []
        notes += [_not_a_domain(ctx, name) for name in reading.unknown]
        if reading.period_error:
            notes.append(reading.period_error)
        for name in ("domains", "period", "purpose"):
            if name in reading.slots:
                ctx.slots[name] = reading.slots[name]
        if "domains" in reading.slots:
            ctx.data["excluded"] = reading.exclusion
        return self.advance(ctx, "\n".join(notes))

    def summary(self, ctx):
        """The numbered summary; the domains left out on a line of their own; the reports it would replace."""
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        lines = [texts.SUMMARY_HEAD.format(title=self.title), *enterprise_header(ctx)]
        for number, slot in enumerate(self.editable_slots(ctx), start=1):
            lines.append(f"{number}. {slot.label}：{slot.show(ctx, ctx.slots[slot.name])}")
            if slot.name == "domains" and ctx.data.get("excluded"):
                left_out = [d.name for d in ctx.domains if d.code not in ctx.slots["domains"]]
                if left_out:
                    lines.append(texts.APPLY_EXCLUDED.format(names="、".join(left_out)))
        earlier = Report.valid_for_purpose(enterprise, ctx.slots["purpose"]["category"], ctx.slots["purpose"]["text"])
        ctx.data["supersedes"] = [r.id for r in earlier]
        if earlier:
            lines.append(texts.APPLY_SUPERSEDES.format(numbers="、".join(r.number for r in earlier)))
            lines.append(texts.APPLY_SUPERSEDE_FOOT)
        else:
            lines.append(texts.SUMMARY_FOOT)
        return "\n".join(lines)

    def complete(self, ctx, keep=False):
        """Create the ReportRequest once (per confirming message; not twice while one is being built); queue it; tell
        the other owners whose reports it replaces."""
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        values = request_values(ctx)
        ctx.state = None
        if ReportRequest.same_in_progress(ctx.user, enterprise, values, ctx.incoming.msg_key):
            return texts.APPLY_DUPLICATE
        earlier = [] if keep else Report.valid_for_purpose(enterprise, values["purpose_category"], values["purpose"])

        def record():
            request = ReportRequest.create_for_message(
                ctx.user, enterprise, ctx.incoming.msg_key, trace_id=current_trace_id(), keep_earlier=keep, **values)
            return request, _tell_replaced_owners(ctx, enterprise, request, earlier)

        request, notices = transaction(record)
        if request.status == QUEUED:
            enqueue_build(ctx.rt, request.id)
        enqueue_rows(notices)
        return texts.APPLY_QUEUED


def _not_a_domain(ctx, name):
    """「税务」不是报告可选的领域, with the nearest domains."""
    near = domain_words.nearest_names(name, ctx.domains)
    hint = texts.APPLY_NEAR_DOMAINS.format(names="、".join(near), first=near[0]) if near else ""
    return texts.APPLY_NOT_A_DOMAIN.format(name=parse.short(name, 8), near=hint)


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


def _tell_replaced_owners(ctx, enterprise, request, earlier):
    """Notices to the owners still bound to `enterprise` whose reports `request` will replace; their row ids."""
    owners = set(Binding.owners_of(enterprise, besides=ctx.user.id))
    config = ctx.rt.config
    purpose = purposes.Purpose(request.purpose_category, request.purpose).label()
    when = f"{cn_date(to_local(request.created_at))} {to_local(request.created_at):%H:%M}"
    ids = []
    for report in earlier:
        owner = report.issued_to()
        if owner not in owners:
            continue
        text = texts.APPLY_SUPERSEDE_NOTICE.format(
            name=enterprise.name, when=when, purpose=purpose, number=report.number, issuer=config["REPORT_ISSUER"],
            contact=config["GUIDE_CONTACT"] or texts.CONTACT_NONE)
        fields = {"thing1": "报告将被新报告替代", "thing2": enterprise.name[:20], "character_string3": report.number}
        ids.append(OutboundMessage.create_once(
            owner, "notice", {"text": text, "fields": fields, "url": None},
            f"supersede-notice:{request.id}:{report.id}").id)
    return ids


def message_digest(ctx):
    """A short, stable stand-in for the message id in dedup keys."""
    return hashlib.sha1(f"{ctx.user.id}:{ctx.incoming.msg_key}".encode()).hexdigest()[:16]
