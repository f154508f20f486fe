"""How serious a 违法记录 is, and how long it is published, under 《信用修复管理办法》 (国家发展改革委令第36号, in force
from 2026-04-01, which abolished 令第58号; docs/DATA-STANDARD.md §4, §5).

The 办法 classes 失信信息 as 轻微, 一般 or 严重, each with a minimum publicity before repair and a maximum after which
publicity ends by itself, counted from the decision date:

| class | minimum before repair | maximum publicity |
| 轻微  | none                  | 3 months          |
| 一般  | 3 months              | 1 year            |
| 严重  | 1 year                | 3 years           |

Which cases fall in which class is the 行业主管部门's to set and publish (国办发〔2025〕22号): severity belongs to the
department that decided, never to a threshold invented here. So a record's class is, in order: the department's own
「失信程度」 as sent; 轻微 for a 警告 / 通报批评 or a 简易程序 decision (the 办法's own examples); the department's
published default where it has one; else 一般, marked 「默认」 in the console. The feed's 公示截止期 wins over the
class maximum where given.
"""

import calendar
import datetime as dt
from dataclasses import dataclass

from models.policy.ingestion.procedure import categories
from models.tables.records import SIMPLIFIED

MINOR, GENERAL, SERIOUS = "轻微", "一般", "严重"
MIN_PUBLICITY_MONTHS = {MINOR: 0, GENERAL: 3, SERIOUS: 12}
MAX_PUBLICITY_MONTHS = {MINOR: 3, GENERAL: 12, SERIOUS: 36}
MINOR_CATEGORIES = {"警告", "通报批评"}
# Where a record's class came from (shown in the staff console)
FROM_DEPARTMENT, FROM_RULE, FROM_DEFAULT_SETTING, FROM_DEFAULT = "department", "rule", "department_default", "default"
SOURCE_LABELS = {FROM_DEPARTMENT: "部门报送", FROM_RULE: "《信用修复管理办法》（警告、通报批评或简易程序）",
                 FROM_DEFAULT_SETTING: "部门默认设置", FROM_DEFAULT: "默认"}


@dataclass(frozen=True)
class Severity:
    level: str
    source: str

    @property
    def label(self):
        """「一般（默认）」 and the like."""
        return f"{self.level}（{SOURCE_LABELS[self.source]}）"


def record_severity(record, department_default=None):
    """The record's class and where it came from (module docstring); `department_default` is the department's
    `default_severity` (read from the record's department when not given)."""
    given = (record.severity or "").strip()
    if given in MIN_PUBLICITY_MONTHS:
        return Severity(given, FROM_DEPARTMENT)
    named = set(categories(record.category))
    if record.procedure == SIMPLIFIED or (named and named <= MINOR_CATEGORIES):
        return Severity(MINOR, FROM_RULE)
    if department_default is None:
        department_default = record.department.default_severity
    if department_default in MIN_PUBLICITY_MONTHS:
        return Severity(department_default, FROM_DEFAULT_SETTING)
    return Severity(GENERAL, FROM_DEFAULT)


def add_months(day, months):
    """`day` plus whole calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def publicity_until(record, severity):
    """The last day a record is published: the feed's 公示截止期 where given, else the class maximum."""
    if record.publicity_until:
        return record.publicity_until
    return add_months(record.decided_on, MAX_PUBLICITY_MONTHS[severity.level])


def repair_eligible_on(record, severity):
    """The first day an owner may apply for repair: the decision date plus the class minimum."""
    return add_months(record.decided_on, MIN_PUBLICITY_MONTHS[severity.level])
