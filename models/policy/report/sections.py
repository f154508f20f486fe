"""The report's sections for the content 发改财金〔2025〕565号 adds beyond penalties: 行政强制, 严重失信主体名单 and
刑事 (单位犯罪) judgments, printed when the rule set covers them (ndrc-2025).

In the period: a 行政强制 or a judgment decided inside it; a listing on the list at some time in it (列入日期 ≤ end, and
移出日期 blank or ≥ start). 行政强制 is sent per domain (each department its own), so its absence is certified only for
the chosen domains whose 行政强制 data is complete; the lists and the judgments have one feed each. As everywhere, a
held item that might be this enterprise's keeps the section from being certified clean.
"""

from models.policy.report.gather import facts_of
from models.policy.report.parts import COMPLETE, MISSING, coverage_part, incomplete_clause, iso, money
from models.tables.registry import CRIMINAL, DISHONEST_LIST, ENFORCEMENT

LABELS = {ENFORCEMENT: "行政强制", DISHONEST_LIST: "严重失信主体名单", CRIMINAL: "刑事判决（单位犯罪）"}
PARTIAL = "partial"
NAMED_DOMAINS = 3  # list the names of up to this many domains, else count them


def section_parts(scope, domains, shown):
    """The sections of `scope.rule_set`, in its order; (kind, id) of the items shown appended to `shown`."""
    build = {ENFORCEMENT: lambda: enforcement_part(scope, domains, shown),
             DISHONEST_LIST: lambda: dishonest_part(scope, shown), CRIMINAL: lambda: criminal_part(scope, shown)}
    return [build[kind]() for kind in scope.rule_set.sections]


def _common(item):
    return {"source_unit": item.source_unit, "source_unit_code": item.source_unit_code, "remark": item.remark}


# ---- 行政强制 -----------------------------------------------------------------------------------------------------

def enforcement_part(scope, domains, shown):
    """行政强制 decisions in the chosen domains decided in the period, with the coverage of each domain."""
    names = {d.id: d.name for d in domains}
    mine, held_items = facts_of(scope).listed(ENFORCEMENT)
    found = sorted((e for e in mine if e.domain_id in names), key=lambda e: (e.decided_on, e.id))
    held = sum(1 for e in held_items if e.domain_id in names)
    shown.extend((ENFORCEMENT, e.id) for e in found)
    items = [dict(_common(e), decision_no=e.decision_no, category=e.category, method=e.method, reason=e.reason,
                  basis=e.basis, target=e.target, amount_wan=money(e.amount_wan, 4), decided_on=iso(e.decided_on),
                  period_start=iso(e.period_start), period_end=iso(e.period_end), released_on=iso(e.released_on),
                  authority=e.authority, authority_code=e.authority_code, domain=names[e.domain_id]) for e in found]
    coverage = domains_coverage(scope, domains, ENFORCEMENT)
    return {"kind": ENFORCEMENT, "label": LABELS[ENFORCEMENT], "coverage": coverage,
            "statement": enforcement_statement(coverage, items, held), "items": items}


def domains_coverage(scope, domains, kind):
    """Coverage of a per-domain kind over the chosen domains: complete, partial (some), missing or stale."""
    states = [(d, scope.coverage(d, kind)) for d in domains]
    complete = [c.complete_until for _d, c in states if c.state == COMPLETE]
    incomplete = [d.name for d, c in states if c.state != COMPLETE]
    if not incomplete:
        state = COMPLETE
    elif complete:
        state = PARTIAL
    else:
        state = MISSING if all(c.state == MISSING for _d, c in states) else "stale"
    return {"state": state, "complete_until": min(complete).isoformat() if complete else None,
            "complete_domains": [d.name for d, c in states if c.state == COMPLETE], "incomplete_domains": incomplete}


def _domains_text(names, rest=False):
    if len(names) <= NAMED_DOMAINS:
        return "、".join(names) + "领域"
    return f"其余{len(names)}个领域" if rest else f"{len(names)}个领域"


