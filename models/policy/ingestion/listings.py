"""The three kinds of 发改财金〔2025〕565号 beyond penalties, in layouts modelled on 双公示 (the same subject columns
and tail): 行政强制 (per domain, like penalties), 严重失信主体名单 and 刑事 (单位犯罪) judgments.

The penalties' rules apply: a natural person's row is skipped, personal ID columns are dropped, an unregistered USCC
is held for 核验, unknown columns go to raw data, and a row is rejected only for a bad or missing USCC or a missing
required column. An 实施机关 or 审理法院 the department does not speak for is held, as a 处罚机关 is.
"""

from models.base import utcnow
from models.policy.ingestion.cells import (
    OP_CORRECT,
    OP_WITHDRAW,
    RowRejected,
    date_cell,
    decimal_cell,
    operation,
    optional,
    required,
    uscc_cell,
)
from models.policy.ingestion.formats import text
from models.policy.ingestion.layouts import raw_data, skip_natural_person
from models.policy.ingestion.loaders import DomainCells, Loader
from models.policy.ingestion.penalties import MAX_FINE_WAN, authority_hold
from models.policy.ingestion.storage import (
    apply_change,
    audit_created,
    corrects,
    register_holds,
    register_lookup,
    with_register,
)
from models.policy.report.corrections import mark_reports_corrected_for_item
from models.tables.listings import EXECUTION, MEASURE, CriminalJudgment, DishonestListing, EnforcementRecord
from models.tables.records import ACTIVE, WITHDRAWN, merge_holds, review_of
from models.tables.registry import CRIMINAL, DISHONEST_LIST, ENFORCEMENT, name_key

SUBJECT = {"行政相对人名称": True, "行政相对人类别": False, "统一社会信用代码": True}
TAIL = {"数据来源单位": False, "数据来源单位统一社会信用代码": False, "备注": False, "操作": False}
CATEGORIES = {"行政强制措施": MEASURE, "强制措施": MEASURE, "行政强制执行": EXECUTION, "强制执行": EXECUTION}


class ListingLoader(Loader):
    """Shared by the three kinds: `model`, `key_fields` (the natural key), `fields` (compared on a resend)."""

    model = None
    key_fields = ()
    fields = ()
    class_column, code_column = "行政相对人类别", "统一社会信用代码"

    def validate(self, row):
        skip_natural_person(row, self.class_column, self.code_column)
        op = operation(row)
        values = dict(self.read(row, op), op=op)
        if op != OP_WITHDRAW:
            values.update(
                subject_class=optional(row, self.class_column, 20),
                source_unit=optional(row, "数据来源单位", 200, official=True) or self.department.name,
                source_unit_code=optional(row, "数据来源单位统一社会信用代码", 18),
                remark=optional(row, "备注", official=True), raw=raw_data(row))
        return values

    def key(self, values):
        return tuple(values[f] for f in self.key_fields)

    def scope(self, values):
        """The feed scope a row is for: the kind (one feed), or its domain (行政强制)."""
        return self.kind

    def record_scope(self, record):
        return self.kind

    def flush(self, rows):
        existing = self._existing({self.key(v) for _, v in rows})
        registry = register_lookup(v["uscc"] for _, v in rows if "uscc" in v)
        return self.upsert(rows, existing, registry, lambda exc, values: exc.scope or self.scope(values))

    def _existing(self, keys):
        first = getattr(self.model, self.key_fields[0])
        heads = list({k[0] for k in keys})
        found = {}
        for start in range(0, len(heads), 500):
            for record in self.model.select().where(first.in_(heads[start:start + 500])):
                key = tuple(getattr(record, f) for f in self.key_fields)
                if key in keys:
                    found[key] = record
        return found

    def _new(self, values, registry):
        if values["op"] in (OP_CORRECT, OP_WITHDRAW):
            raise RowRejected("操作", f"未找到要{values['op']}的原记录", self.scope(values))
        enterprise, found = register_holds(registry, values["uscc"], values["subject_name"])
        holds = merge_holds(values.pop("holds", None), (), found)
        now = utcnow()
        record = {k: v for k, v in values.items() if k != "op"}
        return dict(record, enterprise=enterprise, holds=holds, review=review_of(holds), status=ACTIVE,
                    department=self.department, batch=self.batch, created_at=now, updated_at=now)

    def _insert(self, fresh, out):
        created = []
        for number, row in fresh:
            record = self.model.create(**row)
            created.append(record)
            out.imported += 1
            out.hold(number, record.review, record.holds)
            out.scopes.add(self.scope(row))
        audit_created(self.table, created, self.actor, self.batch)

    def _change(self, record, values, registry, out, number):
        out.scopes.add(self.record_scope(record))
        if values["op"] == OP_WITHDRAW:
            if record.status == WITHDRAWN:
                out.unchanged += 1
                return
            return self._save(record, {"status": WITHDRAWN}, "withdraw", out)
        if record.status == WITHDRAWN and values["op"] != OP_CORRECT:
            raise RowRejected("操作", "该记录已撤销；如需恢复，请以“更正”报送", self.scope(values))
        changed = {f: values[f] for f in self.fields if getattr(record, f) != values[f]}
        if not changed and record.status != WITHDRAWN:
            out.unchanged += 1
            out.hold(number, record.review, record.holds)
            return
        corrected = record.status == WITHDRAWN or corrects({f: getattr(record, f) for f in changed}, changed)
        holds = merge_holds(record.holds, ("held_authority",), values.get("holds") or [])
        changed["enterprise"], changed["holds"], changed["review"] = with_register(
            holds, registry, values["uscc"], values["subject_name"])
        changed["status"] = ACTIVE
        action = ("correct" if values["op"] == OP_CORRECT else "update") if corrected else "respell"
        self._save(record, changed, action, out)
        out.hold(number, record.review, record.holds)

    def _save(self, record, changed, action, out):
        apply_change(record, changed, action, self.actor, self.batch)
        verb = "撤销" if action == "withdraw" else "更正"
        if action != "respell":
            mark_reports_corrected_for_item(self.kind, record.id, f"{self.department.name}{verb}了{self.label}数据")
        out.updated += 1


