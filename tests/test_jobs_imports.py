"""jobs.imports: a stored staff upload imported by a worker within the upload limits, then deleted."""

import io
import zipfile

from rq.timeouts import JobTimeoutException

from jobs import imports
from models.policy import departments
from models.tables.records import ImportBatch, ImportUpload, PenaltyRecord
from models.tables.registry import Department

HEADERS = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚类别,处罚决定日期,处罚机关,领域\n"


def queued(content, kind="penalty", code="market", filename="f.csv"):
    batch = ImportBatch.queue_upload(Department.by_code(code), kind, filename, "market1", None, content)
    return batch


def test_the_job_imports_the_upload_and_deletes_it(app, rt, drain, case_world):
    ent = case_world.enterprise
    row = f"{ent.name},{ent.uscc},黑市监罚〔2026〕1号,罚款,2026-03-01,黑河市市场监督管理局,market\n"
    batch = queued((HEADERS + row).encode())
    imports.enqueue_upload(rt, batch.id)
    assert [j.func_name for j in rt.slow_queue.jobs] == ["jobs.imports.run_upload"]  # never the QR code's queue
    assert drain() == 0
    batch = ImportBatch.get_by_id(batch.id)
    assert (batch.status, batch.imported, batch.source) == ("done", 1, "staff")
    assert not ImportUpload.select().exists() and PenaltyRecord.select().count() == 1
    assert imports.run_upload(batch.id) is None  # a second run finds it done and does nothing


def test_an_upload_over_the_limits_is_unreadable_and_still_deleted(app, rt):
    rt.config.update(IMPORT_XLSX_MAX_INFLATED_MB=1)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "A" * (4 << 20))
    batch = queued(bomb.getvalue(), filename="bomb.xlsx")
    assert imports.run_upload(batch.id) == "unreadable"
    batch = ImportBatch.get_by_id(batch.id)
    assert "解压后超过1MB" in batch.error and batch.upload_content() is None
    rt.config.update(IMPORT_XLSX_MAX_INFLATED_MB=256, IMPORT_UPLOAD_MAX_ROWS=3)
    many = queued((HEADERS + "a,b,c,d,e,f,g\n" * 10).encode())
    assert imports.run_upload(many.id) == "unreadable" and "文件超过3行" in ImportBatch.get_by_id(many.id).error


def test_a_grant_withdrawn_before_the_job_runs_is_said_so(app, rt):
    batch = queued(HEADERS.encode(), kind="repair")
    market = Department.by_code("market")
    for grant in market.grant_list():
        if grant.kind == "repair":
            departments.revoke_grant(market, grant.id)
    assert imports.run_upload(batch.id) == "unreadable"
    assert "无权报送信用修复" in ImportBatch.get_by_id(batch.id).error


def test_a_job_stopped_by_its_timeout_marks_the_batch_failed(app, rt):
    batch = queued(HEADERS.encode())
    job = imports.enqueue_upload(rt, batch.id)
    assert job.timeout == rt.config["IMPORT_MAX_SECONDS"] + imports.TIMEOUT_MARGIN
    imports.on_upload_failure(job, rt.redis, JobTimeoutException, JobTimeoutException("timeout"), None)
    batch = ImportBatch.get_by_id(batch.id)
    assert (batch.status, batch.error) == ("failed", imports.GAVE_UP) and batch.upload_content() is None


def test_progress_is_shown_while_it_runs(app, rt):
    rt.redis.set(imports.progress_key(41), 2000)
    assert imports.progress_of(rt, 41) == 2000 and imports.progress_of(rt, 42) is None
