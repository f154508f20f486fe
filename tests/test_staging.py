"""models.policy.ingestion.staging and the chunked path of ingest: on PostgreSQL a penalty load is staged and merged
set-based, on SQLite flushed row by row; each test runs on both and asserts the same results, so they are identical.

The chunk size is made small, so that a handful of rows crosses several chunks (and, on PostgreSQL, overlaps the
validation of one chunk with the merge of the one before)."""

import datetime as dt
from decimal import Decimal

import pytest

from models.base import is_postgres
from models.policy.ingestion import ingest, staging
from models.policy.ingestion.formats import ReadLimits, UnreadableFile
from models.policy.ingestion.storage import record_dict
from models.tables.records import FAILED, UNREADABLE, ImportBatch, PenaltyRecord, RecordChange, RejectedRow
from models.tables.registry import Enterprise
from tests.test_ingest import RECORD_HEADERS, as_cells, penalty, uscc


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK", 3)


@pytest.fixture
def firm(app):
    return Enterprise.create(uscc=uscc(1), name="黑河市绿源环保科技有限公司", county="爱辉区")


def load(write_table, rows, name="a.csv", **kwargs):
    path = write_table(name, RECORD_HEADERS, as_cells(rows, "csv"))
    return ingest.import_file(path, path.name, "penalty", "ecology", actor="test", **kwargs)


def good_rows(firm, count, **over):
    return [penalty(firm.name, firm.uscc, n, **over) for n in range(1, count + 1)]


def test_the_path_under_test_is_the_databases_own(app, firm, write_table, small_chunks, monkeypatch):
    staged = []
    original = staging.PenaltyStage._load
    monkeypatch.setattr(staging.PenaltyStage, "_load", lambda self, *a: staged.append(1) or original(self, *a))
    assert load(write_table, good_rows(firm, 7)).imported == 7
    assert len(staged) == (3 if is_postgres() else 0)  # 7 rows in chunks of 3


def test_a_reimport_that_changes_one_row_audits_exactly_that_row(app, firm, write_table, small_chunks):
    rows = good_rows(firm, 8)
    first = load(write_table, rows)
    assert (first.imported, first.updated, first.unchanged) == (8, 0, 0)
    rows[4] = dict(rows[4], 违法事实="超标排放，且拒不改正")
    again = load(write_table, rows, name="b.csv")
    assert (again.imported, again.updated, again.unchanged, again.rejected) == (0, 1, 7, 0)
    changes = list(RecordChange.select().where(RecordChange.batch == again.batch_id))
    changed = PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕5号")
    assert [(c.record_id, c.action) for c in changes] == [(changed.id, "update")]
    assert (changes[0].before["facts"], changes[0].after["facts"]) == ("超标排放", "超标排放，且拒不改正")
    assert changed.facts == "超标排放，且拒不改正"
    assert RecordChange.select().count() == 9  # eight creates, one update


def test_duplicates_inside_a_file_across_chunks_and_within_one(app, firm, write_table, small_chunks):
    rows = good_rows(firm, 5)
    rows.insert(2, dict(rows[0]))  # row 4 repeats row 2 inside the first chunk (rows 2–4)
    rows.append(dict(rows[1], 违法事实="另一种写法"))  # row 8 repeats row 3, two chunks later
    rows.append(penalty(firm.name, firm.uscc, 1, 处罚机关="黑河市生态环境局逊克分局"))  # another authority: no repeat
    result = load(write_table, rows)
    assert (result.imported, result.rejected) == (6, 2)
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (4, "行政处罚决定书文号", "与第2行重复"), (8, "行政处罚决定书文号", "与第3行重复")]
    assert PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕2号").facts == "超标排放"  # the first wins
    assert RecordChange.select().where(RecordChange.action == "create").count() == 6


def test_a_row_already_stored_is_matched_not_duplicated(app, firm, write_table, small_chunks):
    load(write_table, good_rows(firm, 4))
    again = load(write_table, good_rows(firm, 6), name="b.csv")  # four stored, two new
    assert (again.imported, again.updated, again.unchanged, again.rejected) == (2, 0, 4, 0)
    assert PenaltyRecord.select().count() == 6
    assert RecordChange.select().where(RecordChange.batch == again.batch_id).count() == 2


def test_a_bad_row_beside_good_ones_loses_nothing(app, firm, write_table, small_chunks):
    rows = good_rows(firm, 7)
    rows[3] = dict(rows[3], 处罚决定日期="三月五日")
    rows[5] = penalty("黑河市无名商贸有限公司", uscc(99), 6)  # held: not in the register
    result = load(write_table, rows)
    assert (result.imported, result.rejected, result.held) == (6, 1, 1)
    assert [(e.row, e.column) for e in result.errors] == [(5, "处罚决定日期")]
    assert result.held_rows == [(7, "统一社会信用代码未在企业名录中登记（核验）")]
    stored = {r.decision_no for r in PenaltyRecord.select()}
    assert stored == {f"黑环罚〔2024〕{n}号" for n in (1, 2, 3, 5, 6, 7)}
    assert RejectedRow.select().where(RejectedRow.batch == result.batch_id).count() == 2


