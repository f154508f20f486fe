"""A rich, fixed-date world for the snapshot's golden tests (tests/test_snapshot_golden.py): three enterprises, records
of every kind and state in several domains, objections, repairs, arrears from two departments, the 565号 kinds and
feeds that are complete, stale, missing, from an inactive department or without a grant.

Every date is fixed (nothing depends on the day the tests run) and rows are created in one order, so ids and the
snapshot's bytes are the same on SQLite and PostgreSQL. `scaled_world` adds `n` more of the same per domain for the
test that counts statements.
"""

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

from models.policy import departments
from models.policy.report import feeds
from models.policy.uscc import make_org_code, make_uscc
from models.tables.accounts import WechatUser
from models.tables.cases import ACCEPTED, IN_REVIEW, OBJECTION, REPAIR_REQUEST, SUBMITTED, Case
from models.tables.listings import CriminalJudgment, DishonestListing, EnforcementRecord
from models.tables.records import (
    CORRECTED,
    HELD_IMPLAUSIBLE,
    HELD_NAME_MISMATCH,
    HELD_UNKNOWN_USCC,
    NO_PENALTY,
    REPAIRED,
    SIMPLIFIED,
    WITHDRAWN,
    ArrearsRecord,
    CreditRepair,
    PenaltyRecord,
)
from models.tables.registry import (
    CRIMINAL,
    DISHONEST_LIST,
    ENFORCEMENT,
    FUND_ARREARS,
    PENALTY,
    SOCIAL_ARREARS,
    Department,
    Domain,
    Enterprise,
)
from models.tables.requests import ReportRequest

TODAY = dt.date(2026, 12, 1)
START, END = dt.date(2023, 12, 2), TODAY
FRESH, OLD = dt.date(2026, 11, 28), dt.date(2026, 5, 20)
HEADER = {"number": "HH-20261201-000001", "issuer": "信用黑河", "issued_at": "2026-12-01T09:30:00+08:00",
          "valid_until": "2026-12-31T09:30:00+08:00",
          "verify": {"url": "http://hegui.test/v/tok", "lookup": "http://hegui.test/verify"}}


def dept(code):
    return Department.get(Department.code == code)


def domain(code):
    return Domain.get(Domain.code == code)


class Maker:
    """Rows for one enterprise (or, with enterprise=None, for its USCC only)."""

    def __init__(self, enterprise, first=0):
        self.enterprise = enterprise
        self.n = first  # numbers (文号, case numbers) go on from here

    def _next(self):
        self.n += 1
        return self.n

    def penalty(self, code, decided, **fields):
        n = self._next()
        values = dict(
            subject_name=self.enterprise.name, uscc=self.enterprise.uscc, enterprise=self.enterprise,
            decision_no=f"黑{code}罚〔{decided.year}〕{self.enterprise.id}-{n}号", violation_type="未按规定履行义务",
            facts="经现场检查查实。", basis="《中华人民共和国行政处罚法》", category="罚款",
            content=f"罚款人民币{n}000元", fine_wan=Decimal(n) / 10, decided_on=decided,
            authority=dept(code).name, domain=domain(code), procedure="普通程序", department=dept(code))
        values.update(fields)
        return PenaltyRecord.create(**values)

    def repair(self, record, repaired, number=None):
        return CreditRepair.create(record=record, decision_no=number or f"修〔{repaired.year}〕{record.id}号",
                                   repaired_on=repaired, department=record.department)

    def case(self, record, kind, status, user):
        n = self._next()
        return Case.create(number=f"YY-{self.enterprise.id}-{n:04d}", kind=kind, enterprise=self.enterprise,
                           user=user, record=record, department=record.department, reason="处罚对象有误",
                           status=status, deadline=TODAY + dt.timedelta(days=5))

    def arrears(self, kind, department, start, end, amount, **fields):
        values = dict(kind=kind, subject_name=self.enterprise.name, uscc=self.enterprise.uscc,
                      enterprise=self.enterprise, period_start=start, period_end=end, amount=Decimal(amount),
                      department=dept(department))
        values.update(fields)
        return ArrearsRecord.create(**values)

    def _listed(self, **fields):
        return {"subject_name": self.enterprise.name, "uscc": self.enterprise.uscc, "enterprise": self.enterprise,
                "source_unit": "黑河市社会信用体系建设领导小组办公室", "remark": "", **fields}

    def enforcement(self, code, decided, **fields):
        n = self._next()
        return EnforcementRecord.create(**self._listed(
            decision_no=f"黑{code}强〔{decided.year}〕{self.enterprise.id}-{n}号", category="行政强制措施",
            method="查封", reason="涉嫌违法", basis="《中华人民共和国行政强制法》", target="库存商品",
            amount_wan=Decimal("2.5"), decided_on=decided, period_start=decided,
            period_end=decided + dt.timedelta(days=30), authority=dept(code).name, domain=domain(code),
            department=dept(code), **fields))

    def listing(self, name, listed, removed=None, **fields):
        return DishonestListing.create(**self._listed(
            list_name=name, unit="黑河市人力资源和社会保障局", decision_no=f"列入〔{listed.year}〕{self._next()}号",
            reason="拖欠工资", basis="《保障农民工工资支付条例》", listed_on=listed, removed_on=removed,
            removal_reason="信用修复" if removed else "", department=dept("credit_office"), **fields))

    def judgment(self, judged, **fields):
        n = self._next()
        return CriminalJudgment.create(**self._listed(
            case_no=f"（{judged.year}）黑11刑初{self.enterprise.id}{n}号", cause="单位行贿罪", procedure="一审",
            court="黑河市中级人民法院", judged_on=judged, effective_on=judged + dt.timedelta(days=15),
            result="判处罚金", fine_wan=Decimal("30"), department=dept("court"), **fields))


