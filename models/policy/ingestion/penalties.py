"""行政处罚 records: the national 双公示 layout (current and 2016), our own columns, and the checks of a row.

A row is rejected only for a bad or missing USCC, 文号, 处罚类别 and 处罚内容 both empty, 处罚决定日期, 处罚机关, an
unknown or ungranted 领域, or a value that cannot be read (a date, an amount, 程序类型, 失信程度, 操作). Other blanks
are stored blank; a blank 数据来源单位 is the sending department. A natural person's row is skipped. A row is stored
but held for staff review when 核验 against the register fails, when its 简易程序 label cannot be true (行政处罚法
第五十一条), or when its 处罚机关 is not one the department speaks for (its own name and its list of authorities).
"""

from decimal import Decimal

from models.base import is_postgres, utcnow
from models.policy.ingestion.cells import (
    OP_CORRECT,
    OP_WITHDRAW,
    RowRejected,
    date_cell,
    decimal_cell,
    operation,
    optional,
    required,
    severity_cell,
    uscc_cell,
)
from models.policy.ingestion.formats import verbatim
from models.policy.ingestion.layouts import raw_data, skip_natural_person
from models.policy.ingestion.loaders import DomainCells, Loader
from models.policy.ingestion.procedure import plausibility_hold, procedure_of
from models.policy.ingestion.storage import (
    apply_change,
    corrects,
    insert_rows,
    plain,
    register_holds,
    register_lookup,
    reserve_ids,
    with_register,
)
from models.policy.report.corrections import mark_reports_corrected
from models.policy.report.rules import no_penalty_text
from models.tables.records import (
    ACTIVE,
    HELD_AUTHORITY,
    SIMPLIFIED,
    WITHDRAWN,
    PenaltyRecord,
    RecordChange,
    merge_holds,
    review_of,
)
from models.tables.registry import PENALTY, name_key

MAX_FINE_WAN = Decimal("9999999999")
# What a re-send is compared with: every stored field the row carries, the text as sent included.
# The official text of unbounded length, read as sent (blank when absent): (field, column).
FREE_TEXT = (("violation_type", "违法行为类型"), ("facts", "违法事实"), ("basis", "处罚依据"),
             ("licence", "暂扣或吊销证照名称及编号"))
ROW_HOLDS = ("held_implausible", HELD_AUTHORITY)  # decided by the row itself (the register's come at flush)


def authority_hold(authority, department, keys, column="处罚机关"):
    """[the hold] when `authority` is not one `department` speaks for, else []."""
    if name_key(authority) in keys:
        return []
    return [{"code": HELD_AUTHORITY,
             "reason": f"{column}“{authority}”不在{department.name}的执法机关名单中（需信用办核实）"}]