def test_the_create_audit_row_is_the_record_as_stored(app, firm, write_table, small_chunks):
    rows = good_rows(firm, 4)
    rows[1] = penalty("黑河市北疆木业公司", firm.uscc, 2, 程序类型="简易程序", 备注="当场作出",
                      **{"罚款金额（万元）": "0.5"})  # held twice: the name, and §51
    load(write_table, rows)
    for record in PenaltyRecord.select():
        after = RecordChange.get((RecordChange.record_id == record.id) & (RecordChange.action == "create")).after
        assert after == {k: v for k, v in record_dict(record).items() if v not in ("", None)}
    held = PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕2号")
    assert [h["code"] for h in held.holds] == ["held_name_mismatch", "held_implausible"]
    assert held.fine_wan == Decimal("0.5") and held.decided_on == dt.date(2024, 3, 5)


def test_text_with_tabs_newlines_and_backslashes_is_stored_as_sent(app, firm, write_table, small_chunks):
    odd = "经查：\t当事人\\“超标”\n排放。\r\n\\N"
    rows = good_rows(firm, 4)
    rows[2] = dict(rows[2], 违法事实=odd, 处罚依据="\\")
    load(write_table, rows)
    record = PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕3号")
    assert (record.facts, record.basis) == (odd.strip(), "\\")
    again = load(write_table, rows, name="b.csv")
    assert (again.updated, again.unchanged) == (0, 4)  # compared as stored, not as escaped


def test_an_unreadable_file_mid_way_leaves_nothing_half_written(app, firm, write_table, small_chunks):
    path = write_table("a.csv", RECORD_HEADERS, as_cells(good_rows(firm, 12), "csv"))
    with pytest.raises(UnreadableFile):
        ingest.import_file(path, path.name, "penalty", "ecology", limits=ReadLimits(max_rows=10))
    batch = ImportBatch.get()
    assert batch.status == UNREADABLE and "10行" in batch.error
    assert not PenaltyRecord.select().exists() and not RecordChange.select().exists()


def test_a_write_failing_mid_way_leaves_nothing_half_written(app, firm, write_table, small_chunks, monkeypatch):
    calls = []
    flush, stage = ingest.PenaltyLoader.flush, staging.PenaltyStage._load

    def failing(original):
        def write(self, *args):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("disk on fire")
            return original(self, *args)
        return write

    monkeypatch.setattr(ingest.PenaltyLoader, "flush", failing(flush))
    monkeypatch.setattr(staging.PenaltyStage, "_load", failing(stage))
    path = write_table("a.csv", RECORD_HEADERS, as_cells(good_rows(firm, 12), "csv"))
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest.import_file(path, path.name, "penalty", "ecology")
    assert len(calls) == 3  # two chunks were written before the third failed
    batch = ImportBatch.get()
    assert (batch.status, batch.error) == (FAILED, "导入中断，本次未作任何更改，请重新上传")
    assert not PenaltyRecord.select().exists() and not RecordChange.select().exists()


def test_corrections_withdrawals_and_holds_across_chunks(app, firm, write_table, small_chunks):
    load(write_table, good_rows(firm, 6))
    rows = [penalty(firm.name, firm.uscc, 1, 操作="撤销"),
            penalty(firm.name, firm.uscc, 2, 操作="更正", **{"罚款金额（万元）": "2"}),
            penalty(firm.name, firm.uscc, 3),
            penalty(firm.name, firm.uscc, 40, 操作="更正"),  # nothing to correct
            penalty(firm.name, firm.uscc, 41, 操作="撤销"),  # nothing to withdraw
            penalty("黑河市无名商贸有限公司", uscc(98), 42),  # new, held
            penalty(firm.name, firm.uscc, 4, 领域="市场监管")]  # its domain not granted
    result = load(write_table, rows, name="b.csv")
    assert (result.imported, result.updated, result.unchanged, result.rejected, result.held) == (1, 2, 1, 3, 1)
    assert result.lines() == [
        "第5行 [操作] 未找到要更正的原记录（按行政处罚决定书文号和处罚机关）",
        "第6行 [操作] 未找到要撤销的原记录（按行政处罚决定书文号和处罚机关）",
        "第7行 [待核验] 统一社会信用代码未在企业名录中登记（核验）",
        "第8行 [领域] 本单位无权报送“市场监管”领域的数据",
    ]
    assert PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕1号").status == "withdrawn"
    assert PenaltyRecord.get(PenaltyRecord.decision_no == "黑环罚〔2024〕2号").fine_wan == Decimal(2)
    actions = sorted(c.action for c in RecordChange.select().where(RecordChange.batch == result.batch_id))
    assert actions == ["correct", "create", "withdraw"]
    assert ImportBatch.get_by_id(result.batch_id).status == "done"
