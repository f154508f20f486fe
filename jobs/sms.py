"""The SMS job: one binding code to a registered mobile, through the SMS gateway (jobs/gateways/sms.py)."""

from rq import Retry

from jobs.gateways import sms as gateway
from jobs.gateways.sms import SMSError, SMSNotConfigured, SMSRejected, SMSUnavailable
from runtime import current

__all__ = ["SMSError", "SMSNotConfigured", "SMSRejected", "SMSUnavailable", "enqueue_sms", "send_sms"]

RETRY_INTERVALS = [10, 30, 120]


def enqueue_sms(rt, mobile, text):
    """Queue `send_sms(mobile, text)` with bounded retries; return the RQ job."""
    return rt.queue.enqueue("jobs.sms.send_sms", mobile, text,
                            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS))


def send_sms(mobile, text):
    """Job: send one SMS through the configured backend."""
    return gateway.send(current().config, mobile, text)