class PenaltyLoader(DomainCells, Loader):
    kind = PENALTY
    table = "penalty_record"
    key_column = "行政处罚决定书文号"
    columns = {
        "行政相对人名称": False, "行政相对人类别": False, "统一社会信用代码": True, "行政处罚决定书文号": True,
        "违法行为类型": False, "违法事实": False, "处罚依据": False, "处罚类别": False, "处罚内容": False,
        "罚款金额（万元）": False, "没收违法所得、没收非法财物的金额（万元）": False, "暂扣或吊销证照名称及编号": False,
        "处罚决定日期": True, "处罚有效期": False, "公示截止期": False, "处罚机关": True,
        "处罚机关统一社会信用代码": False, "数据来源单位": False, "数据来源单位统一社会信用代码": False, "备注": False,
        "领域": False, "程序类型": False, "失信程度": False, "操作": False,
    }
    # The 2016 layout's names (docs/DATA-STANDARD.md §1.3); 处罚名称, the case's title, is the nearest to 违法行为类型.
    aliases = {"处罚事由": "违法事实", "处罚结果": "处罚内容", "处罚名称": "违法行为类型"}
    joins = {"处罚类别1": "处罚类别", "处罚类别2": "处罚类别"}
    choices = (("处罚类别", "处罚内容"),)
    fields = ("subject_name", "subject_class", "uscc", "violation_type", "facts", "basis", "category", "content",
              "fine_wan", "confiscated_wan", "licence", "decided_on", "valid_until", "publicity_until",
              "authority_code", "source_unit", "source_unit_code", "remark", "domain_id", "procedure", "severity",
              "raw")

    def __init__(self, department, batch, actor):
        super().__init__(department, batch, actor)
        self.load_domains(PENALTY)
        self.authorities = department.authority_keys()
        self.authority_holds = {}  # authority as sent → its hold (a file names a few authorities many times)

    def authority_of(self, authority):
        """(key, hold) of an authority as sent, computed once per load for each spelling."""
        found = self.authority_holds.get(authority)
        if found is None:
            found = self.authority_holds[authority] = (
                name_key(authority), authority_hold(authority, self.department, self.authorities))
        return found

    def validate(self, row):
        skip_natural_person(row)
        op = operation(row)
        number = required(row, "行政处罚决定书文号", 120, official=True)
        authority = required(row, "处罚机关", 200, official=True)
        key = {"op": op, "decision_no": number, "authority": authority, "decision_key": name_key(number),
               "authority_key": self.authority_of(authority)[0]}
        if op == OP_WITHDRAW:
            return key
        domain_id = self.domain_cell(row)
        try:
            return dict(key, **self._fields(row, key["decision_key"], authority), domain_id=domain_id)
        except RowRejected as exc:
            exc.scope = domain_id
            raise

    def _fields(self, row, number_key, authority):
        category = optional(row, "处罚类别", 120, official=True)
        content = optional(row, "处罚内容", official=True)
        if not category and not content:
            raise RowRejected("处罚类别", "处罚类别和处罚内容不能同时为空")
        remark = optional(row, "备注", official=True)
        code = uscc_cell(row)
        subject_class = optional(row, "行政相对人类别", 20)
        fine = decimal_cell(row, "罚款金额（万元）", 4, MAX_FINE_WAN)
        procedure, marker = procedure_of(row, number_key, remark)
        holds = []
        if procedure == SIMPLIFIED and not no_penalty_text(category, content, number_key):
            holds = plausibility_hold(procedure, marker, category, fine, subject_class, code)
        holds = holds + self.authority_of(authority)[1]
        fields = {
            "subject_name": optional(row, "行政相对人名称", 200, official=True),
            "subject_class": subject_class,
            "uscc": code,
            "category": category,
            "content": content,
            "fine_wan": fine,
            "confiscated_wan": decimal_cell(row, "没收违法所得、没收非法财物的金额（万元）", 4, MAX_FINE_WAN),
            "decided_on": date_cell(row, "处罚决定日期"),
            "valid_until": date_cell(row, "处罚有效期", needed=False, not_future=False),
            "publicity_until": date_cell(row, "公示截止期", needed=False, not_future=False),
            "authority_code": optional(row, "处罚机关统一社会信用代码", 18),
            "source_unit": optional(row, "数据来源单位", 200, official=True) or self.department.name,
            "source_unit_code": optional(row, "数据来源单位统一社会信用代码", 18),
            "remark": remark,
            "procedure": procedure,
            "severity": severity_cell(row),
            "raw": raw_data(row),
            "holds": holds,
        }
        for name, column in FREE_TEXT:  # optional(row, column, official=True) inlined: it cannot refuse a value
            value = row.get(column)
            fields[name] = "" if value is None or value == "" else verbatim(value)
        return fields

    def key(self, values):
        return (values["decision_key"], values["authority_key"])

    def flush(self, rows):
        self.now = utcnow()
        existing = stored_penalties({self.key(v) for _, v in rows})
        registry = register_lookup(v["uscc"] for _, v in rows if "uscc" in v)
        return self.upsert(rows, existing, registry, lambda exc, values: exc.scope)

    @staticmethod
    def check_new(values):
        """RowRejected when a row matching no stored record corrects or withdraws one."""
        if values["op"] == OP_CORRECT:
            raise RowRejected("操作", "未找到要更正的原记录（按行政处罚决定书文号和处罚机关）", values["domain_id"])
        if values["op"] == OP_WITHDRAW:
            raise RowRejected("操作", "未找到要撤销的原记录（按行政处罚决定书文号和处罚机关）")

    def _new(self, values, registry):
        self.check_new(values)
        enterprise, found = register_holds(registry, values["uscc"], values["subject_name"])
        holds = merge_holds(values["holds"], (), found) if found or values["holds"] else None
        record = dict(values, domain=values["domain_id"], enterprise=enterprise, holds=holds,
                      review=review_of(holds), status=ACTIVE, department=self.department.id, batch=self.batch.id,
                      created_at=self.now, updated_at=self.now)
        del record["op"], record["domain_id"]
        return record

    def _insert(self, fresh, out):
        if not fresh:
            return
        rows = [row for _number, row in fresh]
        if is_postgres():
            for row, new_id in zip(rows, reserve_ids(PenaltyRecord, len(rows)), strict=True):
                row["id"] = new_id
            insert_rows(PenaltyRecord, rows)
        else:
            insert_rows(PenaltyRecord, rows)
            ids = penalty_ids({self.key(r) for r in rows})
            for row in rows:
                row["id"] = ids[self.key(row)]
        now = utcnow()
        insert_rows(RecordChange, [
            dict(table=self.table, record_id=r["id"], action="create", actor=self.actor, batch=self.batch, at=now,
                 after=plain(r, blanks=False)) for r in rows
        ])
        out.imported += len(rows)
        for number, row in fresh:
            if row["holds"]:
                out.hold(number, row["review"], row["holds"])
        out.scopes.update(row["domain"] for row in rows)

    def _change(self, stored, values, registry, out, number):
        """`stored` is the stored row as a dict (reading models is the slow part of a re-send); the record itself is
        read only when something changes."""
        if stored["domain_id"] not in self.granted:
            raise RowRejected("行政处罚决定书文号", "该文号的记录由其他单位报送，本单位无权修改")
        out.scopes.add(stored["domain_id"])
        if values["op"] == OP_WITHDRAW:
            return self._withdraw(PenaltyRecord.get_by_id(stored["id"]), out)
        if stored["status"] == WITHDRAWN and values["op"] != OP_CORRECT:
            raise RowRejected("操作", "该记录已撤销；如需恢复，请以“更正”报送", stored["domain_id"])
        changed = {f: values[f] for f in COMPARED if stored[f] != values[f]}
        if not changed and stored["status"] != WITHDRAWN:
            out.unchanged += 1
            out.hold(number, stored["review"], stored["holds"])
            return
        corrected = corrects(stored, changed) or stored["status"] == WITHDRAWN
        record = PenaltyRecord.get_by_id(stored["id"])
        holds = merge_holds(record.holds, ROW_HOLDS, values["holds"])
        enterprise, holds, review = with_register(holds, registry, values["uscc"], values["subject_name"])
        changed.update(enterprise=enterprise, holds=holds, review=review, status=ACTIVE)
        if "domain_id" in changed:
            changed["domain"] = changed.pop("domain_id")
        action = "correct" if values["op"] == OP_CORRECT else "update"
        apply_change(record, changed, action if corrected else "respell", self.actor, self.batch)
        if corrected:
            mark_reports_corrected(record.id, f"{self.department.name}更正了处罚决定书{record.decision_no}的数据")
        out.updated += 1
        out.hold(number, record.review, record.holds)

    def _withdraw(self, record, out):
        if record.status == WITHDRAWN:
            out.unchanged += 1
            return
        apply_change(record, {"status": WITHDRAWN}, "withdraw", self.actor, self.batch)
        mark_reports_corrected(record.id, f"{self.department.name}撤销了处罚决定书{record.decision_no}")
        out.updated += 1


