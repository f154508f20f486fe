"""异议申诉 and 信用修复: pick one of the enterprise's records, give the reason and photos, confirm, open the case.

Photos arrive as WeChat media ids; fetching them is slow (an outbound call), so the case is opened with placeholder
StoredBlob rows named `wechat-media:<media_id>` (open_case needs the 信用承诺书's blob id at once) and
`jobs.media.fetch_case_evidence` fills their content afterwards.
"""

from bot import parse, texts
from bot.flows.base import (
    EnterpriseFormFlow,
    Slot,
    enterprise_slot,
    show_photos,
)
from bot.parse import ParseError
from jobs.media import enqueue_case_evidence, placeholder_blob
from jobs.notices import case_opened
from models.base import transaction
from models.policy.casework.cases import CaseError, NotEligible, check_repair_eligibility, open_case, records_for_case
from models.policy.report.present import cn_date
from models.tables.cases import OBJECTION, REPAIR_REQUEST, Case
from models.tables.records import PenaltyRecord

REASON_MIN, REASON_MAX = 5, 500


def _record_line(record):
    return f"{record.decided_on:%Y-%m-%d} {record.authority} {record.decision_no}"


def _ask_record(ctx):
    flow = ctx.flow
    lines = [texts.CASE_ASK_RECORD.format(title=flow.title)]
    for n, record in enumerate(PenaltyRecord.in_order(ctx.data["records"]), start=1):
        lines.append(texts.CASE_RECORD_LINE.format(
            n=n, date=f"{record.decided_on:%Y-%m-%d}", authority=record.authority, decision_no=record.decision_no,
        ))
    return "\n".join(lines)


def _parse_record(ctx, text):
    ids = ctx.data["records"]
    number = parse.parse_index(text, len(ids))
    if number is None:
        raise ParseError(texts.CASE_PICK_RECORD.format(count=len(ids)))
    record = PenaltyRecord.find(ids[number - 1])
    if ctx.flow.kind == REPAIR_REQUEST:
        try:
            check_repair_eligibility(record, ctx.today)
        except NotEligible as error:
            raise ParseError(texts.CASE_NOT_ELIGIBLE.format(reason=error.message)) from None
    return record.id


def _show_record(ctx, value):
    return _record_line(PenaltyRecord.find(value))


def _parse_fulfilled(ctx, text):
    answer = parse.yes_no(text)
    if answer is True:
        return True
    if answer is False:
        raise ParseError(texts.CASE_NOT_FULFILLED)
    raise ParseError(texts.CASE_YES_NO)


def _ask_reason(ctx):
    return texts.CASE_ASK_REASON.format(title=ctx.flow.title, example=ctx.flow.example)


def _parse_reason(ctx, text):
    reason = (text or "").strip()
    if len(parse.normalize(reason)) < REASON_MIN:
        raise ParseError(texts.CASE_REASON_SHORT.format(example=ctx.flow.example))
    if len(reason) > REASON_MAX:
        raise ParseError(texts.CASE_REASON_LONG)
    return reason


def _show_reason(ctx, value):
    return parse.short(value, 30)


def _is_repair(ctx):
    return ctx.flow.kind == REPAIR_REQUEST


class CaseFlow(EnterpriseFormFlow):
    """The shared form of 异议申诉 and 信用修复."""

    kind = ""
    example = ""
    slots = [
        enterprise_slot(),
        Slot("record", "处罚记录", _ask_record, _parse_record, _show_record),
        Slot("fulfilled", "处罚已履行", lambda ctx: texts.CASE_ASK_FULFILLED, _parse_fulfilled,
             lambda ctx, v: "是", needed=_is_repair),
        Slot("reason", "理由", _ask_reason, _parse_reason, _show_reason, free_text=True),
        Slot("commitment", "信用承诺书", lambda ctx: texts.CASE_ASK_COMMITMENT, show=show_photos, images=True,
             needed=_is_repair),
        Slot("evidence", "证明材料", lambda ctx: texts.CASE_ASK_EVIDENCE, show=show_photos, images=True, optional=True),
    ]

    def advance(self, ctx, lead=""):
        """Before asking for the record, list the enterprise's records; none → say so and end."""
        if "enterprise" in ctx.slots and "record" not in ctx.slots:
            enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
            ctx.data["records"] = [r.id for r in records_for_case(enterprise, self.kind)]
            if not ctx.data["records"]:
                ctx.state = None
                return texts.CASE_NO_RECORDS.format(name=enterprise.name, title=self.title)
        return super().advance(ctx, lead)

    def complete(self, ctx):
        enterprise = ctx.bound_enterprise(ctx.slots["enterprise"])
        record = PenaltyRecord.find(ctx.slots["record"])
        msg_key = ctx.incoming.msg_key
        case = Case.for_message(msg_key)
        if case is None:
            try:
                case = self.open(ctx, enterprise, record, msg_key)
            except CaseError as error:
                ctx.state = None
                return error.message
        ctx.state = None
        return texts.CASE_OPENED.format(title=self.title, number=case.number, deadline=cn_date(case.deadline))

    def open(self, ctx, enterprise, record, msg_key):
        """Open the case with placeholder blobs for the photos; queue fetching them and the department's notice."""
        commitment = ctx.slots.get("commitment") or []
        evidence = commitment[1:] + ctx.slots.get("evidence", [])

        def open_with_blobs():
            blobs = {m: placeholder_blob(m) for m in commitment + evidence}
            case = open_case(
                self.kind, ctx.user, enterprise, record, ctx.slots["reason"], msg_key,
                evidence_blob_ids=[blobs[m].id for m in evidence],
                commitment_blob_id=blobs[commitment[0]].id if commitment else None,
                penalty_fulfilled=ctx.slots.get("fulfilled"), settings=ctx.rt.config, today=ctx.today,
            )
            return case, blobs

        case, blobs = transaction(open_with_blobs)
        if blobs:
            enqueue_case_evidence(ctx.rt, case.id, list(blobs))
        case_opened(ctx.rt, case.id)
        return case


class ObjectionFlow(CaseFlow):
    name = "objection"
    title = "异议申诉"
    keywords = ("异议申诉",)
    aliases = ("异议", "申诉", "我要申诉", "objection", "appeal")
    menu_key = "OBJECTION"
    help_line = "认为处罚记录有误时提出"
    kind = OBJECTION
    example = texts.OBJECTION_EXAMPLE


class RepairFlow(CaseFlow):
    name = "repair"
    title = "信用修复"
    keywords = ("信用修复",)
    aliases = ("修复", "修复信用", "credit repair", "repair")
    menu_key = "REPAIR"
    help_line = "已履行处罚后申请修复"
    kind = REPAIR_REQUEST
    example = texts.REPAIR_EXAMPLE
