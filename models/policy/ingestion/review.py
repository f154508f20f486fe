"""Staff review of held records: what holds them, and releasing them once a person has checked.

A record held for 核验 (unknown USCC, name mismatch) is released against the register; one held because its 简易程序
label cannot be true (行政处罚法 第五十一条) is released with the procedure the staff member confirmed with the
department (普通程序 when the label was wrong); one held for its 处罚机关 once the credit office has confirmed the
department speaks for that authority. Every release is audited.
"""

from models.base import db
from models.policy.ingestion.storage import apply_change, register_lookup, review_for, same_name
from models.refusals import Refusal
from models.tables.listings import LISTING_MODELS
from models.tables.records import (
    HELD_IMPLAUSIBLE,
    HELD_UNKNOWN_USCC,
    ORDINARY,
    SIMPLIFIED,
    VERIFIED,
    ArrearsRecord,
    PenaltyRecord,
)
from models.tables.registry import PENALTY

MODELS = {PENALTY: PenaltyRecord, "arrears": ArrearsRecord, **LISTING_MODELS}


class ReleaseRefused(Refusal):
    """A held record cannot be released; `message` says why, in Chinese."""


def held_record(kind, record_id, department_id=None):
    """The held record of `kind` with `record_id` (of one department, unless None), or None."""
    model = MODELS.get(kind)
    if model is None:
        return None
    query = model.select().where((model.id == record_id) & (model.review != VERIFIED))
    if department_id is not None:
        query = query.where(model.department == department_id)
    return query.first()


def held_records(department_id=None, limit=500):
    """[(kind, record)] of every held record (of one department, unless None), oldest first."""
    found = []
    for kind, model in MODELS.items():
        query = model.select().where(model.review != VERIFIED).order_by(model.id).limit(limit)
        if department_id is not None:
            query = query.where(model.department == department_id)
        found.extend((kind, record) for record in query)
    return found


def release_held(record, actor, procedure=None):
    """Staff confirm a held record: link it to the registered enterprise and count it; return the record.

    ReleaseRefused when the USCC is still not registered, or a §51 hold is released without the procedure the
    staff member confirmed (`procedure`: 普通程序 or 简易程序)."""
    codes = {h["code"] for h in record.holds or ()} | {record.review}
    found = register_lookup([record.uscc]).get(record.uscc)
    if found is None:
        raise ReleaseRefused("该统一社会信用代码尚未登记在企业名录中，请先导入企业信息")
    changes = {"enterprise": found[0], "review": VERIFIED, "holds": None}
    if HELD_IMPLAUSIBLE in codes:
        if procedure not in (ORDINARY, SIMPLIFIED):
            raise ReleaseRefused("请先与报送部门核实并选择该处罚实际适用的程序（普通程序或简易程序）")
        changes["procedure"] = procedure
    with db.atomic():
        apply_change(record, changes, "release", actor)
    return record


def recheck(record):
    """The review a record would get now from the register (for staff screens)."""
    return review_for(register_lookup([record.uscc]), record.uscc, record.subject_name)[1]


def register_state(record):
    """What the register says of a held record's subject now: None when it agrees."""
    found = register_lookup([record.uscc]).get(record.uscc)
    if found is None:
        return HELD_UNKNOWN_USCC
    return None if same_name(found[1], record.subject_name) else "name"
