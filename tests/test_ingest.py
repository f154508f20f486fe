"""models.policy.ingestion.ingest: one validation path for files and API items; every kind of bad row; 核验;
corrections; feeds."""

import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from models.base import local_today
from models.policy import departments
from models.policy.ingestion import ingest
from models.policy.uscc import make_org_code, make_uscc
from models.tables.records import (
    ACTIVE,
    HELD_NAME_MISMATCH,
    HELD_UNKNOWN_USCC,
    REPAIRED,
    VERIFIED,
    WITHDRAWN,
    ArrearsRecord,
    CreditRepair,
    FeedStatus,
    ImportBatch,
    PenaltyRecord,
    RecordChange,
    RejectedRow,
)
from models.tables.registry import Department, Domain, Enterprise
from models.tables.reports import CORRECTED, Report, ReportArrears, report_status

RECORD_HEADERS = ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
                  "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关", "数据来源单位", "领域",
                  "程序类型", "操作"]
AUTHORITY = "黑河市生态环境局"


def uscc(n, prefix="91231102"):
    """A valid USCC numbered n (the organisation code's own check included)."""
    return make_uscc(prefix + make_org_code(f"MA{n:06d}"))


def penalty(name, code, number, **over):
    """One record row as a dict keyed by header."""
    values = [name, code, f"黑环罚〔2024〕{number}号", "大气污染", "超标排放", "《大气污染防治法》", "罚款",
              "罚款人民币一万元", "1", "2024-03-05", AUTHORITY, "黑河市生态环境局", "ecology", "普通程序", ""]
    row = dict(zip(RECORD_HEADERS, values, strict=True))
    row.update(over)
    return row


@pytest.fixture
def register(app):
    """Two registered enterprises."""
    return [
        Enterprise.create(uscc=uscc(1), name="黑河市绿源环保科技有限公司", county="爱辉区"),
        Enterprise.create(uscc=uscc(2), name="黑河市北疆木业有限责任公司", county="北安市"),
    ]


def bad_file_rows(register):
    """Every kind of row a department could send, good and bad; (rows, expected rejections by row number)."""
    good, other = register[0], register[1]
    future = (local_today() + dt.timedelta(days=3)).isoformat()
    rows = [
        penalty(good.name, good.uscc, 1),                                              # 2 imported
        penalty(good.name, good.uscc, 2, 程序类型="简易程序", **{"罚款金额（万元）": "0.3"}),  # 3 imported (§51)
        penalty(good.name, good.uscc, 3, 领域="环保", **{"罚款金额（万元）": ""}),       # 4 imported (alias)
        penalty(good.name, good.uscc[:17] + ("0" if good.uscc[17] != "0" else "1"), 4),  # 5 bad check char
        penalty(good.name, good.uscc, 5, 领域="航天"),                                  # 6 unknown domain
        penalty(good.name, good.uscc, 6, 领域="市场监管"),                              # 7 not granted
        penalty(good.name, good.uscc, 7, 处罚决定日期=future),                          # 8 future date
        penalty(good.name, good.uscc, 8, 处罚决定日期="三月五日"),                       # 9 unparseable date
        penalty(good.name, good.uscc, 9, **{"罚款金额（万元）": "-2"}),                   # 10 negative fine
        penalty(good.name, good.uscc, 10, 程序类型="特别程序"),                          # 11 bad procedure
        penalty(good.name, good.uscc, 11, 处罚机关=""),                                 # 12 empty required
        penalty(good.name, good.uscc, 1),                                              # 13 duplicate of row 2
        penalty("黑河市无名商贸有限公司", uscc(99), 12),                                 # 14 held: unknown USCC
        penalty("黑河市北疆木业公司", other.uscc, 13),                                   # 15 held: name mismatch
        penalty(good.name, good.uscc, 14, 操作="更正"),                                  # 16 correct, no original
        penalty(good.name, good.uscc, 15, 操作="删除"),                                  # 17 unknown operation
        penalty(good.name, good.uscc, 16, 处罚决定日期="2024年3月5日"),                   # 18 imported
        penalty(good.name, good.uscc, 17, 处罚决定日期="20240305"),                      # 19 imported
        penalty(good.name, good.uscc, 18, 处罚决定日期="45356"),                         # 20 imported (serial)
        penalty(good.name, " " + good.uscc.lower().replace("9", "９") + " ", 19),       # 21 normalised
        penalty(good.name, "91231102MAOO0001X1", 20),                                  # 22 illegal letter O
    ]
    rejected = {5: "统一社会信用代码", 6: "领域", 7: "领域", 8: "处罚决定日期", 9: "处罚决定日期",
                10: "罚款金额（万元）", 11: "程序类型", 12: "处罚机关", 13: "行政处罚决定书文号", 16: "操作",
                17: "操作", 22: "统一社会信用代码"}
    return rows, rejected


