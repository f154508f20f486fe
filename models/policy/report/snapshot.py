"""The frozen content of a report (schema hegui.report/1): what was found, per domain, for the chosen period.

Plain functions over the models; the pipeline adds the number, token and signature and stores the result.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from models.base import utcnow
from models.policy.report import feeds, rules
from models.tables.cases import OBJECTION, OPEN_STATES, Case
from models.tables.records import REPAIRED, CreditRepair
from models.tables.registry import FUND_ARREARS, PENALTY, SOCIAL_ARREARS, Domain
from models.tables.reports import Report, ReportArrears, ReportRecord, ReportRequest

SCHEMA = "hegui.report/1"
TITLE = "市场主体专用信用报告（替代有无违法记录证明）"
ARREARS_LABELS = {SOCIAL_ARREARS: "社保欠缴", FUND_ARREARS: "公积金欠缴"}
COMPLETE, STALE = feeds.COMPLETE, feeds.STALE


class SnapshotError(ValueError):
    """The request cannot be turned into a report (unknown domain, empty period); not worth retrying."""


@dataclass
class Frozen:
    """A snapshot's data and the penalty records and arrears items it shows (for the links to the report)."""

    data: dict
    record_ids: list = field(default_factory=list)
    arrears_ids: list = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """What a snapshot is taken of: the enterprise, the period, the rules, and the day coverage is judged on."""

    enterprise: object
    start: object
    end: object
    rule_set: object
    today: object
    stale_days: int = feeds.DEFAULT_STALE_DAYS


def cn_date(value):
    """A date (or ISO date string) as 2026年11月27日."""
    text = value if isinstance(value, str) else value.isoformat()
    year, month, day = text[:10].split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def chosen_domains(codes):
    """The requested domains in the seed's order; SnapshotError on an unknown code."""
    domains = list(Domain.select().where(Domain.code.in_(list(codes))).order_by(Domain.position))
    unknown = set(codes) - {d.code for d in domains}
    if unknown or not domains:
        raise SnapshotError(f"unknown or no domains: {sorted(unknown)}")
    return domains


def freeze(request, rule_set, header, today, stale_days=feeds.DEFAULT_STALE_DAYS):
    """Assemble the snapshot of ReportRequest `request`; `header` holds number, issuer, dates and verify URLs."""
    if request.period_start > request.period_end:
        raise SnapshotError("period starts after it ends")
    scope = Scope(request.enterprise, request.period_start, request.period_end, rule_set, today, stale_days)
    domains, record_ids, arrears_ids = [], [], []
    chosen = chosen_domains(request.domains)
    for domain in chosen:
        part, ids = domain_part(scope, domain)
        domains.append(part)
        record_ids.extend(ids)
    data = {
        "schema": SCHEMA,
        "title": TITLE,
        **header,
        "enterprise": enterprise_part(scope.enterprise),
        "period": {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        "purpose": {"category": request.purpose_category, "text": request.purpose},
        "rule_set": {"version": rule_set.version, "notes": list(rule_set.notes)},
        "domains": domains,
        "arrears": [arrears_part(scope, kind, arrears_ids) for kind in (SOCIAL_ARREARS, FUND_ARREARS)],
        "repairs": repairs_part(scope, chosen),
    }
    return Frozen(data=data, record_ids=record_ids, arrears_ids=arrears_ids)


def enterprise_part(enterprise):
    """The enterprise's identity as printed."""
    return {
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "legal_rep": enterprise.legal_rep,
        "address": enterprise.address,
        "county": enterprise.county,
    }


def coverage_part(coverage):
    """Coverage as JSON."""
    until = coverage.complete_until
    return {"state": coverage.state, "complete_until": until.isoformat() if until else None}


def domain_part(scope, domain):
    """One domain: its coverage, statement and counted records; returns (part, record ids)."""
    coverage = feeds.coverage(domain, PENALTY, scope.end, today=scope.today, stale_days=scope.stale_days)
    records = rules.report_penalties(scope.enterprise, domain, scope.start, scope.end, scope.rule_set)
    objected = records_under_objection([r.id for r in records])
    items = [record_part(r, r.id in objected) for r in sorted(records, key=lambda r: (r.decided_on, r.id))]
    held = len(rules.held_penalties(scope.enterprise, domain, scope.start, scope.end, scope.rule_set))
    part = {
        "code": domain.code,
        "name": domain.name,
        "coverage": coverage_part(coverage),
        "statement": domain_statement(domain.name, coverage, items, held),
        "records": items,
    }
    return part, [r.id for r in records]


def records_under_objection(record_ids):
    """Ids among `record_ids` with an open objection case (异议处理中)."""
    if not record_ids:
        return set()
    query = (
        Case.select(Case.record)
        .where(Case.record.in_(record_ids))
        .where(Case.kind == OBJECTION)
        .where(Case.status.in_(OPEN_STATES))
    )
    return {case.record_id for case in query}


def latest_repair(record):
    """The most recent CreditRepair of a record, or None."""
    return (
        CreditRepair.select()
        .where(CreditRepair.record == record)
        .order_by(CreditRepair.repaired_on.desc(), CreditRepair.id.desc())
        .first()
    )


def money(value, places):
    """A Decimal as a fixed-point string, or None."""
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places)))


