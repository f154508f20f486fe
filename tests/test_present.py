"""The one presentation of a snapshot: filters, record blocks, sections of any schema version."""

import copy
import datetime as dt

import pytest

from models.policy.report import present

RECORD_V1 = {"id": 17, "decision_no": "黑市监罚〔2025〕88号", "authority": "黑河市市场监督管理局",
             "decided_on": "2025-03-05", "violation_type": "发布虚假广告", "category": "罚款",
             "content": "罚款人民币八万七千元", "fine_wan": "8.7000", "status": "active", "under_objection": False,
             "repair": None}
# A v2 record with the keys models/policy/report/snapshot.py::record_part writes (the source differs from the
# authority, so each code is seen where it belongs).
RECORD_V2 = {**RECORD_V1, "source_unit": "黑河市市场监督管理局爱辉分局", "source_unit_code": "11231100MB7654321Y",
             "authority_code": "11231100MB1234567X", "facts": "当事人在其网店发布虚假广告，联系电话13812345678",
             "confiscated_wan": "0.350000", "licence": "", "publicity_until": "2026-03-05",
             "valid_until": "2099-12-31", "remark": None, "subject_class": "法人及非法人组织",
             "procedure": "普通程序", "marks": ["publicity_ended"]}


@pytest.mark.parametrize(("value", "text"), [("8.7000", "8.7万元"), ("5.000000", "5万元"), ("0.0200", "0.02万元"),
                                             ("12", "12万元"), (None, None), ("", None)])
def test_money_as_people_write_it(value, text):
    assert present.wan(value) == text


def test_yuan_dates_and_masking():
    assert present.yuan("1200.00") == "1200元" and present.yuan("1200.50") == "1200.5元"
    assert present.cn_date("2026-08-03") == "2026年8月3日" and present.cn_date(None) == ""
    assert present.cn_datetime("2026-11-27T01:30:00+00:00") == "2026年11月27日 09:30"  # China time
    assert present.redact("电话13812345678，身份证230102198801011234") == "电话138****5678，身份证230***********1234"
    assert present.redact("91231100MA1B2C3D4X") == "91231100MA1B2C3D4X"  # a USCC is not a phone
    assert present.given("  ") == "未提供" and present.given(None) == "未提供"


def test_a_v1_record_keeps_its_core_rows_and_names_no_source():
    entry = present.penalty_entry(RECORD_V1)
    rows = dict(entry.rows)
    assert entry.title == "黑市监罚〔2025〕88号" and entry.marks == []
    assert rows == {"处罚机关": "黑河市市场监督管理局", "处罚决定日期": "2025年3月5日", "违法行为类型": "发布虚假广告",
                    "处罚类别及内容": "罚款：罚款人民币八万七千元", "罚款金额": "8.7万元", "数据来源单位": "未提供"}


def test_a_v2_record_prints_every_field_it_has_blanks_as_未提供_and_masks_free_text():
    entry = present.penalty_entry(RECORD_V2)
    rows = dict(entry.rows)
    assert rows["数据来源单位"] == "黑河市市场监督管理局爱辉分局（统一社会信用代码 11231100MB7654321Y）"
    assert rows["处罚机关"] == "黑河市市场监督管理局（统一社会信用代码 11231100MB1234567X）"
    assert rows["程序类型"] == "普通程序"
    assert rows["违法事实"] == "当事人在其网店发布虚假广告，联系电话138****5678"
    assert rows["没收金额"] == "0.35万元" and rows["暂扣或吊销证照"] == "未提供" and rows["备注"] == "未提供"
    assert rows["公示截止期"] == "2026年3月5日" and rows["处罚有效期至"] == "2099年12月31日"
    assert rows["行政相对人类别"] == "法人及非法人组织"
    assert entry.marks == ["公示期满"]
    repaired = present.penalty_entry({**RECORD_V2, "status": "repaired", "under_objection": True,
                                      "marks": ["已修复", "公示期满"]})
    assert repaired.marks == ["已修复", "公示期满", "异议处理中"]


def test_official_text_is_printed_as_sent():
    odd = {**RECORD_V1, "decision_no": "黑市监罚[2025]88号", "content": "罚款（人民币）8.7万元 ", "category": "罚款"}
    entry = present.penalty_entry(odd)
    assert entry.title == "黑市监罚[2025]88号"  # its brackets are the department's, never rewritten
    assert dict(entry.rows)["处罚类别及内容"] == "罚款：罚款（人民币）8.7万元"


