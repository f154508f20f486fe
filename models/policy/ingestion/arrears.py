"""社保 and 公积金 arrears: each department's own rows (the key includes the department); a report merges the rows
of one debt sent by several (models/policy/report/arrears.py)."""

from models.base import local_today, utcnow
from models.policy import departments
from models.policy.ingestion.cells import (
    OP_ADD,
    OP_CORRECT,
    OP_WITHDRAW,
    RowRejected,
    date_cell,
    decimal_cell,
    operation,
    required,
    uscc_cell,
)
from models.policy.ingestion.formats import CellError, month_end, parse_month, text
from models.policy.ingestion.layouts import raw_data, skip_natural_person
from models.policy.ingestion.loaders import Loader
from models.policy.ingestion.storage import (
    apply_change,
    corrects,
    insert_rows,
    register_holds,
    register_lookup,
    with_register,
)
from models.policy.report.corrections import mark_reports_corrected_for_arrears
from models.tables.records import ArrearsRecord, merge_holds, review_of
from models.tables.registry import ARREARS_KINDS, DATA_KINDS, FUND_ARREARS, SOCIAL_ARREARS

ARREARS_LABELS = {
    "社保": SOCIAL_ARREARS, "社会保险": SOCIAL_ARREARS, "社会保险费": SOCIAL_ARREARS, "社保欠缴": SOCIAL_ARREARS,
    "公积金": FUND_ARREARS, "住房公积金": FUND_ARREARS, "公积金欠缴": FUND_ARREARS,
}
YES = {"是", "已补缴", "Y", "YES", "TRUE", "1"}
NO = {"", "否", "未补缴", "N", "NO", "FALSE", "0"}
MAX_AMOUNT = 999999999999