def _enterprise(body, name, **fields):
    return Enterprise.create(uscc=make_uscc("91231100" + make_org_code(body)), name=name, legal_rep="李明",
                             address="黑河市爱辉区中央街 56 号", county="爱辉区", **fields)


def _feeds():
    """Penalty feeds: complete for most, stale for 园林绿化, missing for 城市管理; 卫生健康 fed by two departments (the
    earlier wins: stale); 交通运输's department inactive (missing); 水务 fed only by a department without the grant."""
    departments.grant(dept("market"), PENALTY, domain("health"))
    for d in Domain.ordered():
        if d.code in ("urban", "water"):
            continue
        feeds.record_load(dept(d.code), PENALTY, [d.id], OLD if d.code == "landscaping" else FRESH)
    feeds.record_load(dept("market"), PENALTY, [domain("health").id], OLD)
    feeds.record_load(dept("market"), PENALTY, [domain("water").id], FRESH)
    Department.update(active=False).where(Department.code == "transport").execute()
    dept("health").set_default_severity("严重")  # its records' class: the department's published default
    feeds.record_load(dept("hrss"), SOCIAL_ARREARS, [None], FRESH)
    feeds.record_load(dept("tax"), SOCIAL_ARREARS, [None], dt.date(2026, 11, 20))
    feeds.record_load(dept("housing_fund"), FUND_ARREARS, [None], OLD)
    for code, as_of in (("market", FRESH), ("ecology", OLD)):
        departments.grant(dept(code), ENFORCEMENT, domain(code))
        feeds.record_load(dept(code), ENFORCEMENT, [domain(code).id], as_of)
    feeds.record_load(dept("credit_office"), DISHONEST_LIST, [None], FRESH)
    feeds.record_load(dept("court"), CRIMINAL, [None], OLD)


