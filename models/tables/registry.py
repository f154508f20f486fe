"""The register: domains, data-providing departments (what they may write, the authorities they speak for, their
default severity) and enterprises, with the queries and changes of each beside its table."""

import unicodedata

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from models.base import BaseModel, db, utcnow
from models.refusals import Refusal

# Data kinds a department may provide.
PENALTY = "penalty"
SOCIAL_ARREARS = "social_arrears"
FUND_ARREARS = "fund_arrears"
REPAIR = "repair"
ENFORCEMENT = "enforcement"  # 行政强制 (强制措施 and 强制执行 decisions), per domain like penalties
DISHONEST_LIST = "dishonest_list"  # 严重失信主体名单
CRIMINAL = "criminal"  # 刑事: 单位犯罪 judgments
ENTERPRISE = "enterprise"  # the enterprise register (企业名录): the credit office's, or a department granted it
DATA_KINDS = {
    PENALTY: "行政处罚",
    SOCIAL_ARREARS: "社保欠缴",
    FUND_ARREARS: "公积金欠缴",
    REPAIR: "信用修复",
    ENFORCEMENT: "行政强制",
    DISHONEST_LIST: "严重失信主体名单",
    CRIMINAL: "刑事判决（单位犯罪）",
    ENTERPRISE: "企业名录",
}
DOMAIN_KINDS = (PENALTY, REPAIR, ENFORCEMENT)  # kinds granted for a domain; the others for none
LISTING_KINDS = (ENFORCEMENT, DISHONEST_LIST, CRIMINAL)  # the three kinds of 发改财金〔2025〕565号 beyond penalties
FEED_KINDS = (PENALTY, SOCIAL_ARREARS, FUND_ARREARS, REPAIR, *LISTING_KINDS)  # kinds whose loads certify 数据截至
CREDIT_OFFICE = "credit_office"  # the department row the credit office (and the operator acting for it) loads as
ARREARS_KINDS = (SOCIAL_ARREARS, FUND_ARREARS)
SEVERITIES = ("轻微", "一般", "严重")  # 《信用修复管理办法》（国家发展改革委令第36号）'s classes


def name_key(value):
    """A name or number as matched, never as printed: NFKC (full-width folded), every space removed."""
    return "".join(unicodedata.normalize("NFKC", str(value or "")).split())


class Domain(BaseModel):
    code = CharField(unique=True, max_length=40)
    name = CharField(unique=True, max_length=40)
    aliases = TextField(default="")  # comma-separated short names people type: 社保, 环保 …
    position = IntegerField(index=True)
    active = BooleanField(default=True)

    @classmethod
    def ordered(cls, active_only=True):
        """Domains in the register's order (the seed's, then the order they were added in)."""
        query = cls.select().order_by(cls.position)
        return query.where(cls.active == True) if active_only else query  # noqa: E712

    @classmethod
    def by_code(cls, code):
        return cls.get_or_none(cls.code == code)

    @classmethod
    def add(cls, code, name, aliases=()):
        """A new domain at the end of the order; DomainError when the code, name or an alias is taken."""
        code, name = (code or "").strip(), (name or "").strip()
        aliases = [a.strip() for a in aliases if a and a.strip()]
        if not code or not name:
            raise DomainError("领域代码和名称不能为空。")
        taken = cls.lookup(active_only=False)
        for word in [code, name, *aliases]:
            if word in taken or word.lower() in taken:
                raise DomainError(f"“{word}”已被领域“{taken.get(word, taken.get(word.lower())).name}”使用。")
        with db.atomic():
            position = (cls.select(fn.MAX(cls.position)).scalar() or 0) + 1
            return cls.create(code=code, name=name, aliases=",".join(aliases), position=position)

    @classmethod
    def lookup(cls, active_only=True):
        """{code, name or alias: Domain} — what a department may write in 领域."""
        found = {}
        for domain in cls.ordered(active_only):
            for word in [domain.code, domain.name, *domain.alias_list()]:
                found.setdefault(word, domain)
        return found

    def alias_list(self):
        return [a for a in self.aliases.split(",") if a]

    def set_aliases(self, aliases):
        """Replace the short names (DomainError when one is another domain's)."""
        aliases = [a.strip() for a in aliases if a and a.strip()]
        taken = {k: d for k, d in Domain.lookup(active_only=False).items() if d.id != self.id}
        for word in aliases:
            if word in taken:
                raise DomainError(f"“{word}”已被领域“{taken[word].name}”使用。")
        self.aliases = ",".join(aliases)
        self.save()
        return self