def as_cells(rows, fmt):
    """Rows as lists in header order; XLSX gets a real date cell, a serial number and a numeric fine."""
    out = [[row[h] for h in RECORD_HEADERS] for row in rows]
    if fmt == "xlsx":
        out[0][RECORD_HEADERS.index("处罚决定日期")] = dt.datetime(2024, 3, 5)
        out[0][RECORD_HEADERS.index("罚款金额（万元）")] = 1.5
        out[18][RECORD_HEADERS.index("处罚决定日期")] = 45356
    return out


@pytest.mark.parametrize("fmt", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_every_kind_of_bad_row_in_each_encoding(app, register, write_table, fmt):
    rows, rejected = bad_file_rows(register)
    path = write_table(f"ecology.{'xlsx' if fmt == 'xlsx' else 'csv'}", RECORD_HEADERS, as_cells(rows, fmt), fmt)

    result = ingest.import_file(path, path.name, "penalty", "ecology", actor="test")

    assert (result.imported, result.updated, result.rejected, result.held) == (9, 0, 12, 2)
    assert {e.row: e.column for e in result.errors} == rejected
    reasons = {e.row: e.reason for e in result.errors}
    assert reasons[13] == "与第2行重复"
    assert "校验码" in reasons[5] and "“O”不合法" in reasons[22]
    assert "本单位无权" in reasons[7] and "不存在" in reasons[6] and "晚于今天" in reasons[8]
    assert PenaltyRecord.select().count() == 9
    held = {r.review for r in PenaltyRecord.select().where(PenaltyRecord.review != VERIFIED)}
    assert held == {HELD_UNKNOWN_USCC, HELD_NAME_MISMATCH}
    assert {r.decided_on for r in PenaltyRecord.select()} == {dt.date(2024, 3, 5)}
    first = PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕1号")
    assert first.fine_wan == (Decimal("1.5") if fmt == "xlsx" else Decimal(1))
    assert PenaltyRecord.get(PenaltyRecord.decision_no.contains("19号")).uscc == register[0].uscc
    batch = ImportBatch.get_by_id(result.batch_id)
    assert (batch.status, batch.imported, batch.rejected, batch.held) == ("done", 9, 12, 2)
    assert RejectedRow.select().where((RejectedRow.batch == batch) & (RejectedRow.outcome == "rejected")).count() == 12
    assert RejectedRow.select().where(RejectedRow.batch == batch).count() == 14  # and the 2 held rows
    assert RecordChange.select().where(RecordChange.action == "create").count() == 9

    again = ingest.import_file(path, path.name, "penalty", "ecology", actor="test")
    assert (again.imported, again.updated, again.unchanged, again.rejected) == (0, 0, 9, 12)
    assert PenaltyRecord.select().count() == 9


def test_feed_advances_only_for_clean_loads(app, register, write_table):
    good = register[0]
    ecology = Domain.get(Domain.code == "ecology")
    as_of = local_today() - dt.timedelta(days=2)
    clean = write_table("clean.csv", RECORD_HEADERS, as_cells([penalty(good.name, good.uscc, 1)], "csv"))
    ingest.import_file(clean, "clean.csv", "penalty", "ecology", as_of=as_of)
    feed = FeedStatus.get(FeedStatus.domain == ecology, FeedStatus.kind == "penalty")
    assert feed.complete_until == as_of

    bad = write_table("bad.csv", RECORD_HEADERS,
                      as_cells([penalty(good.name, good.uscc, 2, 程序类型="x")], "csv"))
    ingest.import_file(bad, "bad.csv", "penalty", "ecology")
    assert FeedStatus.get_by_id(feed.id).complete_until == as_of  # a rejected row is missing data


def test_empty_file_of_a_granted_domain_certifies_absence(app, write_table):
    path = write_table("none.csv", RECORD_HEADERS, [])
    result = ingest.import_file(path, "none.csv", "penalty", "market", as_of=dt.date(2026, 1, 31))
    assert (result.imported, result.rejected) == (0, 0)
    market = Domain.get(Domain.code == "market")
    feed = FeedStatus.get(FeedStatus.domain == market)
    assert feed.complete_until == dt.date(2026, 1, 31)


@pytest.mark.parametrize("content, filename, needle", [
    (b"", "empty.csv", "文件为空"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", ".xls"),
    (b"PK\x03\x04garbage", "broken.xlsx", "Excel文件已损坏"),
    (b"not a zip", "fake.xlsx", "不是有效的Excel"),
    (b"%PDF-1.4", "scan.pdf", "不支持的文件类型"),
    ("名称,代码\n甲,乙\n".encode(), "wrong.csv", "表头缺少以下列：统一社会信用代码、行政处罚决定书文号"),
])
def test_unreadable_files_change_nothing(app, content, filename, needle):
    with pytest.raises(ingest.UnreadableFile) as caught:
        ingest.import_file(io.BytesIO(content), filename, "penalty", "ecology")
    assert needle in caught.value.message
    assert PenaltyRecord.select().count() == 0
    assert FeedStatus.select().count() == 0
    assert ImportBatch.select().where(ImportBatch.status == "done").count() == 0


def test_refusals_before_reading(app, register, write_table):
    path = write_table("r.csv", RECORD_HEADERS, as_cells([penalty(register[0].name, register[0].uscc, 1)], "csv"))
    with pytest.raises(ingest.UnreadableFile, match="不存在"):
        ingest.import_file(path, "r.csv", "penalty", "nowhere")
    with pytest.raises(ingest.UnreadableFile, match="无权报送公积金欠缴"):
        ingest.import_file(path, "r.csv", "fund_arrears", "ecology")
    with pytest.raises(ingest.UnreadableFile, match="晚于今天"):
        ingest.import_file(path, "r.csv", "penalty", "ecology", as_of=local_today() + dt.timedelta(days=1))
    assert PenaltyRecord.select().count() == 0


def test_correction_and_withdrawal_write_audit_and_mark_reports(app, register, write_table, make_signed_report):
    good = register[0]
    first = write_table("a.csv", RECORD_HEADERS, as_cells([penalty(good.name, good.uscc, 1),
                                                          penalty(good.name, good.uscc, 2)], "csv"))
    ingest.import_file(first, "a.csv", "penalty", "ecology")
    one = PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕1号")
    report = make_signed_report(enterprise=good)
    report.record_links.model.create(report=report, record=one)

    fix = write_table("b.csv", RECORD_HEADERS, as_cells([
        penalty(good.name, good.uscc, 1, 操作="更正", **{"罚款金额（万元）": "0.5"}),
        penalty(good.name, good.uscc, 2, 操作="撤销"),
    ], "csv"))
    result = ingest.import_file(fix, "b.csv", "penalty", "ecology")

    assert (result.imported, result.updated, result.rejected) == (0, 2, 0)
    one = PenaltyRecord.get_by_id(one.id)
    assert (one.status, one.fine_wan) == (ACTIVE, Decimal("0.5"))
    two = PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕2号")
    assert two.status == WITHDRAWN
    change = RecordChange.get(RecordChange.record_id == one.id, RecordChange.action == "correct")
    assert (change.before["fine_wan"], change.after["fine_wan"]) == ("1.0000", "0.5000")
    assert RecordChange.get(RecordChange.record_id == two.id, RecordChange.action == "withdraw").after["status"] \
        == WITHDRAWN
    assert type(report).get_by_id(report.id).corrected_at is not None

    resend = ingest.import_file(first, "a.csv", "penalty", "ecology")
    assert (resend.rejected, resend.errors[0].column) == (1, "操作")  # a withdrawn record is not revived silently
    assert PenaltyRecord.get_by_id(two.id).status == WITHDRAWN


def test_other_departments_records_are_not_theirs(app, register, write_table):
    good = register[0]
    path = write_table("a.csv", RECORD_HEADERS, as_cells([penalty(good.name, good.uscc, 1)], "csv"))
    ingest.import_file(path, "a.csv", "penalty", "ecology")
    withdraw = [penalty(good.name, good.uscc, 1, 操作="撤销", 领域="market")]
    market_file = write_table("m.csv", RECORD_HEADERS, as_cells(withdraw, "csv"))
    result = ingest.import_file(market_file, "m.csv", "penalty", "market")
    assert result.rejected == 1 and "其他单位" in result.errors[0].reason
    assert PenaltyRecord.get().status == ACTIVE


def test_release_held_and_enterprise_arrival(app, register, write_table):
    rows = [penalty("黑河市北疆木业公司", register[1].uscc, 1), penalty("黑河市新来商贸有限公司", uscc(50), 2)]
    ingest.import_file(write_table("h.csv", RECORD_HEADERS, as_cells(rows, "csv")), "h.csv", "penalty", "ecology")
    mismatch = PenaltyRecord.get(PenaltyRecord.review == HELD_NAME_MISMATCH)
    unknown = PenaltyRecord.get(PenaltyRecord.review == HELD_UNKNOWN_USCC)
    with pytest.raises(ingest.ReleaseRefused):
        ingest.release_held(unknown, "staff:wang")

    assert ingest.recheck(mismatch) == HELD_NAME_MISMATCH
    released = ingest.release_held(mismatch, "staff:wang")
    assert (released.review, released.enterprise_id) == (VERIFIED, register[1].id)
    assert RecordChange.get(RecordChange.action == "release").actor == "staff:wang"

    ent = write_table("e.csv", ["企业名称", "统一社会信用代码"], [["黑河市新来商贸有限公司", uscc(50)]])
    ingest.import_file(ent, "e.csv", "enterprise", None)
    unknown = PenaltyRecord.get_by_id(unknown.id)
    assert unknown.review == VERIFIED and unknown.enterprise.uscc == uscc(50)


ARREARS_HEADERS = ["单位名称", "统一社会信用代码", "欠缴类型", "欠缴起始月份", "欠缴截止月份", "欠缴金额（元）",
                   "是否已补缴", "补缴日期"]


def test_arrears_kinds_permissions_and_idempotence(app, register, write_table):
    good = register[0]
    rows = [
        [good.name, good.uscc, "社保", "2024-01", "2024年3月", "12,000.50", "否", ""],
        [good.name, good.uscc, "社保", "202405", "2024/6", "800", "是", "2024-07-01"],
        [good.name, good.uscc, "公积金", "2024-01", "2024-02", "100", "否", ""],        # tax may not write 公积金
        [good.name, good.uscc, "社保", "2024-08", "2024-07", "100", "否", ""],          # end before start
        [good.name, good.uscc, "社保", "2024-09", "2024-09", "100", "否", "2024-10-01"],  # date but not settled
        [good.name, good.uscc, "社保", "2024-01", "2024-03", "5", "否", ""],            # duplicate of row 2
    ]
    path = write_table("arrears.csv", ARREARS_HEADERS, rows, "gb18030")
    result = ingest.import_file(path, "arrears.csv", "arrears", "tax")
    assert (result.imported, result.rejected) == (2, 4)
    assert [e.column for e in result.errors] == ["欠缴类型", "欠缴截止月份", "补缴日期", "统一社会信用代码"]
    first = ArrearsRecord.get(ArrearsRecord.period_start == dt.date(2024, 1, 1))
    assert (first.period_end, first.amount, first.settled) == (dt.date(2024, 3, 31), Decimal("12000.50"), False)
    again = ingest.import_file(path, "arrears.csv", "arrears", "tax")
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 2)
    assert ArrearsRecord.select().count() == 2


def test_repairs_mark_records_repaired(app, register, write_table):
    good = register[0]
    path = write_table("a.csv", RECORD_HEADERS, as_cells([penalty(good.name, good.uscc, 1)], "csv"))
    ingest.import_file(path, "a.csv", "penalty", "ecology")
    headers = ["行政处罚决定书文号", "处罚机关", "修复决定文号", "修复日期", "备注"]
    rows = [["黑环罚〔2024〕1号", AUTHORITY, "黑环修〔2025〕1号", "2025-03-01", "已整改"],
            ["黑环罚〔2024〕404号", AUTHORITY, "黑环修〔2025〕2号", "2025-03-01", ""],
            ["黑环罚〔2024〕1号", AUTHORITY, "黑环修〔2025〕3号", "2020-01-01", ""]]
    repairs = write_table("r.xlsx", headers, rows, "xlsx")
    result = ingest.import_file(repairs, "r.xlsx", "repair", "ecology")
    assert (result.imported, result.rejected) == (1, 2)
    assert "未找到" in result.errors[0].reason and "早于处罚决定日期" in result.errors[1].reason
    record = PenaltyRecord.get()
    assert record.status == REPAIRED
    assert CreditRepair.get().decision_no == "黑环修〔2025〕1号"
    assert RecordChange.get(RecordChange.action == "repair").record_id == record.id
    assert ingest.import_file(repairs, "r.xlsx", "repair", "ecology").unchanged == 1
    assert CreditRepair.select().count() == 1


def test_enterprise_register_import(app, write_table):
    headers = ["企业名称", "统一社会信用代码", "法定代表人", "联系电话", "注册地址", "所属区县"]
    rows = [["黑河市甲公司", uscc(1), "张三", "13904561234", "黑河市爱辉区", "爱辉区"],
            ["黑河市乙公司", uscc(2), "李四", "0456-8221234", "", "北安市"],
            ["", uscc(3), "", "", "", ""],
            ["华为技术有限公司", 914403001922038216, "", "", "", ""]]
    path = write_table("e.xlsx", headers, rows, "xlsx")
    result = ingest.import_file(path, "e.xlsx", "enterprise", None)
    assert (result.imported, result.rejected) == (1, 3)
    assert [e.column for e in result.errors] == ["联系电话", "企业名称", "统一社会信用代码"]
    assert "Excel存成了数字" in result.errors[2].reason
    rows[0][3] = "13904569999"
    result = ingest.import_file(write_table("e2.xlsx", headers, rows[:1], "xlsx"), "e2.xlsx", "enterprise", None)
    assert (result.imported, result.updated) == (0, 1)
    assert Enterprise.get(Enterprise.uscc == uscc(1)).mobile == "13904569999"
    # Without a department the load is the credit office's, the register's keeper.
    assert ImportBatch.get_by_id(result.batch_id).department == Department.get(Department.code == "credit_office")


def test_items_share_the_validation(app, register):
    good = register[0]
    ecology = Department.get(Department.code == "ecology")
    items = [penalty(good.name, good.uscc, 1), penalty(good.name, "bad", 2), "not an object"]
    result = ingest.import_items(items, "penalty", ecology)
    assert (result.imported, result.rejected) == (1, 2)
    assert [(e.row, e.column) for e in result.errors] == [(1, "统一社会信用代码"), (2, "")]


def test_text_survives_the_bulk_path(app, register):
    good = register[0]
    facts = "第一行\n第二行\t制表符 \\N 反斜杠\\t"
    ecology = Department.get(Department.code == "ecology")
    ingest.import_items([penalty(good.name, good.uscc, 1, 违法事实=facts, 处罚依据="")], "penalty", ecology)
    record = PenaltyRecord.get()
    assert (record.facts, record.basis, record.fine_wan) == (facts, "", Decimal(1))
    change = RecordChange.get(RecordChange.record_id == record.id)
    assert change.after["facts"] == facts and change.after["id"] == record.id


def test_large_file_in_chunks_with_progress(app, register, write_table):
    good = register[0]
    rows = as_cells([penalty(good.name, good.uscc, n) for n in range(ingest.CHUNK * 2 + 5)], "csv")
    path = write_table("big.csv", RECORD_HEADERS, rows)
    seen = []
    result = ingest.import_file(path, "big.csv", "penalty", "ecology", progress=seen.append)
    assert result.imported == ingest.CHUNK * 2 + 5
    assert seen == [ingest.CHUNK, ingest.CHUNK * 2, ingest.CHUNK * 2 + 5]
    assert PenaltyRecord.select().count() == RecordChange.select().count() == result.imported


def test_correcting_or_withdrawing_arrears_marks_the_reports_that_showed_them(
        app, register, write_table, make_signed_report):
    good = register[0]
    first = [good.name, good.uscc, "社保", "2024-01", "2024-03", "1200", "否", ""]
    path = write_table("arrears.csv", ARREARS_HEADERS, [first])
    ingest.import_file(path, "arrears.csv", "arrears", "tax")
    item = ArrearsRecord.get()
    report = make_signed_report(enterprise=good)
    ReportArrears.create(report=report, arrears=item)
    settled = [[*first[:5], "1200", "是", "2024-05-06", "更正"]]
    path = write_table("fix.csv", [*ARREARS_HEADERS, "操作"], settled)
    assert ingest.import_file(path, "fix.csv", "arrears", "tax").updated == 1
    marked = Report.get_by_id(report.id)
    assert report_status(marked) == CORRECTED and marked.correction_note == "国家税务总局黑河市税务局更正了社保欠缴数据"


def test_only_a_replaced_mobile_counts_as_a_change_and_it_is_audited(app, write_table):
    headers = ["企业名称", "统一社会信用代码", "联系电话"]

    def load(name, mobile):
        return ingest.import_file(write_table(name, headers, [["黑河市北辰商贸有限公司", uscc(70), mobile]]), name,
                                  "enterprise", None)

    load("first.csv", "")
    load("second.csv", "13904560001")  # the first number: not a change
    assert Enterprise.get(Enterprise.uscc == uscc(70)).mobile_changed_at is None
    assert load("same.csv", "139-0456-0001").unchanged == 1
    result = load("third.csv", "13800138000")
    changed = Enterprise.get(Enterprise.uscc == uscc(70))
    assert result.updated == 1 and changed.mobile_changed_at is not None
    [audit_row] = RecordChange.select().where(RecordChange.action == "mobile_change")
    assert (audit_row.before["mobile"], audit_row.after["mobile"]) == ("13904560001", "13800138000")
    assert audit_row.batch_id == result.batch_id and result.outbound == []  # nobody bound: nobody to tell


def test_an_amount_that_is_no_number_is_a_rejected_row_and_the_batch_finishes(app, register, write_table):
    good = register[0]
    rows = [penalty(good.name, good.uscc, 1, **{"罚款金额（万元）": "1e309"}),
            penalty(good.name, good.uscc, 2, **{"罚款金额（万元）": "NaN"}),
            penalty(good.name, good.uscc, 3, **{"罚款金额（万元）": "Infinity"}),
            penalty(good.name, good.uscc, 4)]
    path = write_table("amounts.csv", RECORD_HEADERS, as_cells(rows, "csv"))
    result = ingest.import_file(path, path.name, "penalty", "ecology")
    assert (result.imported, result.rejected) == (1, 3)
    assert {e.column for e in result.errors} == {"罚款金额（万元）"}
    assert ImportBatch.get_by_id(result.batch_id).status == "done"


@pytest.mark.filterwarnings("ignore:Cell J2 is marked as a date")
def test_a_bad_xlsx_cell_is_a_rejected_row(app, register, tmp_path):
    good = register[0]
    book = openpyxl.Workbook()
    book.active.append(RECORD_HEADERS)
    for number, decided in ((1, 2958466 * 10), (2, "2024-03-05")):  # a date serial beyond 9999-12-31
        row = [penalty(good.name, good.uscc, number)[h] for h in RECORD_HEADERS]
        row[RECORD_HEADERS.index("处罚决定日期")] = decided
        book.active.append(row)
    book.active.cell(2, RECORD_HEADERS.index("处罚决定日期") + 1).number_format = "yyyy-mm-dd"
    path = tmp_path / "cells.xlsx"
    book.save(path)
    result = ingest.import_file(path, path.name, "penalty", "ecology")
    assert (result.imported, result.rejected) == (1, 1) and result.errors[0].column == "处罚决定日期"


def test_an_unexpected_fault_leaves_no_batch_running(app, register, write_table, monkeypatch):
    good = register[0]
    path = write_table("a.csv", RECORD_HEADERS, as_cells([penalty(good.name, good.uscc, 1)], "csv"))

    def broken(self, rows, *args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest.PenaltyLoader, "flush", broken)  # the row-by-row path (SQLite)
    monkeypatch.setattr(ingest.PenaltyStage, "_load", broken)  # the staged one (PostgreSQL), on its worker thread
    with pytest.raises(RuntimeError):
        ingest.import_file(path, path.name, "penalty", "ecology")
    batch = ImportBatch.get()
    assert (batch.status, batch.error) == ("failed", "导入中断，本次未作任何更改，请重新上传")
    assert not PenaltyRecord.select().exists()


def test_an_authority_outside_the_departments_list_is_held_not_rejected(app, register, write_table):
    good = register[0]
    rows = [penalty(good.name, good.uscc, 1, 处罚机关="黑河市生态环境局逊克分局"),
            penalty(good.name, good.uscc, 2, 处罚机关="黑河市市场监督管理局")]
    path = write_table("a.csv", RECORD_HEADERS, as_cells(rows, "csv"))
    result = ingest.import_file(path, path.name, "penalty", "ecology", as_of=local_today())
    assert (result.imported, result.rejected, result.held) == (2, 0, 1)
    assert result.held_rows == [
        (3, "处罚机关“黑河市市场监督管理局”不在黑河市生态环境局的执法机关名单中（需信用办核实）")]
    held = PenaltyRecord.get(PenaltyRecord.authority == "黑河市市场监督管理局")
    assert held.review == "held_authority"
    county = PenaltyRecord.get(PenaltyRecord.authority == "黑河市生态环境局逊克分局")
    assert county.review == VERIFIED  # a county branch on the seeded list
    Department.get(Department.code == "ecology").set_authorities(["黑河市生态环境局逊克分局", "黑河市市场监督管理局"])
    again = ingest.import_file(path, path.name, "penalty", "ecology")
    assert again.held == 1  # a held record stays held until staff release it, even once the list allows it


def test_headers_below_title_rows_raw_columns_and_personal_ids(app, register, tmp_path):
    good = register[0]
    headers = [*RECORD_HEADERS, "内部编号", "法定代表人证件号码"]
    lines = ["黑河市生态环境局行政处罚信息,,", "（2026年第三季度）,,", ",".join(headers),
             ",".join([*[penalty(good.name, good.uscc, 1)[h] for h in RECORD_HEADERS], "N-1", "232601197804153017"])]
    path = tmp_path / "titled.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest.import_file(path, path.name, "penalty", "ecology")
    assert (result.imported, result.rejected) == (1, 0)
    record = PenaltyRecord.get()
    assert record.raw == {"内部编号": "N-1"}
    assert "232601197804153017" not in json.dumps(record.__data__, ensure_ascii=False, default=str)


def test_a_department_with_several_domains_must_say_which(app, register, write_table):
    departments.grant(Department.get(Department.code == "ecology"), "penalty", Domain.get(Domain.code == "water"))
    good = register[0]
    rows = [penalty(good.name, good.uscc, 1, 领域=""), penalty(good.name, good.uscc, 2, 领域="水务")]
    path = write_table("a.csv", RECORD_HEADERS, as_cells(rows, "csv"))
    result = ingest.import_file(path, path.name, "penalty", "ecology")
    assert result.imported == 1 and result.errors[0].column == "领域" and "多个领域" in result.errors[0].reason


def test_arrears_keep_unknown_columns_and_skip_natural_persons(app, register, write_table):
    good = register[0]
    headers = [*ARREARS_HEADERS, "经办人", "行政相对人类别"]
    rows = [[good.name, good.uscc, "社保", "2024-01", "2024-03", "100", "否", "", "王五", "法人及非法人组织"],
            ["张三", "", "社保", "2024-01", "2024-03", "100", "否", "", "王五", "自然人"]]
    result = ingest.import_file(write_table("a.csv", headers, rows), "a.csv", "arrears", "tax")
    assert (result.imported, result.skipped, result.rejected) == (1, 1, 0)
    assert ArrearsRecord.get().raw == {"经办人": "王五"}


def test_a_respelling_updates_the_text_but_corrects_no_report(app, register, write_table, make_signed_report):
    good = register[0]
    first = penalty(good.name, good.uscc, 1, 处罚类别="罚款;没收违法所得")
    path = write_table("a.csv", RECORD_HEADERS, as_cells([first], "csv"))
    ingest.import_file(path, path.name, "penalty", "ecology")
    record = PenaltyRecord.get()
    report = make_signed_report(enterprise=good)
    report.record_links.model.create(report=report, record=record)
    again = penalty(good.name, good.uscc, 1, 处罚类别="罚款；没收违法所得", 违法事实="超标排放（补充）")
    sent = write_table("b.csv", RECORD_HEADERS, as_cells([again], "csv"))
    respelt = ingest.import_file(sent, sent.name, "penalty", "ecology")
    assert respelt.updated == 1 and PenaltyRecord.get().category == "罚款；没收违法所得"
    assert RecordChange.get(RecordChange.record_id == record.id, RecordChange.action != "create").action == "update"
    assert Report.get_by_id(report.id).corrected_at is not None  # 违法事实 changed in substance: a correction
    spaced = penalty(good.name, good.uscc, 1, 处罚类别="罚款 ; 没收违法所得", 违法事实="超标排放（补充）")
    path2 = write_table("c.csv", RECORD_HEADERS, as_cells([spaced], "csv"))
    Report.update(corrected_at=None).where(Report.id == report.id).execute()
    assert ingest.import_file(path2, path2.name, "penalty", "ecology").updated == 1
    assert Report.get_by_id(report.id).corrected_at is None  # spacing only: the report stays valid
    assert RecordChange.select().where(RecordChange.action == "respell").count() == 1
