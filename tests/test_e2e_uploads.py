"""End to end on real processes: staff uploads are stored and imported by a worker, never in the web process — an
XLSX inflating to 1 GB and one of 300,000 rows in a small file neither balloon a process nor hold a web worker, and
a bad cell is a rejected row, never an aborted file (issue 13, items 5 and 9).

The stack runs without a worker at first, so an upload's import provably waits for one; then `flask worker --burst`
imports everything queued.
"""

import io
import re
import resource
import zipfile
from pathlib import Path

import openpyxl
import pytest
import redis
import requests
from conftest import PG_ADMIN_URL, REDIS_BASE, REDIS_DB, TEST_DB

from devtools.stack import Stack, postgres_database
from models.base import bind_database, db
from models.policy.uscc import make_org_code, make_uscc
from models.tables.records import ImportBatch, ImportUpload, PenaltyRecord

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-upload-office-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = make_uscc("91231102" + make_org_code("MA9U7L0D"))
NAME = "黑河市上传测试商贸有限公司"
HEADERS = ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "处罚类别", "罚款金额（万元）", "处罚决定日期",
           "处罚机关"]
MB = 1 << 20


def _flush():
    conn = redis.Redis.from_url(f"{REDIS_BASE}/{REDIS_DB}")
    conn.flushdb()
    conn.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    if TEST_DB == "postgres":
        with postgres_database(PG_ADMIN_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-up-db') / 'e2e.db'}"


@pytest.fixture(scope="module")
def stack(database, tmp_path_factory):
    """Web (gunicorn, 2 workers) and the doubles, no RQ worker, no scheduler; an office account; one enterprise."""
    _flush()
    workdir = tmp_path_factory.mktemp("e2e-up-stack")
    with Stack(database, f"{REDIS_BASE}/{REDIS_DB}", workdir, workers=0, scheduler=False) as running:
        created = running.flask("staff", "create", "e2e-up-office", "--role", "office", stdin=PASSWORD + "\n")
        assert created.returncode == 0, created.stderr
        register = workdir / "register.csv"
        register.write_text(f"企业名称,统一社会信用代码\n{NAME},{CODE}\n", encoding="utf-8")
        assert running.flask("import", "enterprises", str(register)).returncode == 0
        bind_database(database)
        db.connect(reuse_if_open=True)
        yield running
        db.close()
    _flush()


def xlsx_with_sheet(write):
    """A real workbook whose first sheet is whatever `write(handle)` streams (deflated)."""
    book = openpyxl.Workbook()
    book.active.append(HEADERS)
    raw = io.BytesIO()
    book.save(raw)
    source, out = zipfile.ZipFile(raw), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info.filename))
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as handle:
            write(handle)
    return out.getvalue()


SHEET_HEAD = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'


def inflation_bomb():
    """About 1 MB on disk, 1 GB inflated: one cell of a billion characters."""
    def write(handle):
        handle.write(SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>')
        block = b"A" * MB
        for _ in range(1024):
            handle.write(block)
        handle.write(b"</t></is></c></row></sheetData></worksheet>")
    return xlsx_with_sheet(write)


def row_flood():
    """The header, then 300,000 rows in a small file."""
    header = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADERS).encode()
    return xlsx_with_sheet(lambda h: h.write(SHEET_HEAD + b"<row>" + header + b"</row>"
                                             + b"<row><c><v>1</v></c></row>" * 300_000 + b"</sheetData></worksheet>"))


def session_for(stack):
    staff = requests.Session()
    token = CSRF.search(staff.get(f"{stack.base_url}/staff/login", timeout=10).text).group(1)
    login = staff.post(f"{stack.base_url}/staff/login", allow_redirects=False, timeout=10,
                       data={"csrf_token": token, "username": "e2e-up-office", "password": PASSWORD})
    assert login.status_code == 302
    return staff


def upload(stack, staff, name, content):
    """POST the file; the answer is a redirect to its batch page, at once (nothing imported in the request)."""
    token = CSRF.search(staff.get(f"{stack.base_url}/staff/upload", timeout=10).text).group(1)
    response = staff.post(f"{stack.base_url}/staff/upload", allow_redirects=False, timeout=30,
                          data={"csrf_token": token, "kind": "penalty", "department": "market"},
                          files={"file": (name, content)})
    assert response.status_code == 303, response.text[:500]
    batch_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = staff.get(f"{stack.base_url}/staff/batches/{batch_id}", timeout=10).text
    assert "排队中" in page and 'http-equiv="refresh"' in page
    return batch_id


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def web_workers(stack):
    """The gunicorn worker processes (children of the master)."""
    master = next(proc.pid for name, proc, _log in stack.procs if name == "web")
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    assert found, "no gunicorn workers found"
    return found


def test_bombs_and_bad_cells_are_imported_by_a_worker_within_limits(stack, tmp_path):
    staff = session_for(stack)
    bomb, flood = inflation_bomb(), row_flood()
    assert len(bomb) < 3 * MB and len(flood) < 300_000
    amounts = "\n".join([",".join(HEADERS),
                         f"{NAME},{CODE},黑市监罚〔2026〕901号,罚款,1e309,2026-03-01,黑河市市场监督管理局",
                         f"{NAME},{CODE},黑市监罚〔2026〕902号,罚款,NaN,2026-03-01,黑河市市场监督管理局",
                         f"{NAME},{CODE},黑市监罚〔2026〕903号,罚款,0.5,2026-03-01,黑河市市场监督管理局"]).encode()
    ids = {"bomb": upload(stack, staff, "bomb.xlsx", bomb), "flood": upload(stack, staff, "flood.xlsx", flood),
           "amounts": upload(stack, staff, "amounts.csv", amounts)}
    assert ImportUpload.select().count() == 3  # stored in the database, for any node's worker
    assert max(rss_mb(pid) for pid in web_workers(stack)) < 200  # the web process never inflated anything

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    worker = stack.flask("worker", "--burst")
    assert worker.returncode == 0, worker.stderr[-2000:]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mb < 400, f"a child process reached {peak_mb:.0f} MB (before: {before / 1024:.0f} MB)"

    batches = {key: ImportBatch.get_by_id(batch_id) for key, batch_id in ids.items()}
    assert batches["bomb"].status == "unreadable" and "解压后超过256MB" in batches["bomb"].error
    assert batches["flood"].status == "unreadable" and "文件超过100000行" in batches["flood"].error
    done = batches["amounts"]
    assert (done.status, done.imported, done.rejected) == ("done", 1, 2)
    assert [r.decision_no for r in PenaltyRecord.select()] == ["黑市监罚〔2026〕903号"]
    assert ImportUpload.select().count() == 0  # every stored upload deleted once imported
    for key, batch_id in ids.items():
        page = staff.get(f"{stack.base_url}/staff/batches/{batch_id}", timeout=10).text
        assert 'http-equiv="refresh"' not in page, key
        assert ("无法导入" if key != "amounts" else "不是有效数字") in page, key
    assert requests.get(f"{stack.base_url}/healthz", timeout=10).status_code == 200