class EnforcementLoader(DomainCells, ListingLoader):
    kind, table, label, model = ENFORCEMENT, "enforcement_record", "行政强制", EnforcementRecord
    key_column = "行政强制决定书文号"
    key_fields = ("decision_key", "authority_key")
    columns = {**SUBJECT, "行政强制决定书文号": True, "行政强制类别": True, "行政强制方式": False, "强制事由": False,
               "强制依据": False, "强制对象": False, "涉案金额（万元）": False, "决定日期": True,
               "强制期限开始日期": False, "强制期限截止日期": False, "解除日期": False, "实施机关": True,
               "实施机关统一社会信用代码": False, "领域": False, **TAIL}
    fields = ("subject_name", "subject_class", "uscc", "category", "method", "reason", "basis", "target",
              "amount_wan", "decided_on", "period_start", "period_end", "released_on", "authority_code", "domain_id",
              "source_unit", "source_unit_code", "remark", "raw")

    def __init__(self, department, batch, actor):
        super().__init__(department, batch, actor)
        self.load_domains(ENFORCEMENT)
        self.authorities = department.authority_keys()

    def scope(self, values):
        return values.get("domain_id")

    def record_scope(self, record):
        return record.domain_id

    def read(self, row, op):
        number = required(row, "行政强制决定书文号", 120, official=True)
        authority = required(row, "实施机关", 200, official=True)
        key = {"decision_no": number, "authority": authority, "decision_key": name_key(number),
               "authority_key": name_key(authority)}
        if op == OP_WITHDRAW:
            return key
        domain = self.domain_cell(row)
        category = CATEGORIES.get(text(row.get("行政强制类别")))
        if category is None:
            raise RowRejected("行政强制类别", "应为行政强制措施或行政强制执行", domain)
        return dict(key, domain_id=domain, category=category, uscc=uscc_cell(row),
                    subject_name=required(row, "行政相对人名称", 200, official=True),
                    method=optional(row, "行政强制方式", official=True),
                    reason=optional(row, "强制事由", official=True), basis=optional(row, "强制依据", official=True),
                    target=optional(row, "强制对象", official=True),
                    amount_wan=decimal_cell(row, "涉案金额（万元）", 4, MAX_FINE_WAN),
                    decided_on=date_cell(row, "决定日期"),
                    period_start=date_cell(row, "强制期限开始日期", needed=False, not_future=False),
                    period_end=date_cell(row, "强制期限截止日期", needed=False, not_future=False),
                    released_on=date_cell(row, "解除日期", needed=False),
                    authority_code=optional(row, "实施机关统一社会信用代码", 18),
                    holds=authority_hold(authority, self.department, self.authorities, "实施机关"))


