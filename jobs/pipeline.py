"""The report pipeline. (Stub: the report helper replaces this module; keep `enqueue_build`'s signature.)"""


def enqueue_build(rt, request_id):
    """Queue the build of ReportRequest `request_id`; safe to call twice for the same id."""
    return rt.queue.enqueue("jobs.pipeline.build_report", request_id, job_id=f"build-{request_id}")
