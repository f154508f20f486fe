"""The conclusion and notes, from the snapshot alone."""

from models.policy.report import summary


def _domain(name, records=0, state="complete", until="2026-11-20", **extra):
    return {"name": name, "coverage": {"state": state, "complete_until": until if state != "missing" else None},
            "statement": "…", "records": [{"status": "active", "under_objection": False}] * records, **extra}


def _snapshot(domains, arrears=None, repairs=(), **extra):
    return {"domains": domains, "arrears": arrears or [], "repairs": list(repairs), **extra}


def test_the_issue_example():
    domains = [_domain("市场监管", 2), _domain("生态环境", 2), _domain("交通运输", 1),
               _domain("金融监管", state="missing"), _domain("园林绿化", state="stale", until="2026-08-03")]
    domains += [_domain(f"领域{n}") for n in range(11)]
    line = summary.domains_line(_snapshot(domains))
    assert line == "16个领域：3个领域查见违法记录共5条；金融监管数据未归集；园林绿化数据截至2026年8月3日。"


def test_no_record_found_never_hides_missing_or_held_data():
    domains = [_domain("市场监管", held=2), _domain("城市管理", state="missing"), _domain("水务", state="missing"),
               _domain("园林绿化", state="stale", until="2026-06-30"),
               _domain("商务", state="stale", until="2026-06-30")]
    assert summary.domains_line(_snapshot(domains)) == (
        "5个领域：未查见违法记录；市场监管有2条记录正在核验；城市管理、水务数据未归集；园林绿化、商务数据截至2026年6月30日。")


def test_repaired_and_objected_counts():
    records = [{"status": "repaired", "repair": {"repaired_on": "2026-01-01"}}, {"under_objection": True}, {}]
    line = summary.domains_line(_snapshot([{**_domain("生态环境"), "records": records}]))
    assert line == "1个领域：1个领域查见违法记录共3条（其中已修复1条，异议处理中1条）。"


def test_arrears_lists_and_repairs_in_counts():
    arrears = [{"label": "社保欠缴", "coverage": {"state": "complete", "complete_until": "2026-10-31"},
                "items": [{"settled": False}, {"settled": True}]},
               {"label": "公积金欠缴", "coverage": {"state": "missing", "complete_until": None}, "items": []}]
    snap = _snapshot([], arrears, repairs=[{}, {}], enforcement={"coverage": {"state": "complete",
                                                                              "complete_until": "2026-10-31"},
                                                                 "items": []},
                     criminal=[{"label": "刑事", "coverage": {"state": "complete", "complete_until": "2026-10-31"},
                                "items": [{}]}])
    assert summary.others_line(snap) == (
        "社保欠缴2项（未结清1项）；公积金欠缴数据未归集；行政强制未查见；刑事（单位犯罪）1项；信用修复记录2条。")
    assert summary.others_line(_snapshot([])) == "无信用修复记录。"


def test_notes_and_notice():
    snap = _snapshot([_domain("市场监管"), _domain("城市管理", state="missing")],
                     rule_set={"notes": ["依据简易程序作出的行政处罚……不列入违法记录。"]})
    notes = summary.notes(snap)
    assert notes[0].startswith("依据简易程序")
    assert "城市管理：相关单位尚未归集数据，本报告对此不作有无记录的证明。" in notes
    notice = summary.Notice(contact="黑河市信用信息中心 0456-8220000", objection_days=5)
    assert "发送「异议申诉」" in summary.objection_text(notice) and "5个工作日内" in summary.objection_text(notice)
    assert summary.contact_text(notice) == "黑河市信用信息中心 0456-8220000"
    view = summary.view(snap, notice)
    assert [s.number for s in view["sections"]] == ["三", "四", "五"] and view["closing_number"] == "六"