class DishonestLoader(ListingLoader):
    kind, table, label, model = DISHONEST_LIST, "dishonest_listing", "严重失信主体名单", DishonestListing
    key_column = "名单名称"
    key_fields = ("list_key", "uscc", "listed_on")
    columns = {**SUBJECT, "名单名称": True, "列入决定书文号": False, "列入事由": False, "列入依据": False,
               "认定单位": True, "认定单位统一社会信用代码": False, "列入日期": True, "移出日期": False,
               "移出原因": False, **TAIL}
    fields = ("subject_name", "subject_class", "decision_no", "reason", "basis", "unit", "unit_code", "removed_on",
              "removal_reason", "source_unit", "source_unit_code", "remark", "raw")

    def read(self, row, op):
        name = required(row, "名单名称", 120, official=True)
        values = {"list_name": name, "list_key": name_key(name), "uscc": uscc_cell(row),
                  "listed_on": date_cell(row, "列入日期"),
                  "subject_name": required(row, "行政相对人名称", 200, official=True)}
        if op == OP_WITHDRAW:
            return values
        removed = date_cell(row, "移出日期", needed=False)
        if removed and removed < values["listed_on"]:
            raise RowRejected("移出日期", "移出日期早于列入日期")
        return dict(values, decision_no=optional(row, "列入决定书文号", 120, official=True),
                    reason=optional(row, "列入事由", official=True), basis=optional(row, "列入依据", official=True),
                    unit=required(row, "认定单位", 200, official=True),
                    unit_code=optional(row, "认定单位统一社会信用代码", 18), removed_on=removed,
                    removal_reason=optional(row, "移出原因", official=True))


class CriminalLoader(ListingLoader):
    kind, table, label, model = CRIMINAL, "criminal_judgment", "刑事判决", CriminalJudgment
    key_column = "案号"
    key_fields = ("case_key", "uscc")
    class_column = "被告类别"
    columns = {"被告类别": False, "被告单位名称": True, "统一社会信用代码": True, "案号": True, "案由": False,
               "审判程序": False, "审理法院": True, "审理法院统一社会信用代码": False, "判决日期": True,
               "生效日期": False, "判决结果": False, "罚金金额（万元）": False, **TAIL}
    fields = ("subject_name", "subject_class", "cause", "procedure", "court", "court_code", "judged_on",
              "effective_on", "result", "fine_wan", "source_unit", "source_unit_code", "remark", "raw")

    def __init__(self, department, batch, actor):
        super().__init__(department, batch, actor)
        self.authorities = department.authority_keys()

    def read(self, row, op):
        number = required(row, "案号", 120, official=True)
        values = {"case_no": number, "case_key": name_key(number), "uscc": uscc_cell(row),
                  "subject_name": required(row, "被告单位名称", 200, official=True)}
        if op == OP_WITHDRAW:
            return values
        court = required(row, "审理法院", 200, official=True)
        return dict(values, court=court, court_key=name_key(court), cause=optional(row, "案由", official=True),
                    procedure=optional(row, "审判程序", 20), court_code=optional(row, "审理法院统一社会信用代码", 18),
                    judged_on=date_cell(row, "判决日期"), effective_on=date_cell(row, "生效日期", needed=False),
                    result=optional(row, "判决结果", official=True),
                    fine_wan=decimal_cell(row, "罚金金额（万元）", 4, MAX_FINE_WAN),
                    holds=authority_hold(court, self.department, self.authorities, "审理法院"))
