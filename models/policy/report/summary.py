"""What a verifier reads first: the conclusion in one or two lines, the notes, how to object and whom to call.

Computed from the snapshot alone, so the PDF and the verify page say the same thing (used by `present.view`). Absence
is never stated for data that is missing or stale: those domains are named in the same line.
"""

from dataclasses import dataclass

from models.policy.report.present import LIST_SECTIONS, chinese_ordinal, cn_date, redact, section_raw, sections


@dataclass(frozen=True)
class Notice:
    """The live, unsigned part printed beside the snapshot: the contact and the objection deadline."""

    contact: str
    objection_days: int


def notice_for(config):
    """GUIDE_CONTACT and the objection deadline from the configuration."""
    return Notice(contact=config.get("GUIDE_CONTACT") or "", objection_days=config["CASE_DEADLINE_OBJECTION_DAYS"])


def _names(parts):
    return "、".join(p.get("name") or p.get("label") or "" for p in parts)


def _incomplete(parts):
    """「城市管理数据未归集」 and 「园林绿化数据截至2026年6月30日」 clauses (stale ones grouped by date)."""
    missing = [p for p in parts if (p.get("coverage") or {}).get("state", "missing") == "missing"
               or not (p.get("coverage") or {}).get("complete_until")]
    stale = {}
    for p in parts:
        cov = p.get("coverage") or {}
        if cov.get("state") == "stale" and cov.get("complete_until"):
            stale.setdefault(cov["complete_until"], []).append(p)
    clauses = [f"{_names(missing)}数据未归集"] if missing else []
    clauses += [f"{_names(group)}数据截至{cn_date(until)}" for until, group in sorted(stale.items())]
    return clauses


def domains_line(snapshot):
    """「16个领域：3个领域查见违法记录共5条（已修复1条）；城市管理数据未归集；园林绿化数据截至2026年6月30日」."""
    domains = snapshot.get("domains") or []
    hit = [d for d in domains if d.get("records")]
    records = [r for d in hit for r in d["records"]]
    if hit:
        found = f"{len(hit)}个领域查见违法记录共{len(records)}条"
        repaired = sum(1 for r in records if r.get("status") == "repaired" or r.get("repair"))
        objected = sum(1 for r in records if r.get("under_objection"))
        extra = [f"已修复{repaired}条"] * bool(repaired) + [f"异议处理中{objected}条"] * bool(objected)
        found += f"（其中{'，'.join(extra)}）" if extra else ""
    else:
        found = "未查见违法记录"
    held = [d for d in domains if d.get("held")]
    clauses = [found] + [f"{d['name']}有{d['held']}条记录正在核验" for d in held] + _incomplete(domains)
    return f"{len(domains)}个领域：" + "；".join(clauses) + "。"


def _count_clause(name, part_list, unit, unsettled=False):
    """「社保欠缴1项（未结清1项）」, 「行政强制未查见」, or the incomplete-data clause."""
    items = [i for p in part_list for i in p.get("items") or []]
    if items:
        text = f"{name}{len(items)}{unit}"
        if unsettled:
            open_items = sum(1 for i in items if not i.get("settled"))
            text += f"（未结清{open_items}{unit}）" if open_items else "（均已结清）"
        return [text] + _incomplete(part_list)
    return _incomplete(part_list) or [f"{name}未查见"]


def others_line(snapshot):
    """Arrears, the 565号 sections and repairs in counts, one line."""
    clauses = []
    for part in snapshot.get("arrears") or []:
        clauses += _count_clause(part.get("label", ""), [part], "项", unsettled=True)
    for key, (title, _, _) in LIST_SECTIONS.items():
        raw = section_raw(snapshot, key)
        if raw is not None:
            clauses += _count_clause(title, [raw] if isinstance(raw, dict) else list(raw or []), "项")
    repairs = snapshot.get("repairs") or []
    clauses.append(f"信用修复记录{len(repairs)}条" if repairs else "无信用修复记录")
    return "；".join(clauses) + "。"


def conclusion(snapshot):
    """The one or two lines under the status."""
    return [domains_line(snapshot), others_line(snapshot)]


def coverage_notes(snapshot):
    """Sentences on data completeness: up to which date each incomplete source is covered."""
    notes = []
    parts = list(snapshot.get("domains") or []) + list(snapshot.get("arrears") or [])
    for part in parts:
        label = part.get("name") or part.get("label")
        cov = part.get("coverage") or {}
        if cov.get("state") == "missing" or not cov.get("complete_until"):
            notes.append(f"{label}：相关单位尚未归集数据，本报告对此不作有无记录的证明。")
        elif cov.get("state") == "stale":
            notes.append(f"{label}：数据截至{cn_date(cov['complete_until'])}，此后的情况未归集。")
    complete = [p["coverage"]["complete_until"] for p in snapshot.get("domains") or []
                if (p.get("coverage") or {}).get("state") == "complete"]
    if complete:
        notes.insert(0, f"数据完整的领域，其数据已归集至{cn_date(min(complete))}或更晚。")
    return notes


MARK_NOTES = (
    "标注「已修复」的记录，已按规定完成信用修复，修复情况见「行政处罚信用修复记录」；标注「公示期满」的记录，公示期已结束。"
    "两者仍在报告期内发生，故照实列出。",
    "标注「异议处理中」的记录，市场主体已提出异议申诉，相关单位正在核查。",
    "本报告是出具时的信息快照。出具后所列记录被更正、撤销或修复的，查验时显示「数据已更正」；"
    "市场主体为同一用途重新申请报告的，原报告显示「已被新报告替代」。",
    "「未提供」表示数据来源单位未报送该项内容。",
)


def objection_text(notice):
    """How to object, and the deadline."""
    return ("对报告所列记录有异议的，市场主体可在「信用黑河」公众号发送「异议申诉」，"
            f"按提示选择记录、说明理由并上传材料；相关单位在受理后{notice.objection_days}个工作日内核查答复。")


def contact_text(notice):
    """Whom to call (GUIDE_CONTACT)."""
    return redact(notice.contact) if notice.contact else "请通过「信用黑河」公众号咨询。"


def notes(snapshot):
    """All explanatory notes, in plain words: the rule set's, data completeness, the marks."""
    rule_notes = list((snapshot.get("rule_set") or {}).get("notes") or [])
    return rule_notes + coverage_notes(snapshot) + list(MARK_NOTES)


def view(snapshot, notice):
    """Everything both presentations print, computed once."""
    found = sections(snapshot)
    for index, section in enumerate(found, start=3):  # 一 basic information and 二 scope come first
        section.number = chinese_ordinal(index)
    return {
        "conclusion": conclusion(snapshot),
        "sections": found,
        "notes": notes(snapshot),
        "objection": objection_text(notice),
        "contact": contact_text(notice),
        "closing_number": chinese_ordinal(len(found) + 3),
        "verify_number": chinese_ordinal(len(found) + 4),
    }