def test_warning_without_fine_has_no_fine_row_and_pairs_are_compact():
    entry = present.penalty_entry({**RECORD_V1, "category": "警告", "content": "警告", "fine_wan": None})
    assert "罚款金额" not in dict(entry.rows) and dict(entry.rows)["处罚类别及内容"] == "警告"
    lines = present.penalty_entry(RECORD_V2).pairs()
    assert all(len(line) in (1, 2) for line in lines)
    assert [label for line in lines for label, _ in line] == [label for label, _ in present.penalty_entry(
        RECORD_V2).rows]  # nothing dropped, nothing reordered


def _snapshot():
    return {"schema": "hegui.report/2", "domains": [
        {"code": "market", "name": "市场监管", "coverage": {"state": "complete", "complete_until": "2026-11-20"},
         "statement": "报告期内，查见该主体在市场监管领域的违法记录1条。", "records": [RECORD_V2]}],
        "arrears": [{"kind": "social_arrears", "label": "社保欠缴",
                     "coverage": {"state": "complete", "complete_until": "2026-10-31"}, "statement": "查见1条。",
                     "items": [{"period_start": "2025-01-01", "period_end": "2025-03-31", "amount": "1200.00",
                                "settled": True, "settled_on": "2025-05-01",
                                "sources": ["黑河市人力资源和社会保障局", "国家税务总局黑河市税务局"]}]}],
        "enforcement": {"label": "行政强制", "coverage": {"state": "complete", "complete_until": "2026-11-20"},
                        "statement": "查见1项。", "items": [{"decision_no": "黑市监强〔2026〕1号", "kind": "强制措施",
                                                          "content": "查封场所", "authority": "黑河市市场监督管理局",
                                                          "decided_on": "2026-02-01"}]},
        "dishonest_list": [{"label": "严重失信主体名单", "coverage": {"state": "missing", "complete_until": None},
                            "statement": "数据未归集。", "items": []}],
        "criminal": {"coverage": {"state": "complete", "complete_until": "2026-11-01"}, "statement": "未查见。",
                     "items": []},
        "future_section": {"items": [{"x": 1}]},
        "repairs": []}


def test_sections_of_a_v2_snapshot_and_unknown_ones_skipped():
    found = present.sections(_snapshot())
    assert [s.key for s in found] == ["domains", "arrears", "enforcement", "dishonest_list", "criminal", "repairs"]
    arrears = found[1].parts[0].entries[0]
    assert dict(arrears.rows) == {"欠缴金额": "1200元", "结清情况": "已结清（2025年5月1日）",
                                  "数据来源单位": "黑河市人力资源和社会保障局、国家税务总局黑河市税务局"}
    enforcement = found[2].parts[0].entries[0]
    assert enforcement.title == "黑市监强〔2026〕1号" and dict(enforcement.rows)["内容"] == "查封场所"
    assert dict(enforcement.rows)["数据来源单位"] == "未提供"
    assert found[3].parts[0].coverage == "数据未归集" and found[4].parts[0].name == "刑事（单位犯罪）"


def test_a_v1_snapshot_has_the_four_sections_it_always_had():
    v1 = copy.deepcopy(_snapshot())
    for key in ("enforcement", "dishonest_list", "criminal", "future_section"):
        del v1[key]
    v1["schema"] = "hegui.report/1"
    v1["arrears"][0]["items"][0].pop("sources")
    found = present.sections(v1)
    assert [s.key for s in found] == ["domains", "arrears", "repairs"]
    assert dict(found[1].parts[0].entries[0].rows)["数据来源单位"] == "未提供"
    assert present.chinese_ordinal(3) == "三" and present.chinese_ordinal(12) == "十二"


def test_the_printed_record_reads_every_field_the_snapshot_writes(app, report_world):
    """The seam between snapshot.py and present.py: each field record_part writes is printed under its label."""
    from models.base import local_today
    from models.policy.report.snapshot import record_part

    record = report_world.record(subject_class="个体工商户", valid_until=dt.date(2030, 6, 30),
                                 source_unit="黑河市某分局", source_unit_code="11231100MB7654321Y",
                                 procedure="普通程序")
    rows = dict(present.penalty_entry(record_part(record, False, local_today())).rows)
    assert rows["行政相对人类别"] == "个体工商户" and rows["处罚有效期至"] == "2030年6月30日"
    assert rows["数据来源单位"] == "黑河市某分局（统一社会信用代码 11231100MB7654321Y）"
    assert rows["程序类型"] == "普通程序"
