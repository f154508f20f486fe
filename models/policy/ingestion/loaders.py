"""The base of the loaders (one module per data kind): columns, header resolution, the upsert of a chunk.

Natural keys (re-importing never duplicates; keys are matched normalised, text is stored as sent):
  enterprise      统一社会信用代码
  penalty         行政处罚决定书文号 + 处罚机关
  arrears         欠缴类型 + 统一社会信用代码 + 欠缴起始月份 + the department
  repair          the penalty (文号 + 机关) + 修复决定文号
  enforcement     行政强制决定书文号 + 实施机关
  dishonest_list  名单名称 + 统一社会信用代码 + 列入日期
  criminal        案号 + 统一社会信用代码
A row whose key already exists updates the stored record when a field differs (counted as updated), else it is
unchanged. `操作` = 更正 requires the record to exist; 撤销 withdraws it.
"""

from models.policy import departments
from models.policy.ingestion import layouts
from models.policy.ingestion.cells import Outcome, RowRejected
from models.policy.ingestion.formats import text
from models.policy.ingestion.storage import audit_created
from models.tables.registry import Domain


class Loader:
    """Base: `columns` (header → required?), `aliases`, `joins`; `validate(row)` → dict, RowRejected or
    RowSkipped; `flush(rows)` → Outcome."""

    kind = ""
    table = ""
    key_column = ""
    columns = {}
    aliases = {}  # other spellings of a column: {header: column}
    joins = {}  # columns sent in parts: {part header: column}
    choices = ()  # groups of columns of which one must be present: (("处罚类别", "处罚内容"),)

    def __init__(self, department, batch, actor):
        self.department = department
        self.batch = batch
        self.actor = actor

    def required_headers(self):
        return [c for c, needed in self.columns.items() if needed]

    def layout(self, headers):
        """The Layout of a header row."""
        return layouts.resolve(headers, self.columns, self.aliases, self.joins)

    def missing_headers(self, layout):
        """The required columns a header row lacks (a choice group counts when one of it is there)."""
        present = layout.present()
        missing = [c for c in self.required_headers() if c not in present]
        missing += ["或".join(group) for group in self.choices if not present & set(group)]
        return missing

    def key(self, values):
        raise NotImplementedError

    def upsert(self, rows, existing, registry, scope_of):
        """New rows inserted together, known ones changed; a rejected row (its scope from `scope_of(exc, values)`)
        never stops the others."""
        out, fresh = Outcome(), []
        for number, values in rows:
            record = existing.get(self.key(values))
            try:
                if record is None:
                    fresh.append((number, self._new(values, registry)))
                else:
                    self._change(record, values, registry, out, number)
            except RowRejected as exc:
                out.reject(number, exc.column, exc.reason, scope_of(exc, values))
        self._insert(fresh, out)
        return out

    def audit_created(self, records):
        """One 'create' RecordChange per new record."""
        audit_created(self.table, records, self.actor, self.batch)


class DomainCells:
    """Reading 领域 for a kind granted per domain: a department with one grant of the kind needs no 领域 column."""

    def load_domains(self, kind):
        self.domains = Domain.lookup()
        self.granted = departments.granted_domains(self.department, kind)
        only = next(iter(self.granted)) if len(self.granted) == 1 else None
        self.default_domain = only

    def domain_cell(self, row):
        name = text(row.get("领域"))
        if not name:
            if self.default_domain is None:
                raise RowRejected("领域", "本单位报送多个领域的数据，请在“领域”列注明每行所属领域")
            return self.default_domain
        domain = self.domains.get(name) or self.domains.get(name.lower())
        if domain is None:
            raise RowRejected("领域", f"领域“{name}”不存在")
        if domain.id not in self.granted:
            raise RowRejected("领域", f"本单位无权报送“{domain.name}”领域的数据")
        return domain.id
