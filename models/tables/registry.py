"""The register: domains, data-providing departments and what they may write, enterprises."""

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from models.base import BaseModel, utcnow

# Data kinds a department may provide.
PENALTY = "penalty"
SOCIAL_ARREARS = "social_arrears"
FUND_ARREARS = "fund_arrears"
REPAIR = "repair"
ENTERPRISE = "enterprise"  # the enterprise register (企业名录): the credit office's, or a department granted it
DATA_KINDS = {
    PENALTY: "行政处罚",
    SOCIAL_ARREARS: "社保欠缴",
    FUND_ARREARS: "公积金欠缴",
    REPAIR: "信用修复",
    ENTERPRISE: "企业名录",
}
FEED_KINDS = (PENALTY, SOCIAL_ARREARS, FUND_ARREARS, REPAIR)  # kinds whose loads certify 数据截至
CREDIT_OFFICE = "credit_office"  # the department row the credit office (and the operator acting for it) loads as
ARREARS_KINDS = (SOCIAL_ARREARS, FUND_ARREARS)


class Domain(BaseModel):
    code = CharField(unique=True, max_length=40)
    name = CharField(unique=True, max_length=40)
    aliases = TextField(default="")  # comma-separated short names people type: 社保, 环保 …
    position = IntegerField(index=True)
    active = BooleanField(default=True)

    @classmethod
    def ordered(cls, active_only=True):
        """Domains in the seed's order."""
        query = cls.select().order_by(cls.position)
        return query.where(cls.active == True) if active_only else query  # noqa: E712

    def alias_list(self):
        return [a for a in self.aliases.split(",") if a]


class Department(BaseModel):
    code = CharField(unique=True, max_length=40)
    name = CharField(max_length=80)
    robot_url = TextField(null=True)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)


class DepartmentGrant(BaseModel):
    """What a department may write: a data kind, for a domain (penalties, repairs) or for none (arrears)."""

    department = ForeignKeyField(Department, backref="grants", on_delete="CASCADE")
    kind = CharField(max_length=20)
    domain = ForeignKeyField(Domain, null=True, backref="grants")

    class Meta:
        indexes = ((("department", "kind", "domain"), True),)


class ApiKey(BaseModel):
    """A department's API key: only a prefix (to find it) and a hash (to check it) are kept."""

    department = ForeignKeyField(Department, backref="api_keys", on_delete="CASCADE")
    prefix = CharField(max_length=16, unique=True)
    key_hash = CharField(max_length=128)
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)


class Enterprise(BaseModel):
    uscc = CharField(unique=True, max_length=18)
    name = CharField(max_length=200, index=True)
    legal_rep = CharField(max_length=100, default="")
    mobile = CharField(max_length=20, default="")
    address = TextField(default="")
    county = CharField(max_length=40, default="")
    mobile_changed_at = DateTimeField(null=True)  # a registered mobile replaced by another: later bindings reviewed
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def by_uscc(cls, uscc):
        """The registered enterprise with this (validated) code, or None."""
        return cls.get_or_none(cls.uscc == uscc)

    @classmethod
    def find(cls, enterprise_id):
        """The enterprise with this id, or None."""
        return cls.get_or_none(cls.id == enterprise_id)

    @classmethod
    def showcase(cls, with_mobile, without_mobile):
        """The first enterprises with a registered mobile, then the first without one (the simulator's demo list)."""
        having = cls.select().where(cls.mobile != "").order_by(cls.id).limit(with_mobile)
        lacking = cls.select().where(cls.mobile == "").order_by(cls.id).limit(without_mobile)
        return list(having) + list(lacking)
