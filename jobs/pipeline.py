"""The report pipeline: a confirmed ReportRequest → a frozen, numbered, signed Report → QR delivered → PDF.

The ReportRequest row is the truth (queued → building → issued → delivered, or failed): it is delivered when its QR
image was sent (jobs/delivery.py marks it), not when the messages were queued. `build_report` resumes from wherever a
previous run stopped: a request has at most one Report (unique), messages go out once (delivery's dedup keys), and the
sweeps re-enqueue requests and deliveries a dead worker or a flushed Redis left behind.
"""

import datetime as dt
import json
import logging
import secrets

from peewee import IntegrityError
from rq import Callback, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bot import texts
from jobs import delivery
from models.base import to_local, utcnow
from models.policy.report import numbering, pades, present, rules, signing, sm2, snapshot, summary
from models.policy.report.pdf import PageStamp, html_to_pdf, render_report_html, seal_box
from models.policy.report.qr import qr_png
from models.tables.reports import Report
from models.tables.requests import BUILDING, FAILED, ISSUED, QUEUED, ReportRequest
from runtime import current

log = logging.getLogger(__name__)

BUILD_TIMEOUT = 120  # seconds; the sweep's threshold must stay above it
PDF_TIMEOUT = 120
RETRY_INTERVALS = [10, 60, 300]  # back-off between attempts for transient faults
MAX_ATTEMPTS = 8  # build starts (RQ retries and sweeps together) before the sweep gives up
PDF_SWEEP_WINDOW = dt.timedelta(days=1)
PENDING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


class RowNotVisible(LookupError):
    """The row is not (yet) visible: enqueued before its transaction committed, or deleted. Retried."""


# Faults no retry can mend: a request naming what does not exist, a missing signing key or rule set.
PERMANENT_ERRORS = (snapshot.SnapshotError, signing.SigningKeyError, sm2.SM2KeyError, rules.UnknownRuleSet)


def build_job_id(request_id):
    return f"build-{request_id}"


def pdf_job_id(report_id):
    return f"pdf-{report_id}"


def _job_status(rt, job_id):
    """The RQ status of `job_id`, or None when Redis does not know it (finished long ago, or flushed)."""
    try:
        return Job.fetch(job_id, connection=rt.redis).get_status()
    except NoSuchJobError:
        return None


def _enqueue_once(rt, func, arg, job_id, timeout, on_failure=None, revive=False, queue=None, meta=None):
    """Enqueue `func(arg)` as `job_id` unless it is already waiting (or running, unless `revive`)."""
    status = _job_status(rt, job_id)
    waiting = PENDING if revive else (*PENDING, JobStatus.STARTED)
    if status in waiting:
        return None
    return (queue or rt.queue).enqueue(
        func, arg, job_id=job_id, job_timeout=timeout, meta=meta,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        on_failure=on_failure, result_ttl=3600, failure_ttl=30 * 86400,
    )


def enqueue_build(rt, request_id, revive=False):
    """Queue the build of ReportRequest `request_id`; safe to call twice. Returns the new Job, or None."""
    job_id = build_job_id(request_id)
    ReportRequest.set_job(request_id, job_id)
    trace = ReportRequest.trace_of(request_id)
    return _enqueue_once(
        rt, "jobs.pipeline.build_report", request_id, job_id, BUILD_TIMEOUT,
        on_failure=Callback("jobs.pipeline.on_build_failure"), revive=revive,
        meta={"trace_id": trace} if trace else None,
    )


def enqueue_pdf(rt, report_id, revive=False):
    """Queue the PDF rendering of Report `report_id` unless it is waiting already."""
    return _enqueue_once(
        rt, "jobs.pipeline.render_pdf", report_id, pdf_job_id(report_id), PDF_TIMEOUT, revive=revive,
        queue=rt.slow_queue,
    )


def build_report(request_id):
    """Job: issue the report for ReportRequest `request_id` (or find it), queue the QR's delivery, queue the PDF."""
    rt = current()
    request = ReportRequest.find(request_id)
    if request is None:
        raise RowNotVisible(f"ReportRequest {request_id}")
    if request.status == FAILED:
        log.info("request %s is marked failed; not building", request_id)
        return None
    ReportRequest.mark(request_id, BUILDING, from_states=(QUEUED, BUILDING), count_attempt=True)
    report = Report.of_request(request_id) or issue_report(request, rt.config)
    deliver_qr(request, report)
    ReportRequest.mark(request_id, ISSUED, from_states=(QUEUED, BUILDING))  # delivered once the QR image was sent
    if report.pdf_ready_at is None:
        enqueue_pdf(rt, report.id)
    return report.id


def report_header(config, token, issued_at, valid_until):
    """The snapshot's header fields except the number (drawn inside the write transaction)."""
    base = config["PUBLIC_BASE_URL"]
    return {
        "issuer": config["REPORT_ISSUER"],
        "issued_at": to_local(issued_at).isoformat(timespec="seconds"),
        "valid_until": to_local(valid_until).isoformat(timespec="seconds"),
        "verify": {"url": f"{base}/v/{token}", "lookup": f"{base}/verify"},
    }


