import datetime as dt

import pytest

from models.base import utcnow
from models.policy.report import rules, snapshot
from models.tables.records import ArrearsRecord, CreditRepair
from models.tables.registry import FUND_ARREARS, SOCIAL_ARREARS
from models.tables.reports import Report, ReportRecord, report_status

HEADER = {"number": "HH-20261127-000001", "issuer": "信用黑河", "issued_at": "2026-11-27T09:30:00+08:00",
          "valid_until": "2026-12-27T09:30:00+08:00",
          "verify": {"url": "http://hegui.test/v/tok", "lookup": "http://hegui.test/verify"}}


def _freeze(world, **kw):
    request = world.request(**kw)
    return snapshot.freeze(request, rules.get_rule_set("heihe-2024"), HEADER, today=world.today)


def _domain(data, code):
    return next(d for d in data["domains"] if d["code"] == code)


def test_snapshot_lists_domains_in_seed_order_with_the_fixed_schema(report_world):
    frozen = _freeze(report_world, domains=["urban", "market", "hrss"])
    data = frozen.data
    assert [d["code"] for d in data["domains"]] == ["hrss", "market", "urban"]
    assert data["schema"] == "hegui.report/2"
    assert data["title"] == "市场主体专用信用报告（替代有无违法记录证明）"
    assert data["enterprise"] == {"name": "黑河市龙江边贸物流有限公司", "uscc": report_world.enterprise.uscc,
                                  "legal_rep": "李明", "address": "黑河市爱辉区中央街 56 号", "county": "爱辉区"}
    assert data["purpose"] == {"category": "金融", "text": "银行贷款"}
    assert data["rule_set"]["version"] == "heihe-2024"
    assert "依据简易程序作出的行政处罚及不予行政处罚决定，不列入违法记录。" in data["rule_set"]["notes"]
    assert set(data) == {"schema", "title", "number", "issuer", "issued_at", "valid_until", "enterprise", "period",
                         "purpose", "rule_set", "domains", "arrears", "repairs", "verify"}
    assert set(data["domains"][0]) == {"code", "name", "coverage", "statement", "records"}


def test_simplified_and_no_penalty_absent_repaired_and_objected_marked(report_world):
    data = _freeze(report_world).data
    market = _domain(data, "market")
    assert [r["decision_no"] for r in market["records"]] == ["黑市监罚〔2026〕101号"]
    assert market["statement"] == "报告期内，查见该主体在市场监管领域的违法记录1条。"
    ecology = _domain(data, "ecology")
    assert [r["decision_no"] for r in ecology["records"]] == ["黑环罚〔2025〕12号"]
    repaired = ecology["records"][0]
    assert repaired["status"] == "repaired"
    assert repaired["repair"] == {"decision_no": "黑环修〔2026〕5号",
                                  "repaired_on": report_world.repair.repaired_on.isoformat()}
    assert "其中已完成信用修复1条" in ecology["statement"]
    health = _domain(data, "health")
    assert health["records"][0]["under_objection"] is True and "异议处理中1条" in health["statement"]
    assert _domain(data, "transport")["records"] == []  # withdrawn
    assert data["repairs"] == [{"record_decision_no": "黑环罚〔2025〕12号", "domain": "生态环境",
                                "decision_no": "黑环修〔2026〕5号",
                                "repaired_on": report_world.repair.repaired_on.isoformat()}]
    market_record = market["records"][0]
    assert market_record["fine_wan"] == "0.1000"
    assert market_record["decided_on"] == report_world.market.decided_on.isoformat()


def test_repairs_only_of_the_chosen_domains(report_world):
    data = _freeze(report_world, domains=["market", "hrss"]).data
    assert data["repairs"] == []  # the repaired record is in 生态环境, which this report does not cover
    assert [r["decision_no"] for r in _domain(data, "market")["records"]] == ["黑市监罚〔2026〕101号"]


def test_repairs_only_of_records_that_count(report_world):
    w = report_world
    w.simplified.status = "repaired"
    w.simplified.save()
    CreditRepair.create(record=w.simplified, decision_no="黑市监修〔2026〕1号", repaired_on=w.today,
                        department=w.simplified.department)
    repairs = _freeze(w).data["repairs"]
    assert [r["decision_no"] for r in repairs] == ["黑环修〔2026〕5号"]  # not the 简易程序 one: no 违法记录


def test_absence_is_certified_only_where_the_data_is_complete(report_world):
    data = _freeze(report_world).data
    hrss = _domain(data, "hrss")
    assert hrss["coverage"]["state"] == "complete"
    assert hrss["statement"] == "报告期内，未查见该主体在人力资源和社会保障领域的违法记录。"
    urban = _domain(data, "urban")
    assert urban["coverage"] == {"state": "missing", "complete_until": None}
    assert "数据未归集" in urban["statement"] and "未查见" not in urban["statement"]
    landscaping = _domain(data, "landscaping")
    assert landscaping["coverage"]["state"] == "stale"
    until = snapshot.cn_date(landscaping["coverage"]["complete_until"])
    assert landscaping["statement"].startswith(f"该领域数据截至{until}") and "未查见" not in landscaping["statement"]


