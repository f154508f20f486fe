"""models.policy.ingestion.listings: 行政强制, 严重失信主体名单 and 刑事 loaded, corrected, withdrawn, held."""

import datetime as dt

import pytest

from models.policy import departments
from models.policy.ingestion import ingest
from models.policy.uscc import make_org_code, make_uscc
from models.tables.listings import CriminalJudgment, DishonestListing, EnforcementRecord, ReportItem
from models.tables.records import FeedStatus, RecordChange
from models.tables.registry import Department, Domain, Enterprise
from models.tables.reports import Report

CODE = make_uscc("91231102" + make_org_code("MA7L1W0T"))
NAME = "黑河市长青贸易有限公司"
ENFORCEMENT = ["行政相对人名称", "统一社会信用代码", "行政强制决定书文号", "行政强制类别", "行政强制方式", "决定日期",
               "解除日期", "实施机关", "操作"]
CRIMINAL = ["被告类别", "被告单位名称", "统一社会信用代码", "案号", "案由", "审理法院", "判决日期", "罚金金额（万元）"]
LISTING = ["行政相对人名称", "统一社会信用代码", "名单名称", "认定单位", "列入日期", "移出日期"]


@pytest.fixture
def world(app):
    Enterprise.create(uscc=CODE, name=NAME)
    departments.grant(Department.get(code="market"), "enforcement", Domain.get(code="market"))


def load(write_table, kind, department, headers, rows, name="f.csv"):
    path = write_table(name, headers, rows)
    return ingest.import_file(path, name, kind, department, as_of=dt.date(2026, 11, 30))


def test_enforcement_loads_per_domain_and_a_resend_changes_nothing(world, write_table):
    rows = [[NAME, CODE, "黑市监强扣〔2026〕1号", "强制措施", "扣押财物", "2026-03-01", "", "黑河市市场监督管理局", ""],
            [NAME, CODE, "黑市监强扣〔2026〕2号", "没收", "扣押财物", "2026-03-01", "", "黑河市市场监督管理局", ""]]
    result = load(write_table, "enforcement", "market", ENFORCEMENT, rows)
    assert (result.imported, result.rejected) == (1, 1) and result.errors[0].column == "行政强制类别"
    record = EnforcementRecord.get()
    assert (record.category, record.domain.code, record.enterprise.uscc) == ("行政强制措施", "market", CODE)
    feed = FeedStatus.get(FeedStatus.kind == "enforcement")
    assert feed.complete_until is None  # a rejected row for the domain: 数据截至 does not advance
    again = load(write_table, "enforcement", "market", ENFORCEMENT, rows[:1])
    assert (again.imported, again.unchanged) == (0, 1)
    assert FeedStatus.get_by_id(feed.id).complete_until == dt.date(2026, 11, 30)


def test_a_correction_or_withdrawal_marks_the_reports_that_showed_the_item(world, write_table, make_signed_report):
    row = [NAME, CODE, "黑市监强扣〔2026〕1号", "行政强制措施", "扣押财物", "2026-03-01", "", "黑河市市场监督管理局",
           ""]
    load(write_table, "enforcement", "market", ENFORCEMENT, [row])
    record = EnforcementRecord.get()
    report = make_signed_report(enterprise=Enterprise.get(uscc=CODE))
    ReportItem.create(report=report, kind="enforcement", item_id=record.id)
    released = load(write_table, "enforcement", "market", ENFORCEMENT, [[*row[:6], "2026-04-01", row[7], "更正"]])
    assert released.updated == 1 and EnforcementRecord.get_by_id(record.id).released_on == dt.date(2026, 4, 1)
    assert Report.get_by_id(report.id).corrected_at is not None
    withdrawn = load(write_table, "enforcement", "market", ENFORCEMENT, [[*row[:8], "撤销"]])
    assert withdrawn.updated == 1 and EnforcementRecord.get_by_id(record.id).status == "withdrawn"
    assert {c.action for c in RecordChange.select().where(RecordChange.table == "enforcement_record")} == {
        "create", "correct", "withdraw"}


def test_a_court_outside_the_courts_list_is_held(world, write_table):
    rows = [["单位", NAME, CODE, "（2026）黑1124刑初15号", "拒不支付劳动报酬罪", "孙吴县人民法院", "2026-04-28", "8"],
            ["单位", NAME, CODE, "（2026）黑01刑初3号", "污染环境罪", "哈尔滨市中级人民法院", "2026-05-28", "2"],
            ["自然人", "", "", "（2026）黑1124刑初15号", "拒不支付劳动报酬罪", "孙吴县人民法院", "2026-04-28", "2"]]
    result = load(write_table, "criminal", "court", CRIMINAL, rows)
    assert (result.imported, result.held, result.skipped, result.rejected) == (2, 1, 1, 0)
    assert "审理法院“哈尔滨市中级人民法院”不在黑河市中级人民法院的执法机关名单中" in result.held_rows[0][1]
    assert CriminalJudgment.get(CriminalJudgment.court == "孙吴县人民法院").review == "verified"


def test_a_listing_removed_before_it_was_listed_is_rejected(world, write_table):
    rows = [[NAME, CODE, "重大税收违法失信主体", "国家税务总局黑河市税务局", "2025-11-05", "2025-01-01"],
            [NAME, CODE, "重大税收违法失信主体", "国家税务总局黑河市税务局", "2025-11-05", ""]]
    result = load(write_table, "dishonest_list", "credit_office", LISTING, rows)
    assert (result.imported, result.rejected) == (1, 1) and result.errors[0].column == "移出日期"
    assert DishonestListing.get().removed_on is None


def test_only_a_granted_department_sends_these_kinds(world, write_table):
    with pytest.raises(ingest.UnreadableFile, match="无权报送刑事判决"):
        load(write_table, "criminal", "market", CRIMINAL, [])
    with pytest.raises(ingest.UnreadableFile, match="无权报送行政强制"):
        load(write_table, "enforcement", "ecology", ENFORCEMENT, [])