def record_part(record, under_objection):
    """One counted penalty record as printed."""
    repair = latest_repair(record)
    repair_part = {"decision_no": repair.decision_no, "repaired_on": repair.repaired_on.isoformat()} if repair else None
    return {
        "id": record.id,
        "decision_no": record.decision_no,
        "authority": record.authority,
        "decided_on": record.decided_on.isoformat(),
        "violation_type": record.violation_type,
        "category": record.category,
        "content": record.content,
        "fine_wan": money(record.fine_wan, 4),
        "status": "repaired" if (repair or record.status == REPAIRED) else "active",
        "under_objection": under_objection,
        "repair": repair_part,
    }


def _incomplete_clause(coverage):
    """Why absence is not certified: 数据未归集, or 数据截至 a date."""
    if coverage.state == STALE and coverage.complete_until:
        return f"该领域数据截至{cn_date(coverage.complete_until)}，未覆盖完整报告期"
    return "该领域数据未归集"


def domain_statement(name, coverage, items, held=0):
    """The sentence printed for a domain; absence is certified only when its data is complete and nothing is held
    for 核验 (a record whose name or USCC disagrees with the register may still be this enterprise's)."""
    if held:
        found = f"查见该主体在{name}领域的违法记录{len(items)}条，另有" if items else "该主体在"
        found += f"{held}条记录正在核验" if items else f"{name}领域有{held}条记录正在核验"
        return f"报告期内，{found}，核验完成前本报告不能证明该主体在{name}领域的完整情况。"
    if items:
        repaired = sum(1 for i in items if i["status"] == "repaired")
        objected = sum(1 for i in items if i["under_objection"])
        text = f"报告期内，查见该主体在{name}领域的违法记录{len(items)}条"
        text += f"，其中已完成信用修复{repaired}条" if repaired else ""
        text += f"，异议处理中{objected}条" if objected else ""
        if coverage.state != COMPLETE:
            text += f"；{_incomplete_clause(coverage)}，此外的情况本报告不作说明"
        return text + "。"
    if coverage.state == COMPLETE:
        return f"报告期内，未查见该主体在{name}领域的违法记录。"
    return f"{_incomplete_clause(coverage)}，本报告不能证明该主体在{name}领域有无违法记录。"


def arrears_part(scope, kind, shown_ids=None):
    """社保 or 公积金 arrears: coverage, statement and items (their ids appended to `shown_ids`)."""
    label = ARREARS_LABELS[kind]
    coverage = feeds.coverage(None, kind, scope.end, today=scope.today, stale_days=scope.stale_days)
    found = rules.report_arrears(scope.enterprise, kind, scope.start, scope.end)
    records = sorted(found, key=lambda a: (a.period_start, a.id))
    if shown_ids is not None:
        shown_ids.extend(a.id for a in records)
    items = [
        {
            "period_start": a.period_start.isoformat(),
            "period_end": a.period_end.isoformat(),
            "amount": money(a.amount, 2),
            "settled": bool(a.settled),
            "settled_on": a.settled_on.isoformat() if a.settled_on else None,
        }
        for a in records
    ]
    return {
        "kind": kind,
        "label": label,
        "coverage": coverage_part(coverage),
        "statement": arrears_statement(label, coverage, items),
        "items": items,
    }


def arrears_statement(label, coverage, items):
    """The sentence printed for an arrears kind."""
    if items:
        unsettled = sum(1 for i in items if not i["settled"])
        text = f"报告期内，查见该主体{label}记录{len(items)}条，其中尚未结清{unsettled}条"
        if coverage.state != COMPLETE:
            text += f"；{_incomplete_clause(coverage).replace('该领域', label)}"
        return text + "。"
    if coverage.state == COMPLETE:
        return f"报告期内，未查见该主体{label}记录。"
    return f"{_incomplete_clause(coverage).replace('该领域', label)}，本报告不能证明该主体有无{label}。"


def repairs_part(scope, domains):
    """Credit repairs in the period of the enterprise's 违法记录 in the chosen `domains` (nothing outside the scope)."""
    domain_ids = {d.id for d in domains}
    found = [
        r for r in rules.report_repairs(scope.enterprise, scope.start, scope.end)
        if r.record.domain_id in domain_ids and scope.rule_set.counts(r.record)
    ]
    repairs = sorted(found, key=lambda r: (r.repaired_on, r.id))
    return [
        {
            "record_decision_no": r.record.decision_no,
            "domain": r.record.domain.name,
            "decision_no": r.decision_no,
            "repaired_on": r.repaired_on.isoformat(),
        }
        for r in repairs
    ]


def link_records(report, record_ids, arrears_ids=()):
    """Remember which penalty records and arrears items `report` shows, so a later correction marks it 数据已更正."""
    rows = [{"report": report.id, "record": record_id} for record_id in sorted(set(record_ids))]
    if rows:
        ReportRecord.insert_many(rows).execute()
    rows = [{"report": report.id, "arrears": arrears_id} for arrears_id in sorted(set(arrears_ids))]
    if rows:
        ReportArrears.insert_many(rows).execute()


def supersede_older(report):
    """Mark the enterprise's older valid reports for the same purpose 已被新报告替代 by `report` (none when the owner
    chose 「保留」: `request.keep_earlier`)."""
    request = report.request
    if request.keep_earlier:
        return 0
    same_purpose = ReportRequest.select(ReportRequest.id).where(
        (ReportRequest.enterprise == request.enterprise_id)
        & (ReportRequest.purpose_category == request.purpose_category)
        & (ReportRequest.purpose == request.purpose)
    )
    query = Report.update(superseded_by=report.id).where(
        (Report.enterprise == report.enterprise_id)
        & (Report.id != report.id)
        & Report.request.in_(same_purpose)
        & Report.revoked_at.is_null()
        & Report.superseded_by.is_null()
        & (Report.valid_until > utcnow())
    )
    return query.execute()
