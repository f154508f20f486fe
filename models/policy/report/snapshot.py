"""The frozen content of a report (schema hegui.report/2): what was found, per domain, for the chosen period.

Plain functions over the models; the pipeline adds the number, token and signature and stores the result.

hegui.report/2 (issue 10) adds to /1: the title of the rule set; per record the facts the national standard carries
(违法事实, 处罚依据, 没收金额, 暂扣或吊销证照, 处罚有效期, 公示截止期 and whether publicity has ended, 处罚机关 and
数据来源单位 with their codes, 备注, 行政相对人类别, 程序类型, 失信程度 and its source); per arrears item its sources;
and, when the rule set covers them, `sections` for 行政强制, 严重失信主体名单 and 刑事. Reports of /1 stay readable:
the templates treat every added key as optional.
"""

from dataclasses import dataclass, field, replace

from models.base import utcnow
from models.policy.casework.severity import publicity_until, record_severity
from models.policy.report import feeds, gather
from models.policy.report.arrears import arrears_part
from models.policy.report.gather import Facts, facts_of
from models.policy.report.parts import COMPLETE, Scope, cn_date, coverage_part, incomplete_clause, iso, money
from models.policy.report.sections import section_parts
from models.tables.listings import ReportItem
from models.tables.records import REPAIRED
from models.tables.registry import FUND_ARREARS, PENALTY, SOCIAL_ARREARS
from models.tables.reports import Report, ReportArrears, ReportRecord, ReportRequest, live_changed

SCHEMA = "hegui.report/2"
__all__ = ["SCHEMA", "Frozen", "Scope", "SnapshotError", "cn_date", "freeze", "link_records", "supersede_older"]


class SnapshotError(ValueError):
    """The request cannot be turned into a report (unknown domain, empty period); not worth retrying."""


@dataclass
class Frozen:
    """A snapshot's data and the items it shows (for the links that mark the report when one is corrected)."""

    data: dict
    record_ids: list = field(default_factory=list)
    arrears_ids: list = field(default_factory=list)
    items: list = field(default_factory=list)  # (kind, id) of the 565号 kinds


def chosen_domains(codes):
    """The requested domains in the register's order; SnapshotError on an unknown code."""
    domains = gather.chosen_domains(codes)
    unknown = set(codes) - {d.code for d in domains}
    if unknown or not domains:
        raise SnapshotError(f"unknown or no domains: {sorted(unknown)}")
    return domains


