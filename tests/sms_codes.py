"""Reading the binding codes the bot sent, for the binding tests: from the real RQ queue and the SMS rows."""

import re

from models.tables.accounts import SmsMessage


def sms_jobs(rt):
    """(mobile, text) of every SMS the bot queued: the real RQ queue holds the rows' ids (never the text), the rows
    hold mobile and text until a worker sends them."""
    ids = [job.args for job in rt.queue.jobs if job.func_name == "jobs.sms.send_sms"]
    assert all(len(args) == 1 and isinstance(args[0], int) for args in ids)
    rows = {row.id: row for row in SmsMessage.select()}
    return [(rows[args[0]].mobile, rows[args[0]].text) for args in ids]


def last_code(rt):
    """The code of the newest SMS."""
    return re.search(r"\d{6}", sms_jobs(rt)[-1][1]).group(0)


def wrong_code(rt):
    """A code that is not the newest one."""
    return f"{(int(last_code(rt)) + 1) % 1_000_000:06d}"