def _rich(e, user):
    """Enterprise E: every kind of record, held ones included."""
    m, d = Maker(e), dt.date
    m.case(m.penalty("market", d(2026, 3, 5), fine_wan=Decimal("1.5")), OBJECTION, SUBMITTED, user)
    m.penalty("market", d(2026, 3, 5), violation_type="虚假宣传")  # same day: the id decides the order
    m.penalty("market", d(2026, 2, 1), procedure=SIMPLIFIED, category="警告", content="警告", fine_wan=None)
    m.penalty("market", d(2026, 1, 9), category=NO_PENALTY, content="", fine_wan=None)
    m.penalty("market", d(2025, 9, 9), content="首违不罚", category="")
    m.penalty("market", d(2025, 8, 8), decision_no="黑市监不罚〔2025〕3号")
    m.penalty("market", d(2025, 7, 7), status=WITHDRAWN)
    m.penalty("market", d(2025, 6, 6), status=CORRECTED)
    m.penalty("market", d(2026, 4, 4), enterprise=None, subject_name=e.name + "（原名）", review=HELD_NAME_MISMATCH,
              holds=[{"code": HELD_NAME_MISMATCH, "reason": "名称与企业名录不一致"}])
    twice = m.penalty("ecology", d(2025, 5, 10), status=REPAIRED, severity="严重")
    m.repair(twice, d(2025, 12, 1), "黑环修〔2025〕1号")
    m.repair(twice, d(2026, 2, 1), "黑环修〔2026〕2号")
    m.repair(twice, d(2026, 2, 1), "黑环修〔2026〕3号")  # same day, later id: the latest
    m.repair(m.penalty("ecology", d(2025, 4, 1)), d(2026, 1, 15))  # a repair row on an active record
    m.penalty("ecology", d(2025, 3, 1), status=REPAIRED)  # repaired, no repair row
    m.repair(m.penalty("ecology", d(2022, 6, 1), status=REPAIRED), d(2024, 3, 3))  # decided before, repaired in
    m.repair(m.penalty("ecology", d(2021, 6, 1), status=REPAIRED), d(2022, 3, 3))  # both before: no repair line
    m.penalty("ecology", d(2023, 12, 1))  # the day before the period
    m.penalty("ecology", d(2024, 2, 2), publicity_until=d(2024, 8, 2), valid_until=d(2025, 2, 2),
              confiscated_wan=Decimal("0.35"), licence="食品经营许可证 JY123", authority_code="11231100MB1234567X",
              source_unit="黑河市生态环境局爱辉分局", source_unit_code="11231100MB7654321Y", remark="已缴清",
              subject_class="法人及非法人组织", category="罚款;没收违法所得")
    health = m.penalty("health", d(2026, 6, 1))
    m.case(health, OBJECTION, ACCEPTED, user)
    m.case(health, REPAIR_REQUEST, SUBMITTED, user)
    m.case(m.penalty("health", d(2026, 7, 1)), OBJECTION, IN_REVIEW, user)
    m.penalty("transport", d(2025, 10, 10))
    m.penalty("transport", d(2025, 10, 11), enterprise=None, review=HELD_UNKNOWN_USCC, category=NO_PENALTY)
    m.penalty("work_safety", START, category="警告")
    m.penalty("work_safety", d(2026, 12, 2))  # after the period
    m.penalty("fire", d(2026, 5, 5), procedure=SIMPLIFIED, review=HELD_IMPLAUSIBLE,
              holds=[{"code": HELD_IMPLAUSIBLE, "reason": "简易程序标注与行政处罚法第五十一条不符"}])
    m.penalty("housing", d(2026, 5, 6), enterprise=None)  # its USCC, verified, not linked: neither shown nor held
    m.penalty("landscaping", d(2026, 1, 1), procedure=SIMPLIFIED, category="通报批评")
    m.penalty("landscaping", d(2025, 1, 1))
    m.arrears(SOCIAL_ARREARS, "hrss", d(2025, 1, 1), d(2025, 3, 31), "1200.00")
    m.arrears(SOCIAL_ARREARS, "tax", d(2025, 1, 1), d(2025, 3, 31), "1200.00")  # the same debt: one line
    m.arrears(SOCIAL_ARREARS, "tax", d(2025, 6, 1), d(2025, 6, 30), "800.00", settled=True, settled_on=d(2025, 8, 1))
    m.arrears(SOCIAL_ARREARS, "hrss", d(2025, 6, 1), d(2025, 6, 30), "850.00")  # disagrees: its own line
    m.arrears(SOCIAL_ARREARS, "hrss", d(2022, 1, 1), d(2022, 3, 31), "90.00", settled=True, settled_on=d(2022, 5, 1))
    m.arrears(SOCIAL_ARREARS, "hrss", d(2023, 10, 1), d(2023, 12, 31), "60.00", settled=True)  # date not sent
    m.arrears(SOCIAL_ARREARS, "tax", d(2024, 4, 1), d(2024, 4, 30), "70.00", withdrawn=True)
    m.arrears(FUND_ARREARS, "housing_fund", d(2026, 2, 1), d(2026, 4, 30), "3000.50")
    m.arrears(FUND_ARREARS, "housing_fund", d(2026, 5, 1), d(2026, 5, 31), "10.00", enterprise=None,
              review=HELD_NAME_MISMATCH)
    m.enforcement("market", d(2026, 3, 5), released_on=d(2026, 4, 1))
    m.enforcement("ecology", d(2025, 11, 11))
    m.enforcement("market", d(2023, 11, 30))  # before the period
    m.enforcement("market", d(2026, 3, 6), status=WITHDRAWN)
    m.enforcement("health", d(2026, 8, 8), enterprise=None, review=HELD_UNKNOWN_USCC)
    m.listing("拖欠农民工工资失信联合惩戒对象名单", d(2026, 1, 20))
    m.listing("市场监督管理严重违法失信名单", d(2025, 4, 10), d(2026, 4, 12))
    m.listing("市场监督管理严重违法失信名单", d(2021, 6, 15), d(2023, 6, 20))  # off before the period
    m.listing("重大税收违法失信主体", d(2026, 10, 1), enterprise=None, review=HELD_NAME_MISMATCH)
    m.judgment(d(2026, 4, 28))
    m.judgment(d(2023, 9, 14))  # before the period
    m.judgment(d(2026, 6, 1), enterprise=None, review=HELD_UNKNOWN_USCC)