def issue_report(request, config):
    """Freeze, number, sign and store the report of `request`; a concurrent run's report wins."""
    issued_at = utcnow().replace(microsecond=0)
    valid_until = issued_at + dt.timedelta(days=config["REPORT_VALID_DAYS"])
    token = secrets.token_urlsafe(24)
    rule_set = rules.get_rule_set(config["RULE_SET"])
    key = signing.load_private_key(config["SIGNING_KEY"], config["INSTANCE_PATH"], config["DEV_MODE"])
    sm2_key = sm2.load_private_key(config["SM2_SIGNING_KEY"], config["INSTANCE_PATH"], config["DEV_MODE"])
    local_day = to_local(issued_at).date()
    frozen = snapshot.freeze(
        request, rule_set, report_header(config, token, issued_at, valid_until),
        today=local_day, stale_days=config["FEED_STALE_DAYS"],
    )
    try:
        with numbering.write_transaction():
            number = numbering.next_number(config["REPORT_REGION"], local_day)
            payload = signing.canonical_json({**frozen.data, "number": number})
            ed25519 = signing.sign(key, payload)
            signatures = [{"algorithm": sm2.ALGORITHM, "key_id": sm2_key.key_id, "value": sm2_key.sign(payload)},
                          {"algorithm": signing.ALGORITHM, "key_id": signing.key_id(key.public_key()),
                           "value": ed25519}]
            report = Report.issue(
                request, number=number,
                check_code=numbering.new_check_code(), token=token, issued_at=issued_at, valid_until=valid_until,
                rule_version=rule_set.version, snapshot=payload.decode("utf-8"), digest=signing.digest(payload),
                signature=ed25519, algorithm=signing.ALGORITHM, key_id=signing.key_id(key.public_key()),
                signatures=signatures,
            )
            snapshot.link_records(report, frozen.record_ids, frozen.arrears_ids, frozen.items)
            snapshot.supersede_older(report)
    except IntegrityError:
        existing = Report.of_request(request.id)
        if existing is None:
            raise
        return existing
    log.info("issued report %s for request %s", report.number, request.id)
    return report


def delivery_text(report, data):
    """The short message that goes with the QR code."""
    return texts.REPORT_DELIVERED.format(number=report.number, until=snapshot.cn_date(data["valid_until"]),
                                         url=data["verify"]["url"])


def deliver_qr(request, report):
    """Send the QR image and the text through the delivery queue (each at most once, by dedup key); the image, once
    sent, marks the request delivered."""
    data = json.loads(report.snapshot)
    delivery.queue_image(request.user_id, qr_png(data["verify"]["url"]), f"report-qr-{report.id}",
                         request_id=request.id)
    delivery.queue_text(request.user_id, delivery_text(report, data), f"report-text-{report.id}")


def render_pdf(report_id):
    """Job: render Report `report_id` to PDF, sign it (PAdES), and store it in the database for every web node."""
    report = Report.find(report_id)
    if report is None:
        raise RowNotVisible(f"Report {report_id}")
    if report.pdf_ready_at is not None:
        return report_id
    config = current().config
    Report.store_pdf(report_id, signed_pdf(report, config))
    return report_id


def signed_pdf(report, config):
    """The report's PDF: rendered from its snapshot, stamped, then signed over the whole file (docs/PDF.md B.1)."""
    data = json.loads(report.snapshot)
    png = qr_png(data["verify"]["url"])
    sm2_ids = [s["key_id"] for s in report.signature_list() if s["algorithm"] == sm2.ALGORITHM]
    proof = {"digest": report.digest, "algorithm": report.algorithm, "key_id": report.key_id,
             "sm2_key_id": sm2_ids[0] if sm2_ids else "—"}
    html = render_report_html(data, report.check_code, proof, png, summary.notice_for(config))
    body = html_to_pdf(html, PageStamp(number=report.number, qr_png=png, issuer=data["issuer"], title=data["title"],
                                       subject=f"{data['enterprise']['name']} {report.number}"))
    seal = pades.seal_for(config, present.cn_datetime(to_local(utcnow()).isoformat()))
    return pades.sign_pdf(body, seal_box(body), seal, config)


def fail_request(request_id, error):
    """Mark a request failed with `error` for staff and tell the owner (once)."""
    request = ReportRequest.find(request_id)
    if request is None or not ReportRequest.mark(request_id, FAILED, from_states=(QUEUED, BUILDING),
                                                 error=error[:4000]):
        return False
    log.error("report request %s failed: %s", request_id, error)
    delivery.queue_text(request.user_id, texts.REPORT_FAILED, f"report-failed-{request_id}")
    return True


def on_build_failure(job, connection, exc_type, exc_value, traceback):
    """RQ failure callback: permanent errors and the last retry mark the request failed; others retry."""
    if isinstance(exc_value, PERMANENT_ERRORS):
        job.retries_left = 0  # retrying cannot help
    if job.retries_left:
        log.warning("build %s failed (%s), %s retries left", job.id, exc_type.__name__, job.retries_left)
        return
    fail_request(job.args[0], f"{exc_type.__name__}: {exc_value}")


def sweep_stuck_requests():
    """Periodic: re-enqueue requests stuck in queued/building and reports still without a PDF."""
    rt = current()
    now = utcnow()
    cutoff = now - dt.timedelta(seconds=rt.config["REPORT_STUCK_SECONDS"])
    revived = 0
    for request in ReportRequest.stuck_since(cutoff):
        if request.attempts >= MAX_ATTEMPTS:
            fail_request(request.id, f"gave up after {request.attempts} attempts (sweep)")
        elif enqueue_build(rt, request.id, revive=True) is not None:
            ReportRequest.touch(request.id, now)
            revived += 1
    unrendered = Report.unrendered_ids(issued_after=now - PDF_SWEEP_WINDOW, issued_before=cutoff)
    # A PDF job that failed after its retries stays in RQ's failed registry for staff; only lost ones come back.
    lost = [i for i in unrendered if _job_status(rt, pdf_job_id(i)) not in (JobStatus.FAILED, *PENDING)]
    pdfs = sum(1 for report_id in lost if enqueue_pdf(rt, report_id, revive=True) is not None)
    if revived or pdfs:
        log.warning("sweep re-enqueued %s builds and %s PDFs", revived, pdfs)
    return {"builds": revived, "pdfs": pdfs}