COMPARED = ("decision_no", "authority", *PenaltyLoader.fields)


def penalty_ids(keys):
    """Ids of PenaltyRecords for a set of (decision_key, authority_key)."""
    return {key: row["id"] for key, row in stored_penalties(keys, ("id",)).items()}


def penalties_by_key(keys):
    """PenaltyRecords for a set of (decision_key, authority_key), keyed by it."""
    return _by_key(keys, PenaltyRecord.select(), lambda r: (r.decision_key, r.authority_key))


def stored_penalties(keys, names=None):
    """The stored rows (dicts of `names`: by default what a re-send is compared with) for a set of keys."""
    names = names or ("id", "domain_id", "status", "review", "holds", *COMPARED)
    columns = [getattr(PenaltyRecord, "domain" if n == "domain_id" else n) for n in names]
    query = PenaltyRecord.select(*columns, PenaltyRecord.decision_key, PenaltyRecord.authority_key).tuples()
    found = _by_key(keys, query, lambda r: (r[-2], r[-1]))
    return {key: dict(zip(names, row, strict=False)) for key, row in found.items()}


def _by_key(keys, query, key_of):
    numbers = list({k[0] for k in keys})
    found = {}
    for start in range(0, len(numbers), 500):
        for row in query.where(PenaltyRecord.decision_key.in_(numbers[start:start + 500])):
            key = key_of(row)
            if key in keys:
                found[key] = row
    return found
