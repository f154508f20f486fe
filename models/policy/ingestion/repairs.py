"""信用修复 decisions a department sends (修复决定, 谁认定谁修复): recorded as sent, without the period checks that
apply to an owner's application through the bot (models/policy/casework)."""

from models.policy import departments
from models.policy.ingestion.cells import Outcome, RowRejected, date_cell, optional, required
from models.policy.ingestion.loaders import Loader
from models.policy.ingestion.penalties import penalties_by_key
from models.policy.ingestion.storage import apply_change, audit, record_dict
from models.policy.report.corrections import mark_reports_corrected
from models.tables.records import REPAIRED, WITHDRAWN, CreditRepair
from models.tables.registry import REPAIR, name_key


class RepairLoader(Loader):
    kind = REPAIR
    table = "credit_repair"
    key_column = "修复决定文号"
    columns = {"行政处罚决定书文号": True, "处罚机关": True, "修复决定文号": True, "修复日期": True, "备注": False}

    def __init__(self, department, batch, actor):
        super().__init__(department, batch, actor)
        self.granted = departments.granted_domains(department, REPAIR)

    def validate(self, row):
        record_no = required(row, "行政处罚决定书文号", 120, official=True)
        authority = required(row, "处罚机关", 200, official=True)
        decision_no = required(row, "修复决定文号", 120, official=True)
        return {
            "record_key": (name_key(record_no), name_key(authority)),
            "decision_no": decision_no,
            "repaired_on": date_cell(row, "修复日期"),
            "note": optional(row, "备注", 2000, official=True),
        }

    def key(self, values):
        return (*values["record_key"], name_key(values["decision_no"]))

    def flush(self, rows):
        out = Outcome()
        records = penalties_by_key({v["record_key"] for _, v in rows})
        for number, values in rows:
            record = records.get(values["record_key"])
            try:
                self._repair(record, values, out)
            except RowRejected as exc:
                out.reject(number, exc.column, exc.reason, exc.scope)
        return out

    def _repair(self, record, values, out):
        if record is None:
            raise RowRejected("行政处罚决定书文号", "未找到对应的行政处罚记录（按文号和处罚机关）")
        if record.domain_id not in self.granted:
            raise RowRejected("行政处罚决定书文号", "本单位无权对该领域的处罚记录报送信用修复")
        if record.status == WITHDRAWN:
            raise RowRejected("行政处罚决定书文号", "该处罚记录已撤销，无需修复", record.domain_id)
        if values["repaired_on"] < record.decided_on:
            raise RowRejected("修复日期", "修复日期早于处罚决定日期", record.domain_id)
        out.scopes.add(record.domain_id)
        repair = CreditRepair.get_or_none(
            (CreditRepair.record == record) & (CreditRepair.decision_no == values["decision_no"])
        )
        if repair is not None:
            return self._update_repair(repair, values, out)
        repair = CreditRepair.create(record=record, decision_no=values["decision_no"],
                                     repaired_on=values["repaired_on"], note=values["note"],
                                     department=self.department, batch=self.batch)
        audit(self.table, repair.id, "create", self.actor, self.batch, None, record_dict(repair))
        if record.status != REPAIRED:
            apply_change(record, {"status": REPAIRED}, "repair", self.actor, self.batch)
        mark_reports_corrected(record.id, f"处罚决定书{record.decision_no}已完成信用修复")
        out.imported += 1

    def _update_repair(self, repair, values, out):
        changed = {f: values[f] for f in ("repaired_on", "note") if getattr(repair, f) != values[f]}
        if not changed:
            out.unchanged += 1
            return
        apply_change(repair, changed, "update", self.actor, self.batch)
        out.updated += 1