def enforcement_statement(coverage, items, held):
    """The sentence printed for 行政强制."""
    label = LABELS[ENFORCEMENT]
    if held:
        found = f"查见该主体{label}记录{len(items)}条，另有" if items else "该主体有"
        return f"报告期内，{found}{held}条{label}记录正在核验，核验完成前本报告不能证明该主体{label}的完整情况。"
    missing = coverage["incomplete_domains"]
    gap = f"{_domains_text(missing, rest=bool(coverage['complete_domains']))}的{label}数据未归集或未覆盖完整报告期"
    if items:
        text = f"报告期内，查见该主体{label}记录{len(items)}条"
        return text + (f"；{gap}，此外的情况本报告不作说明。" if missing else "。")
    if not missing:
        return f"报告期内，未查见该主体{label}记录。"
    if coverage["complete_domains"]:
        return (f"报告期内，未查见该主体在{_domains_text(coverage['complete_domains'])}的{label}记录；{gap}，"
                f"本报告不能证明该主体在这些领域有无{label}记录。")
    return f"{label}数据未归集，本报告不能证明该主体有无{label}记录。"


# ---- 严重失信主体名单 and 刑事 ------------------------------------------------------------------------------------

def dishonest_part(scope, shown):
    """Listings the enterprise was on at some time in the period."""
    mine, held_items = facts_of(scope).listed(DISHONEST_LIST)
    found, held = sorted(mine, key=lambda d: (d.listed_on, d.id)), len(held_items)
    shown.extend((DISHONEST_LIST, d.id) for d in found)
    items = [dict(_common(d), list_name=d.list_name, unit=d.unit, unit_code=d.unit_code, decision_no=d.decision_no,
                  reason=d.reason, basis=d.basis, listed_on=iso(d.listed_on), removed_on=iso(d.removed_on),
                  removal_reason=d.removal_reason) for d in found]
    listed = sum(1 for i in items if not i["removed_on"] or i["removed_on"] > scope.today.isoformat())
    coverage = scope.coverage(None, DISHONEST_LIST)
    found_text = f"查见该主体被列入严重失信主体名单{len(items)}次，其中目前仍在列{listed}次"
    return {"kind": DISHONEST_LIST, "label": LABELS[DISHONEST_LIST], "coverage": coverage_part(coverage),
            "statement": _statement(coverage, items, held, found_text, "被列入严重失信主体名单"), "items": items}


def criminal_part(scope, shown):
    """Judgments against the enterprise as a unit, given in the period."""
    mine, held_items = facts_of(scope).listed(CRIMINAL)
    found, held = sorted(mine, key=lambda c: (c.judged_on, c.id)), len(held_items)
    shown.extend((CRIMINAL, c.id) for c in found)
    items = [dict(_common(c), case_no=c.case_no, cause=c.cause, court=c.court, court_code=c.court_code,
                  procedure=c.procedure, judged_on=iso(c.judged_on), effective_on=iso(c.effective_on),
                  result=c.result, fine_wan=money(c.fine_wan, 4)) for c in found]
    coverage = scope.coverage(None, CRIMINAL)
    found_text = f"查见该主体单位犯罪刑事判决记录{len(items)}条"
    return {"kind": CRIMINAL, "label": LABELS[CRIMINAL], "coverage": coverage_part(coverage),
            "statement": _statement(coverage, items, held, found_text, "单位犯罪刑事判决记录"), "items": items}


def _statement(coverage, items, held, found_text, absent):
    """The sentence of a one-feed section: found, held, absent, or not certified."""
    if held:
        head = f"{found_text}，另有" if items else "该主体有"
        return f"报告期内，{head}{held}条相关记录正在核验，核验完成前本报告不能证明该主体有无{absent}。"
    if items:
        gap = f"；{incomplete_clause(coverage, '相关')}，此外的情况本报告不作说明"
        tail = "" if coverage.state == COMPLETE else gap
        return f"报告期内，{found_text}{tail}。"
    if coverage.state == COMPLETE:
        return f"报告期内，未查见该主体{absent}。"
    return f"{incomplete_clause(coverage, '相关')}，本报告不能证明该主体有无{absent}。"