class DomainError(Refusal, ValueError):
    """A domain cannot be added or changed; `message` says why in Chinese."""


class Department(BaseModel):
    code = CharField(unique=True, max_length=40)
    name = CharField(max_length=80)
    robot_url = TextField(null=True)
    active = BooleanField(default=True)
    # The department's published default class (轻微 / 一般 / 严重) for records sent without one; None: 一般 (默认).
    default_severity = CharField(max_length=10, null=True)
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def by_code(cls, code):
        return cls.get_or_none(cls.code == (code or ""))

    @classmethod
    def active_by_code(cls, code):
        return cls.get_or_none((cls.code == (code or "")) & (cls.active == True))  # noqa: E712

    @classmethod
    def all_ordered(cls):
        return list(cls.select().order_by(cls.id))

    def set_robot_url(self, url):
        Department.update(robot_url=url or None).where(Department.id == self.id).execute()
        self.robot_url = url or None

    def set_default_severity(self, severity):
        if severity not in (None, *SEVERITIES):
            raise ValueError(severity)
        Department.update(default_severity=severity).where(Department.id == self.id).execute()
        self.default_severity = severity

    def grant_list(self):
        """The department's grants, data kind first."""
        return list(DepartmentGrant.select().where(DepartmentGrant.department == self)
                    .order_by(DepartmentGrant.kind, DepartmentGrant.domain))

    def kinds(self):
        """The data kinds the department holds any grant for."""
        return {g.kind for g in DepartmentGrant.select(DepartmentGrant.kind).where(DepartmentGrant.department == self)}

    def authority_names(self):
        """The authorities the department speaks for: its own name, then its list (in the order kept)."""
        return [self.name, *[a.name for a in self.authorities.order_by(DepartmentAuthority.id)]]

    def authority_keys(self):
        return {name_key(n) for n in self.authority_names()}

    def set_authorities(self, names):
        """Replace the department's list of authorities (its own name is always one); return (added, removed)."""
        wanted = {}
        for name in names:
            name = (name or "").strip()
            if name and name_key(name) != name_key(self.name):
                wanted.setdefault(name_key(name), name[:200])
        current = {a.key: a for a in self.authorities}
        removed = [current[k].name for k in current if k not in wanted]
        added = [wanted[k] for k in wanted if k not in current]
        with db.atomic():
            DepartmentAuthority.delete().where(
                (DepartmentAuthority.department == self) & DepartmentAuthority.key.in_(
                    [k for k in current if k not in wanted] or [""])).execute()
            for key in wanted:
                if key not in current:
                    DepartmentAuthority.create(department=self, name=wanted[key], key=key)
        return added, removed


class DepartmentGrant(BaseModel):
    """What a department may write: a data kind, for a domain (penalties, repairs, enforcement) or for none."""

    department = ForeignKeyField(Department, backref="grants", on_delete="CASCADE")
    kind = CharField(max_length=20)
    domain = ForeignKeyField(Domain, null=True, backref="grants")

    class Meta:
        indexes = ((("department", "kind", "domain"), True),)

    @classmethod
    def find(cls, grant_id, department):
        return cls.get_or_none((cls.id == grant_id) & (cls.department == department))


class DepartmentAuthority(BaseModel):
    """An authority (处罚机关, 实施机关, 审理法院) a department may send records for besides its own name: county
    (县市区) bureaus, branches, vertical units. A record naming any other is held for staff review."""

    department = ForeignKeyField(Department, backref="authorities", on_delete="CASCADE")
    name = CharField(max_length=200)
    key = CharField(max_length=200)  # name_key(name)

    class Meta:
        indexes = ((("department", "key"), True),)


class ApiKey(BaseModel):
    """A department's API key: only a prefix (to find it) and a hash (to check it) are kept."""

    department = ForeignKeyField(Department, backref="api_keys", on_delete="CASCADE")
    prefix = CharField(max_length=16, unique=True)
    key_hash = CharField(max_length=128)
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)

    @classmethod
    def of(cls, department):
        return list(cls.select().where(cls.department == department).order_by(cls.id.desc()))

    @classmethod
    def find(cls, key_id, department):
        return cls.get_or_none((cls.id == key_id) & (cls.department == department))

    def revoke(self):
        """Revoke this key; True when it was live."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = utcnow()
        ApiKey.update(revoked_at=self.revoked_at).where(ApiKey.id == self.id).execute()
        return True


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
