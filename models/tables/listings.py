"""The three data kinds of 发改财金〔2025〕565号 beyond penalties: 行政强制, 严重失信主体名单 and 刑事 (单位犯罪)
judgments; and the links from a report to the items of these kinds it showed (so a correction marks it 数据已更正).

Official text is kept as sent; `*_key` columns hold the normalised form used only to match a resend.
"""

from peewee import (
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, JSONText, utcnow
from models.tables.records import ACTIVE, VERIFIED, ImportBatch
from models.tables.registry import CRIMINAL, DISHONEST_LIST, ENFORCEMENT, Department, Domain, Enterprise, name_key
from models.tables.reports import Report

# EnforcementRecord.category (行政强制法 第九条 / 第十二条)
MEASURE = "行政强制措施"
EXECUTION = "行政强制执行"


class Listed(BaseModel):
    """Columns every kind shares: the subject, who sent it, 核验, status and the columns not read."""

    subject_name = CharField(max_length=200)
    subject_class = CharField(max_length=20, default="")
    uscc = CharField(max_length=18, index=True)
    enterprise = ForeignKeyField(Enterprise, null=True)
    source_unit = CharField(max_length=200, default="")
    source_unit_code = CharField(max_length=18, default="")
    remark = TextField(default="")
    department = ForeignKeyField(Department)
    batch = ForeignKeyField(ImportBatch, null=True)
    status = CharField(max_length=12, default=ACTIVE, index=True)  # active / withdrawn
    review = CharField(max_length=20, default=VERIFIED, index=True)
    holds = JSONText(null=True)
    raw = JSONText(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def _for_report(cls, enterprise, period):
        """Active items matching `period` that a report of `enterprise` shows or is held back by, in one query: its
        verified ones and the held ones of its USCC (split by `review`). Without `raw` (never printed). The query."""
        columns = [f for f in cls._meta.sorted_fields if f.name not in ("raw", "created_at", "updated_at")]
        mine = (cls.enterprise == enterprise.id) & (cls.review == VERIFIED)
        held = (cls.uscc == enterprise.uscc) & (cls.review != VERIFIED)
        return cls.select(*columns).where((cls.status == ACTIVE) & (mine | held) & period)


class EnforcementRecord(Listed):
    """A 行政强制 decision (强制措施 or 强制执行), per domain like a penalty."""

    decision_no = CharField(max_length=120)
    decision_key = CharField(max_length=120)
    category = CharField(max_length=10)  # MEASURE / EXECUTION
    method = TextField(default="")  # 行政强制方式: 查封, 扣押, 加处罚款 …
    reason = TextField(default="")  # 强制事由
    basis = TextField(default="")
    target = TextField(default="")  # 强制对象
    amount_wan = DecimalField(max_digits=14, decimal_places=4, null=True)  # 涉案金额
    decided_on = DateField(index=True)
    period_start = DateField(null=True)
    period_end = DateField(null=True)
    released_on = DateField(null=True)  # 解除日期
    authority = CharField(max_length=200)  # 实施机关
    authority_key = CharField(max_length=200)
    authority_code = CharField(max_length=18, default="")
    domain = ForeignKeyField(Domain)

    class Meta:
        indexes = ((("decision_key", "authority_key"), True),)

    def save(self, *args, **kwargs):
        self.decision_key, self.authority_key = name_key(self.decision_no), name_key(self.authority)
        return super().save(*args, **kwargs)

    @classmethod
    def for_report(cls, enterprise, start, end):
        """Decisions decided in [start, end], in every domain (the report keeps its chosen ones)."""
        return cls._for_report(enterprise, cls.decided_on.between(start, end))


class DishonestListing(Listed):
    """A subject on a 严重失信主体名单 from 列入日期 until 移出日期 (blank: still listed)."""

    list_name = CharField(max_length=120)
    list_key = CharField(max_length=120)
    decision_no = CharField(max_length=120, default="")  # 列入决定书文号
    reason = TextField(default="")
    basis = TextField(default="")
    unit = CharField(max_length=200)  # 认定单位
    unit_code = CharField(max_length=18, default="")
    listed_on = DateField(index=True)
    removed_on = DateField(null=True)
    removal_reason = TextField(default="")

    class Meta:
        indexes = ((("list_key", "uscc", "listed_on"), True),)

    def save(self, *args, **kwargs):
        self.list_key = name_key(self.list_name)
        return super().save(*args, **kwargs)

    @classmethod
    def for_report(cls, enterprise, start, end):
        """Listings on the list at some time in [start, end]: listed by `end`, not removed before `start`."""
        return cls._for_report(enterprise, (cls.listed_on <= end) & (cls.removed_on.is_null()
                                                                       | (cls.removed_on >= start)))


class CriminalJudgment(Listed):
    """A criminal judgment against a unit (单位犯罪)."""

    case_no = CharField(max_length=120)
    case_key = CharField(max_length=120)
    cause = TextField(default="")  # 案由
    procedure = CharField(max_length=20, default="")  # 审判程序: 一审, 二审 …
    court = CharField(max_length=200)
    court_key = CharField(max_length=200)
    court_code = CharField(max_length=18, default="")
    judged_on = DateField(index=True)
    effective_on = DateField(null=True)
    result = TextField(default="")
    fine_wan = DecimalField(max_digits=14, decimal_places=4, null=True)  # 罚金

    class Meta:
        indexes = ((("case_key", "uscc"), True),)

    def save(self, *args, **kwargs):
        self.case_key, self.court_key = name_key(self.case_no), name_key(self.court)
        return super().save(*args, **kwargs)

    @classmethod
    def for_report(cls, enterprise, start, end):
        """Judgments given in [start, end]."""
        return cls._for_report(enterprise, cls.judged_on.between(start, end))


LISTING_MODELS = {ENFORCEMENT: EnforcementRecord, DISHONEST_LIST: DishonestListing, CRIMINAL: CriminalJudgment}


class ReportItem(BaseModel):
    """An item of a 565号 kind that a report showed."""

    report = ForeignKeyField(Report, backref="item_links", on_delete="CASCADE")
    kind = CharField(max_length=20)
    item_id = IntegerField()

    class Meta:
        indexes = ((("kind", "item_id"), False), (("report", "kind", "item_id"), True))