def test_arrears_statements_follow_coverage(report_world):
    social, fund = _freeze(report_world).data["arrears"]
    assert (social["kind"], social["label"], fund["kind"], fund["label"]) == (
        SOCIAL_ARREARS, "社保欠缴", FUND_ARREARS, "公积金欠缴")
    assert social["items"] == [{"period_start": report_world.arrears.period_start.isoformat(),
                                "period_end": report_world.arrears.period_end.isoformat(),
                                "amount": "1200.00", "settled": False, "settled_on": None,
                                "sources": ["黑河市人力资源和社会保障局"]}]
    assert social["statement"] == "报告期内，查见该主体社保欠缴记录1条，其中尚未结清1条。"
    assert fund["coverage"]["state"] == "missing" and fund["items"] == []
    assert "公积金欠缴数据未归集" in fund["statement"] and "未查见" not in fund["statement"]
    assert ArrearsRecord.select().count() == 1


def test_records_outside_the_period_are_not_shown(report_world):
    report_world.record("hrss", decision_no="黑人社罚〔2020〕1号", days_ago=2000)
    data = _freeze(report_world, years=1).data
    assert _domain(data, "hrss")["records"] == []
    assert _domain(data, "ecology")["records"] == []  # the repaired record is 400 days old


def test_unknown_domain_and_reversed_period_are_rejected(report_world):
    with pytest.raises(snapshot.SnapshotError):
        _freeze(report_world, domains=["market", "astrology"])
    request = report_world.request()
    request.period_start, request.period_end = request.period_end, request.period_start
    with pytest.raises(snapshot.SnapshotError):
        snapshot.freeze(request, rules.get_rule_set(), HEADER, today=report_world.today)


def _stored_report(world, request, number, frozen):
    return Report.create(
        request=request, enterprise=world.enterprise, number=number, check_code="ABCDEFGH23", token=number,
        valid_until=utcnow() + dt.timedelta(days=30), rule_version="heihe-2024", snapshot="{}", digest="0" * 64,
        signature="x", key_id="k")


def test_links_and_supersede_older_reports_for_the_same_purpose(report_world):
    first_req, other_req, second_req = (report_world.request(), report_world.request(purpose="参与招投标"),
                                        report_world.request())
    frozen = snapshot.freeze(first_req, rules.get_rule_set(), HEADER, today=report_world.today)
    first = _stored_report(report_world, first_req, "HH-1", frozen)
    snapshot.link_records(first, frozen.record_ids + frozen.record_ids)
    assert {link.record_id for link in ReportRecord.select()} == {
        report_world.market.id, report_world.repaired.id, report_world.objected.id}
    other = _stored_report(report_world, other_req, "HH-2", frozen)
    second = _stored_report(report_world, second_req, "HH-3", frozen)
    assert snapshot.supersede_older(second) == 1
    assert Report.get_by_id(first.id).superseded_by_id == second.id
    assert report_status(Report.get_by_id(first.id)) == "已被新报告替代"
    assert Report.get_by_id(other.id).superseded_by_id is None
    assert Report.get_by_id(second.id).superseded_by_id is None


def test_cn_date():
    assert snapshot.cn_date(dt.date(2026, 1, 5)) == "2026年1月5日"
    assert snapshot.cn_date("2026-11-27T09:30:00+08:00") == "2026年11月27日"
    assert snapshot.cn_date("2026-01-31") == "2026年1月31日"


def test_a_record_held_for_review_blocks_the_no_record_statement(report_world):
    w = report_world
    held = w.record("water", review="held_name_mismatch", subject_name="黑河龙江边贸物流公司", enterprise=None)
    part = _domain(_freeze(w).data, "water")
    assert part["records"] == []
    assert part["statement"] == ("报告期内，该主体在水务领域有1条记录正在核验，"
                                 "核验完成前本报告不能证明该主体在水务领域的完整情况。")
    held.review = "verified"
    held.enterprise = w.enterprise
    held.save()
    assert "查见该主体在水务领域的违法记录1条" in _domain(_freeze(w).data, "water")["statement"]


def test_the_arrears_items_shown_are_remembered_for_corrections(report_world):
    frozen = _freeze(report_world)
    assert frozen.arrears_ids == [report_world.arrears.id]


def test_a_report_of_schema_1_still_renders(client, make_signed_report):
    """Reports signed before hegui.report/2 keep rendering: the PDF's HTML (strict templates) and the verify page."""
    import json

    from models.policy.report.pdf import render_report_html
    from models.policy.report.qr import qr_png
    from models.policy.report.summary import Notice

    report = make_signed_report()
    data = json.loads(report.snapshot)
    assert data["schema"] == "hegui.report/1" and "sections" not in data
    proof = {"digest": report.digest, "algorithm": "Ed25519", "key_id": report.key_id, "sm2_key_id": "—"}
    html = render_report_html(data, report.check_code, proof, qr_png(data["verify"]["url"]),
                              Notice(contact="黑河市信用信息中心", objection_days=5))
    assert "黑市监罚〔2025〕88号" in html and '<span class="tag">公示期满</span>' not in html  # a /1 record has no mark
    assert client.get(f"/v/{report.token}").status_code == 200
