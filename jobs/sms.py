"""The SMS job: one `SmsMessage` row (a binding code) to its registered mobile, through jobs/gateways/sms.py.

The job is given the row's id only: RQ keeps job arguments in Redis and rq-dashboard shows them, so the text (the
code) never goes there. Claiming the row blanks its text; a failure that sent nothing writes it back for RQ's retry,
and the last try, or a gateway refusal, leaves the row failed with no text. A row older than a code's life is never
sent (the code has expired) and is blanked.
"""

from rq import Retry

from jobs.gateways import sms as gateway
from jobs.gateways.sms import SMSError, SMSNotConfigured, SMSRejected, SMSUnavailable
from models.tables.accounts import SmsMessage
from runtime import current

__all__ = ["SMSError", "SMSNotConfigured", "SMSRejected", "SMSUnavailable", "enqueue_sms", "send_sms"]

RETRY_INTERVALS = [10, 30, 120]
MAX_AGE = 5 * 60  # a binding code's life (bot/flows/codes.py CODE_SECONDS)


def enqueue_sms(rt, sms_id):
    """Queue `send_sms(sms_id)` with bounded retries (one job per row); return the RQ job."""
    return rt.queue.enqueue("jobs.sms.send_sms", sms_id, job_id=f"sms-{sms_id}",
                            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS))


def sms_job_queued(rt, sms_id):
    """True when the job of row `sms_id` is already in the queue (a repeated message must not queue it twice)."""
    return rt.queue.fetch_job(f"sms-{sms_id}") is not None


def send_sms(sms_id):
    """Job: send SmsMessage `sms_id` once; return the gateway's answer, or None when there was nothing to send."""
    claimed = SmsMessage.take(sms_id, MAX_AGE)
    if claimed is None:
        return None
    mobile, text = claimed
    try:
        result = gateway.send(current().config, mobile, text)
    except SMSUnavailable as exc:
        row = SmsMessage.find(sms_id)
        last_try = row.attempts > len(RETRY_INTERVALS)
        SmsMessage.failed(sms_id, str(exc), retry_text=None if last_try else text)
        raise
    except SMSError as exc:
        SmsMessage.failed(sms_id, str(exc))
        raise
    SmsMessage.sent(sms_id)
    return result