def freeze(request, rule_set, header, today, stale_days=feeds.DEFAULT_STALE_DAYS):
    """Assemble the snapshot of ReportRequest `request`; `header` holds number, issuer, dates and verify URLs."""
    if request.period_start > request.period_end:
        raise SnapshotError("period starts after it ends")
    scope = Scope(request.enterprise, request.period_start, request.period_end, rule_set, today, stale_days)
    scope = replace(scope, facts=Facts(scope))  # every part reads the rows gathered once, in a few set queries
    frozen = Frozen(data={})
    chosen = chosen_domains(request.domains)
    domains = []
    for domain in chosen:
        part, ids = domain_part(scope, domain)
        domains.append(part)
        frozen.record_ids.extend(ids)
    frozen.data = {
        "schema": SCHEMA,
        "title": rule_set.title,
        **header,
        "enterprise": enterprise_part(scope.enterprise),
        "period": {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        "purpose": {"category": request.purpose_category, "text": request.purpose},
        "rule_set": {"version": rule_set.version, "source": rule_set.source, "notes": list(rule_set.notes)},
        "domains": domains,
        "arrears": [arrears_part(scope, kind, frozen.arrears_ids) for kind in (SOCIAL_ARREARS, FUND_ARREARS)],
        "repairs": repairs_part(scope, chosen),
    }
    if rule_set.sections:
        frozen.data["sections"] = section_parts(scope, chosen, frozen.items)
    return frozen


def enterprise_part(enterprise):
    """The enterprise's identity as printed."""
    return {
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "legal_rep": enterprise.legal_rep,
        "address": enterprise.address,
        "county": enterprise.county,
    }


def domain_part(scope, domain):
    """One domain: its coverage, statement and counted records; returns (part, record ids)."""
    facts = facts_of(scope)
    coverage = scope.coverage(domain, PENALTY)
    records = facts.penalties(domain)
    items = [record_part(r, r.under_objection, scope.today, facts.latest_repair(r.id)) for r in records]
    held = facts.held_penalties(domain)
    part = {
        "code": domain.code,
        "name": domain.name,
        "coverage": coverage_part(coverage),
        "statement": domain_statement(domain.name, coverage, items, held),
        "records": items,
    }
    return part, [r.id for r in records]


def record_part(record, under_objection, today, repair=None):
    """One counted penalty record as printed: what the department sent, its latest `repair` (a CreditRepair or
    None), and its state on `today`."""
    repair_part = {"decision_no": repair.decision_no, "repaired_on": repair.repaired_on.isoformat()} if repair else None
    severity = record_severity(record)
    until = publicity_until(record, severity)
    return {
        "id": record.id,
        "decision_no": record.decision_no,
        "subject_class": record.subject_class,
        "authority": record.authority,
        "authority_code": record.authority_code,
        "decided_on": record.decided_on.isoformat(),
        "violation_type": record.violation_type,
        "facts": record.facts,
        "basis": record.basis,
        "category": record.category,
        "content": record.content,
        "fine_wan": money(record.fine_wan, 4),
        "confiscated_wan": money(record.confiscated_wan, 4),
        "licence": record.licence,
        "valid_until": iso(record.valid_until),
        "publicity_until": until.isoformat(),
        "publicity_ended": until < today,
        "procedure": record.procedure,
        "severity": severity.level,
        "severity_source": severity.source,
        "source_unit": record.source_unit,
        "source_unit_code": record.source_unit_code,
        "remark": record.remark,
        "status": "repaired" if (repair or record.status == REPAIRED) else "active",
        "under_objection": under_objection,
        "repair": repair_part,
    }


def domain_statement(name, coverage, items, held=0):
    """The sentence printed for a domain; absence is certified only when its data is complete and nothing is held
    for review (a record whose name or USCC disagrees with the register may still be this enterprise's)."""
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
            text += f"；{incomplete_clause(coverage)}，此外的情况本报告不作说明"
        return text + "。"
    if coverage.state == COMPLETE:
        return f"报告期内，未查见该主体在{name}领域的违法记录。"
    return f"{incomplete_clause(coverage)}，本报告不能证明该主体在{name}领域有无违法记录。"


def repairs_part(scope, domains):
    """Credit repairs in the period of the enterprise's 违法记录 in the chosen `domains` (nothing outside the scope)."""
    names = {d.id: d.name for d in domains}
    repairs = [r for r in facts_of(scope).repairs()
               if r.record.domain_id in names and scope.rule_set.counts(r.record)]
    return [
        {
            "record_decision_no": r.record.decision_no,
            "domain": names[r.record.domain_id],
            "decision_no": r.decision_no,
            "repaired_on": r.repaired_on.isoformat(),
        }
        for r in repairs
    ]


def link_records(report, record_ids, arrears_ids=(), items=()):
    """Remember which records, arrears and 565号 items `report` shows, so a later correction marks it 数据已更正."""
    rows = [{"report": report.id, "record": record_id} for record_id in sorted(set(record_ids))]
    if rows:
        ReportRecord.insert_many(rows).execute()
    rows = [{"report": report.id, "arrears": arrears_id} for arrears_id in sorted(set(arrears_ids))]
    if rows:
        ReportArrears.insert_many(rows).execute()
    rows = [{"report": report.id, "kind": kind, "item_id": item_id} for kind, item_id in sorted(set(items))]
    if rows:
        ReportItem.insert_many(rows).execute()


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
    replaced = (
        (Report.enterprise == report.enterprise_id)
        & (Report.id != report.id)
        & Report.request.in_(same_purpose)
        & Report.revoked_at.is_null()
        & Report.superseded_by.is_null()
        & (Report.valid_until > utcnow())
    )
    ids = [report_id for (report_id,) in Report.select(Report.id).where(replaced).tuples()]
    if not ids:
        return 0
    done = Report.update(superseded_by=report.id).where(replaced & Report.id.in_(ids)).execute()
    live_changed(ids)
    return done
