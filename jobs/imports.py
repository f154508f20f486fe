"""The staff upload's import, off the web process: the upload is stored in the database with a queued batch (any
node's worker can read it), this job imports it within the upload limits (inflated size, shared strings, rows, time;
config IMPORT_*), and the stored upload is deleted once imported, whatever the outcome. The batch page shows the
progress the job writes to Redis (losing it loses only the progress figure, never the batch).

On the slow queue, beside the PDFs: an import never delays a QR code.
"""

import io
import logging

from rq import Callback

from jobs.delivery import enqueue_rows
from models.policy.ingestion.formats import ReadLimits
from models.policy.ingestion.ingest import UnreadableFile, import_file
from models.tables.records import FAILED, UNREADABLE, ImportBatch
from runtime import current

log = logging.getLogger(__name__)

TIMEOUT_MARGIN = 60  # seconds the job may run beyond the import's own deadline before RQ stops it
PROGRESS_TTL = 86400
GAVE_UP = "导入超时或中断，本次未作任何更改；请拆分文件后重新上传，或联系信用办"


def progress_key(batch_id):
    return f"import-progress:{batch_id}"


def enqueue_upload(rt, batch_id):
    """Queue the import of the stored upload of batch `batch_id`."""
    return rt.slow_queue.enqueue(
        "jobs.imports.run_upload", batch_id, job_id=f"import-{batch_id}",
        job_timeout=rt.config["IMPORT_MAX_SECONDS"] + TIMEOUT_MARGIN,
        on_failure=Callback("jobs.imports.on_upload_failure"), result_ttl=3600, failure_ttl=7 * 86400,
    )


def run_upload(batch_id):
    """Job: import batch `batch_id`'s stored upload; the batch records the outcome. Returns the batch status."""
    rt = current()
    batch = ImportBatch.by_id(batch_id)
    if batch is None or not batch.start():
        return None
    content = batch.upload_content()
    if content is None:
        batch.mark(FAILED, "上传的文件已不存在，请重新上传")
        return batch.status
    limits = ReadLimits.from_config(rt.config, rows=True, seconds=rt.config["IMPORT_MAX_SECONDS"])
    key = progress_key(batch_id)
    try:
        result = import_file(io.BytesIO(content), batch.filename, batch.kind, batch.department.code,
                             source="staff", actor=batch.actor, as_of=batch.as_of, limits=limits, batch=batch,
                             progress=lambda done: rt.redis.set(key, done, ex=PROGRESS_TTL))
    except UnreadableFile as exc:
        log.info("upload batch %s unreadable: %s", batch_id, exc.message)
        if batch.status not in (UNREADABLE, FAILED):  # refused before reading (a grant withdrawn meanwhile)
            batch.mark(UNREADABLE, exc.message)
        return batch.status
    finally:
        batch.drop_upload()
        rt.redis.delete(key)
    enqueue_rows(result.outbound)
    return batch.status


def on_upload_failure(job, connection, exc_type, exc_value, traceback):
    """RQ failure callback (timeout, crash): the batch says so and the stored upload goes."""
    batch = ImportBatch.by_id(job.args[0])
    if batch is not None:
        if not batch.finished:
            batch.mark(FAILED, GAVE_UP)
        batch.drop_upload()


def progress_of(rt, batch_id):
    """Rows done so far by a running import, or None."""
    value = rt.redis.get(progress_key(batch_id))
    return int(value) if value is not None else None