class ArrearsLoader(Loader):
    kind = "arrears"
    table = "arrears_record"
    key_column = "统一社会信用代码"
    columns = {"单位名称": True, "统一社会信用代码": True, "欠缴类型": False, "欠缴起始月份": True,
               "欠缴截止月份": True, "欠缴金额（元）": True, "是否已补缴": False, "补缴日期": False, "操作": False,
               "行政相对人类别": False}  # read to tell a natural person's row, not stored
    aliases = {"行政相对人名称": "单位名称"}
    fields = ("subject_name", "period_end", "amount", "settled", "settled_on", "raw")

    def __init__(self, department, batch, actor, kind=None):
        super().__init__(department, batch, actor)
        self.fixed_kind = kind if kind in ARREARS_KINDS else None
        self.allowed = {k for k in ARREARS_KINDS if departments.may_write(department, k)}

    def kind_cell(self, row):
        label = text(row.get("欠缴类型"))
        if not label and self.fixed_kind:
            return self.fixed_kind
        if not label and len(self.allowed) == 1:
            return next(iter(self.allowed))
        kind = ARREARS_LABELS.get(label)
        if kind is None:
            raise RowRejected("欠缴类型", f"“{label}”无法识别，应为社保或公积金")
        if self.fixed_kind and kind != self.fixed_kind:
            raise RowRejected("欠缴类型", "与请求的数据类型不一致")
        if kind not in self.allowed:
            raise RowRejected("欠缴类型", f"本单位无权报送{'社保' if kind == SOCIAL_ARREARS else '公积金'}欠缴数据")
        return kind

    def validate(self, row):
        skip_natural_person(row)
        kind = self.kind_cell(row)
        try:
            return self._fields(row, kind)
        except RowRejected as exc:
            exc.scope = kind
            raise

    def _fields(self, row, kind):
        op = operation(row)
        start = self._month(row, "欠缴起始月份")
        if start > local_today():
            raise RowRejected("欠缴起始月份", "起始月份晚于本月")
        values = {"op": op, "kind": kind, "uscc": uscc_cell(row), "period_start": start,
                  "subject_name": required(row, "单位名称", 200, official=True)}
        if op == OP_WITHDRAW:
            return values
        end = month_end(self._month(row, "欠缴截止月份"))
        if end < start:
            raise RowRejected("欠缴截止月份", "截止月份早于起始月份")
        amount = decimal_cell(row, "欠缴金额（元）", 2, MAX_AMOUNT)
        if not amount:
            raise RowRejected("欠缴金额（元）", "欠缴金额应大于0")
        settled = self._settled(row)
        settled_on = date_cell(row, "补缴日期", needed=settled)
        if settled_on and not settled:
            raise RowRejected("补缴日期", "填写了补缴日期，但“是否已补缴”不是“是”")
        if settled_on and settled_on < start:
            raise RowRejected("补缴日期", "补缴日期早于欠缴起始月份")
        return dict(values, period_end=end, amount=amount, settled=settled, settled_on=settled_on, raw=raw_data(row))

    @staticmethod
    def _month(row, column):
        if not text(row.get(column)):
            raise RowRejected(column, "不能为空")
        try:
            return parse_month(row.get(column))
        except CellError as exc:
            raise RowRejected(column, str(exc)) from None

    @staticmethod
    def _settled(row):
        raw = text(row.get("是否已补缴")).upper()
        if raw in YES:
            return True
        if raw in NO:
            return False
        raise RowRejected("是否已补缴", f"“{raw}”无法识别，应为是或否")

    def key(self, values):
        return (values["kind"], values["uscc"], values["period_start"])

    def flush(self, rows):
        existing = self._existing({v["uscc"] for _, v in rows})
        registry = register_lookup(v["uscc"] for _, v in rows)
        return self.upsert(rows, existing, registry, lambda exc, values: values["kind"])

    def _existing(self, codes):
        codes = list(codes)
        found = {}
        for start in range(0, len(codes), 500):
            query = ArrearsRecord.select().where(
                ArrearsRecord.uscc.in_(codes[start:start + 500]) & (ArrearsRecord.department == self.department)
            )
            for record in query:
                found[(record.kind, record.uscc, record.period_start)] = record
        return found

    def _new(self, values, registry):
        if values["op"] != OP_ADD:
            raise RowRejected("操作", f"未找到要{values['op']}的原欠缴记录（按类型、统一社会信用代码和起始月份）")
        enterprise, holds = register_holds(registry, values["uscc"], values["subject_name"])
        holds = merge_holds(None, (), holds)
        now = utcnow()
        record = {k: v for k, v in values.items() if k != "op"}
        return dict(record, enterprise=enterprise, holds=holds, review=review_of(holds), department=self.department,
                    batch=self.batch, created_at=now, updated_at=now)

    def _insert(self, fresh, out):
        if not fresh:
            return
        rows = [row for _number, row in fresh]
        insert_rows(ArrearsRecord, rows)
        created = self._existing({r["uscc"] for r in rows})
        keys = {(r["kind"], r["uscc"], r["period_start"]) for r in rows}
        self.audit_created(r for k, r in created.items() if k in keys)
        out.imported += len(rows)
        for number, row in fresh:
            out.hold(number, row["review"], row["holds"])
            out.scopes.add(row["kind"])

    def _change(self, record, values, registry, out, number):
        out.scopes.add(record.kind)
        if values["op"] == OP_WITHDRAW or record.withdrawn and values["op"] != OP_CORRECT:
            if values["op"] != OP_WITHDRAW:
                raise RowRejected("操作", "该欠缴记录已撤销；如需恢复，请以“更正”报送")
            if record.withdrawn:
                out.unchanged += 1
                return
            return self._save(record, {"withdrawn": True}, "withdraw", out)
        changed = {f: values[f] for f in self.fields if getattr(record, f) != values[f]}
        if record.withdrawn:
            changed["withdrawn"] = False
        if not changed:
            out.unchanged += 1
            out.hold(number, record.review, record.holds)
            return
        corrected = record.withdrawn or corrects({f: getattr(record, f) for f in changed}, changed)
        if "subject_name" in changed:
            changed["enterprise"], changed["holds"], changed["review"] = with_register(
                record.holds, registry, record.uscc, values["subject_name"])
        action = ("correct" if values["op"] == OP_CORRECT else "update") if corrected else "respell"
        self._save(record, changed, action, out)
        out.hold(number, record.review, record.holds)

    def _save(self, record, changed, action, out):
        apply_change(record, changed, action, self.actor, self.batch)
        verb = "撤销" if action == "withdraw" else "更正"
        if action != "respell":
            mark_reports_corrected_for_arrears(record.id,
                                               f"{self.department.name}{verb}了{DATA_KINDS[record.kind]}数据")
        out.updated += 1
