"""The columns departments really send (docs/DATA-STANDARD.md §1): header variants, the national 双公示 layout and
the older 2016 one, personal IDs dropped on read, natural persons out of scope.

A header is matched by its normalised text (NFKC, spaces removed): `行政相对人代码_1（统一社会信用代码）`,
`行政相对人代码_1 (统一社会信用代码)` and `统一社会信用代码` are one column. A 行政相对人代码 column is read by the
name in its brackets, never by its number (the 2016 layout numbers them differently: `_5` is 居民身份证号 there,
事业单位证书号 now). Columns holding personal IDs (证件号码, 身份证) are dropped: their values reach no table, log or
report; only whether a row carried one is kept, to tell a natural person's row. Columns we do not read go to the
record's raw data, keyed by their normalised header.
"""

import operator
import re
from dataclasses import dataclass, field

from models.policy.ingestion.cells import RowSkipped
from models.policy.ingestion.formats import normalise_header, text

CODE_COLUMN = re.compile(r"^行政相对人代码[_\-]?\d*\((.+)\)$")
NATURAL_PERSON = "自然人"
RAW, ID, JOIN = "__raw__", "__ids__", "__join__"


def is_personal_id(header):
    """True for a column holding a personal ID number (dropped on read)."""
    return header.endswith("证件号码") or "身份证" in header


@dataclass
class Layout:
    """How a header row maps to a loader's columns: index → column, raw, a personal ID, or a part of a joined one."""

    columns: dict = field(default_factory=dict)  # index → canonical column
    raw: dict = field(default_factory=dict)  # index → normalised header
    ids: dict = field(default_factory=dict)  # index → label of a personal ID column
    joins: dict = field(default_factory=dict)  # canonical column → [indexes] of its parts, joined by ';'

    def present(self):
        return set(self.columns.values()) | set(self.joins)

    def row(self, values):
        """A row dict keyed by canonical column, with its raw data and the labels of the personal IDs it carried."""
        size = len(values)
        pick = self.__dict__.get("_pick") or self._picker()
        if size > pick[0]:  # the common row, as wide as its header: its cells picked in C
            out = dict(zip(pick[1], pick[2](values), strict=True))
        else:
            out = {name: values[i] for i, name in self.columns.items() if i < size}
        for name, parts in self.joins.items():
            out[name] = ";".join(t for t in (text(values[i]) for i in parts if i < size) if t)
        if self.raw:
            out[RAW] = {key: text(values[i]) if i < size else "" for i, key in self.raw.items()}
        carried = [label for i, label in self.ids.items() if i < size and text(values[i])]
        if carried:
            out[ID] = carried
        return out

    def _picker(self):
        """(last index, names, getter of their cells as a tuple), made once: the columns are set by `resolve`."""
        indexes = list(self.columns)
        getter = operator.itemgetter(*indexes) if len(indexes) > 1 else lambda values: (values[indexes[0]],)
        self._pick = (max(indexes), list(self.columns.values()), getter) if indexes else (float("inf"), [], None)
        return self._pick


def resolve(headers, columns, aliases=None, joins=None):
    """The Layout of `headers` for a loader with `columns` (canonical names), `aliases` ({header: column}) and
    `joins` ({part header: column}); the first occurrence of a column wins, a repeat goes to raw data."""
    known = {normalise_header(c): c for c in columns}
    known.update({normalise_header(a): c for a, c in (aliases or {}).items()})
    parts = {normalise_header(p): c for p, c in (joins or {}).items()}
    layout = Layout()
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue
        inner = CODE_COLUMN.match(key)
        name = inner.group(1) if inner else key
        if is_personal_id(name):
            layout.ids[index] = f"{key.split('(')[0]} {name}" if inner else key
        elif name in known and known[name] not in layout.columns.values():
            layout.columns[index] = known[name]
        elif name in parts:
            layout.joins.setdefault(parts[name], []).append(index)
        else:
            layout.raw[index] = key
    return layout


def skip_natural_person(row, class_column="行政相对人类别", code_column="统一社会信用代码"):
    """RowSkipped for a natural person's row: 类别 自然人, or a personal ID and no USCC (docs/DATA-STANDARD.md §1.4).

    The reason names no person and no number. 个体工商户 (92…) and 农民专业合作社 (93…) are in scope."""
    category = text(row.get(class_column))
    if category == NATURAL_PERSON:
        raise RowSkipped(f"{class_column}为自然人")
    if ID in row and not text(row.get(code_column)):
        labels = [label for label in row[ID] if label.startswith("行政相对人代码")]
        where = f"（{labels[0]}）" if labels else ""
        raise RowSkipped(f"载有个人证件号码{where}而无统一社会信用代码")


def raw_data(row):
    """The row's unread columns, or None."""
    return row.get(RAW) or None
