"""Objections and credit-repair cases as plain functions. (Stub: the cases helper implements these.)"""


class CaseError(Exception):
    """A case cannot be opened; `message` is a Chinese sentence for the owner."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotEligible(CaseError):
    """A credit-repair request whose record is not yet eligible; the message says why and when."""


def records_for_case(enterprise, kind):
    """Penalty records the owner may raise an objection (kind='objection') or a repair (kind='repair') about."""
    raise NotImplementedError


def check_repair_eligibility(record, today=None):
    """Raise NotEligible with the reason when `record` cannot be repaired yet."""
    raise NotImplementedError


def open_case(kind, user, enterprise, record, reason, msg_key, evidence_blob_ids=(), commitment_blob_id=None):
    """Open a case (idempotent per msg_key), notify the providing department; return the Case."""
    raise NotImplementedError