def _plain(f):
    """Enterprise F: found items and no holds, so every section's 查见 sentence shows."""
    m, d = Maker(f), dt.date
    m.penalty("market", d(2026, 2, 2))
    m.penalty("ecology", d(2025, 2, 2), procedure=SIMPLIFIED, category="警告", content="警告", fine_wan=None)
    m.repair(m.penalty("health", d(2024, 5, 5), status=REPAIRED), d(2025, 5, 5))
    m.arrears(SOCIAL_ARREARS, "tax", d(2026, 7, 1), d(2026, 9, 30), "456.78")
    m.arrears(FUND_ARREARS, "housing_fund", d(2025, 3, 1), d(2025, 3, 31), "99.00", settled=True,
              settled_on=d(2025, 6, 1))
    m.enforcement("market", d(2026, 6, 6))
    m.listing("拖欠农民工工资失信联合惩戒对象名单", d(2024, 1, 20), d(2024, 7, 1))
    m.listing("市场监督管理严重违法失信名单", d(2026, 9, 1))
    m.judgment(d(2025, 1, 28))


def build():
    """The world: enterprises E (rich), F (plain), G (clean) and O (another's records, never shown)."""
    _feeds()
    user = WechatUser.create(openid="o-golden")
    e = _enterprise("MA1C5R7T", "黑河市龙江边贸物流有限公司")
    f = _enterprise("MA1D6W8U", "黑河市北辰商贸有限公司")
    g = _enterprise("MA1E7T9Y", "黑河市瑷珲粮贸有限公司")
    o = _enterprise("MA1F8U0W", "黑河市兴安木业有限公司")
    _rich(e, user)
    _plain(f)
    other = Maker(o)
    other.penalty("market", dt.date(2026, 3, 5))
    other.arrears(SOCIAL_ARREARS, "hrss", dt.date(2025, 1, 1), dt.date(2025, 3, 31), "1200.00")
    other.enforcement("market", dt.date(2026, 3, 5))
    return SimpleNamespace(e=e, f=f, g=g, o=o, user=user)


def request(world, enterprise, domains=None):
    return ReportRequest.create(
        user=world.user, enterprise=enterprise, msg_key=uuid.uuid4().hex,
        domains=domains or [d.code for d in Domain.ordered()], period_start=START, period_end=END,
        purpose_category="金融", purpose="银行贷款")


def scaled(enterprise, n, domain_codes):
    """`n` more records of each kind per domain for `enterprise`: shown, repaired, objected, held, excluded."""
    m, user = Maker(enterprise, first=10_000), WechatUser.get(WechatUser.openid == "o-golden")
    for code in domain_codes:
        for i in range(n):
            day = dt.date(2025, 1, 1) + dt.timedelta(days=i)
            m.penalty(code, day)
            m.repair(m.penalty(code, day, status=REPAIRED), day + dt.timedelta(days=90))
            m.case(m.penalty(code, day), OBJECTION, SUBMITTED, user)
            m.penalty(code, day, enterprise=None, review=HELD_NAME_MISMATCH)
            m.penalty(code, day, procedure=SIMPLIFIED)
            m.penalty(code, day, category=NO_PENALTY)
            m.enforcement(code, day)
        m.listing(f"名单{code}", dt.date(2025, 1, 1) + dt.timedelta(days=n))
        m.judgment(dt.date(2025, 2, 1) + dt.timedelta(days=n))
    for i in range(n * len(domain_codes)):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=31 * i)
        m.arrears(SOCIAL_ARREARS, "hrss", start, start + dt.timedelta(days=20), "5.00")
        m.arrears(FUND_ARREARS, "housing_fund", start, start + dt.timedelta(days=20), "6.00")
