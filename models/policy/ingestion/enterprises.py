"""The enterprise register (企业名录): the credit office's (or a department granted `enterprise`).

A registered mobile replaced by another (not the first one loaded) is audited as `mobile_change`, the owners bound to
the enterprise are told, and bindings made afterwards are reviewed. Loading an enterprise releases the records held
for its unknown USCC.
"""

import re

from models.base import to_local, utcnow
from models.policy.ingestion.cells import Outcome, RowRejected, optional, required, uscc_cell
from models.policy.ingestion.loaders import Loader
from models.policy.ingestion.storage import apply_change, enterprises_by_uscc, insert_rows, recheck_held
from models.policy.report.present import cn_date
from models.tables.accounts import Binding
from models.tables.registry import Enterprise
from models.tables.reports import OutboundMessage

MOBILE = re.compile(r"^1[3-9]\d{9}$")
class EnterpriseLoader(Loader):
    kind = "enterprise"
    table = "enterprise"
    key_column = "统一社会信用代码"
    columns = {"企业名称": True, "统一社会信用代码": True, "法定代表人": False, "联系电话": False,
               "注册地址": False, "所属区县": False}
    fields = ("name", "legal_rep", "mobile", "address", "county")

    def validate(self, row):
        values = {
            "name": required(row, "企业名称", 200, official=True),
            "uscc": uscc_cell(row),
            "legal_rep": optional(row, "法定代表人", 100),
            "mobile": optional(row, "联系电话", 20).replace("-", "").replace(" ", ""),
            "address": optional(row, "注册地址", 2000, official=True),
            "county": optional(row, "所属区县", 40),
        }
        if values["mobile"].startswith("+86"):
            values["mobile"] = values["mobile"][3:]
        if values["mobile"] and not MOBILE.match(values["mobile"]):
            raise RowRejected("联系电话", f"“{values['mobile']}”不是有效的手机号码（用于短信核验绑定）")
        return values

    def key(self, values):
        return values["uscc"]

    def flush(self, rows):
        out = Outcome()
        existing = enterprises_by_uscc(v["uscc"] for _, v in rows)
        fresh = []
        now = utcnow()
        for _, values in rows:
            ent = existing.get(values["uscc"])
            if ent is None:
                fresh.append(dict(values, created_at=now, updated_at=now))
                continue
            changed = {f: values[f] for f in self.fields if getattr(ent, f) != values[f]}
            if not changed:
                out.unchanged += 1
                continue
            old_mobile = ent.mobile
            mobile_replaced = "mobile" in changed and bool(old_mobile)
            if mobile_replaced:
                changed["mobile_changed_at"] = now
            apply_change(ent, changed, "mobile_change" if mobile_replaced else "update", self.actor, self.batch)
            if mobile_replaced:
                out.outbound += tell_owners_mobile_changed(ent, old_mobile, self.department, self.batch)
            out.updated += 1
        if fresh:
            insert_rows(Enterprise, fresh)
            created = enterprises_by_uscc(v["uscc"] for v in fresh)
            self.audit_created(created.values())
            out.imported += len(fresh)
        recheck_held([v["uscc"] for _, v in rows], self.actor, self.batch)
        return out


def _masked(mobile):
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else (mobile or "空号码")


def tell_owners_mobile_changed(enterprise, old_mobile, department, batch):
    """Queue a notice to everyone bound to `enterprise` that its registered mobile changed; return the row ids. The
    row keeps the facts; jobs/notice_kinds.py composes the text and the template fields."""
    owners = Binding.select(Binding.user).where((Binding.enterprise == enterprise) & Binding.revoked_at.is_null())
    changed = to_local(enterprise.mobile_changed_at)
    facts = {"name": enterprise.name, "when": cn_date(changed), "at": f"{changed:%Y-%m-%d %H:%M}",
             "old": _masked(old_mobile), "new": _masked(enterprise.mobile), "source": department.name}
    return [
        OutboundMessage.create_once(
            binding.user_id, "notice", {"notice": "mobile_changed", "facts": facts, "url": None},
            f"mobile-changed:{enterprise.id}:{batch.id}:{binding.user_id}").id
        for binding in owners
    ]
