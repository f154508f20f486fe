"""社保 and 公积金 arrears in a report: one item per debt, however many departments sent it.

社保 arrears of one enterprise are known to 人社 and to 税务 (which collects the contributions); each stores its own
row (the loaders' key includes the department). Rows of the same kind and months, with the same amount and the same
settlement, are one debt: one line, naming every source, counted once. Rows that disagree (another amount, one says
settled) are not merged: both are shown with their sources, so no disagreement is hidden.
"""

from models.policy.report.gather import facts_of
from models.policy.report.parts import COMPLETE, coverage_part, incomplete_clause, iso, money
from models.tables.registry import FUND_ARREARS, SOCIAL_ARREARS

ARREARS_LABELS = {SOCIAL_ARREARS: "社保欠缴", FUND_ARREARS: "公积金欠缴"}


def merged_items(records):
    """[(item, [record ids])] with rows of the same debt merged, in period order."""
    groups = {}
    for a in sorted(records, key=lambda a: (a.period_start, a.department_id, a.id)):
        key = (a.period_start, a.period_end, money(a.amount, 2), bool(a.settled))
        group = groups.setdefault(key, {"rows": [], "sources": []})
        group["rows"].append(a)
        if a.department.name not in group["sources"]:
            group["sources"].append(a.department.name)
    out = []
    for (start, end, amount, settled), group in groups.items():
        dates = [a.settled_on for a in group["rows"] if a.settled_on]
        item = {"period_start": start.isoformat(), "period_end": end.isoformat(), "amount": amount,
                "settled": settled, "settled_on": iso(max(dates)) if dates else None, "sources": group["sources"]}
        out.append((item, [a.id for a in group["rows"]]))
    return out


def arrears_part(scope, kind, shown_ids=None):
    """社保 or 公积金 arrears: coverage, statement and items (the ids of the rows shown appended to `shown_ids`)."""
    label = ARREARS_LABELS[kind]
    facts = facts_of(scope)
    coverage = scope.coverage(None, kind)
    merged = merged_items(facts.arrears(kind))
    if shown_ids is not None:
        for _item, ids in merged:
            shown_ids.extend(ids)
    items = [item for item, _ids in merged]
    held = facts.held_arrears(kind)
    return {
        "kind": kind,
        "label": label,
        "coverage": coverage_part(coverage),
        "statement": arrears_statement(label, coverage, items, held),
        "items": items,
    }


def arrears_statement(label, coverage, items, held=0):
    """The sentence printed for an arrears kind."""
    if held:
        found = f"查见该主体{label}记录{len(items)}条，另有" if items else "该主体有"
        return f"报告期内，{found}{held}条{label}记录正在核验，核验完成前本报告不能证明该主体{label}的完整情况。"
    if items:
        unsettled = sum(1 for i in items if not i["settled"])
        text = f"报告期内，查见该主体{label}记录{len(items)}条，其中尚未结清{unsettled}条"
        if coverage.state != COMPLETE:
            text += f"；{incomplete_clause(coverage, label)}"
        return text + "。"
    if coverage.state == COMPLETE:
        return f"报告期内，未查见该主体{label}记录。"
    return f"{incomplete_clause(coverage, label)}，本报告不能证明该主体有无{label}。"
