"""`flask demo-data`: a valid, varied, deterministic data set; --if-empty; COPY only on PostgreSQL."""

import datetime as dt
import random

from commands.demo import DemoData
from models.base import is_postgres, local_today
from models.policy.report import feeds
from models.policy.uscc import is_valid
from models.tables.records import ArrearsRecord, CreditRepair, FeedStatus, PenaltyRecord
from models.tables.registry import Domain, Enterprise


def test_small_demo_data_set(runner, app):
    result = runner.invoke(args=["demo-data", "--enterprises", "200", "--records", "900", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "演示数据已生成：企业200家" in result.stdout
    shown = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert len(shown) >= 4 and all(Enterprise.get_or_none(Enterprise.uscc == code) for code in shown)

    codes = [e.uscc for e in Enterprise.select()]
    assert len(codes) == 200 and all(is_valid(c) for c in codes)
    assert {c[:2] for c in codes} >= {"91", "92", "93"}
    assert {c[2:8] for c in codes} <= {"231100", "231102", "231181", "231182", "231183", "231123", "231124"}
    assert Enterprise.select().where(Enterprise.mobile == "").count() > 0

    records = PenaltyRecord.select()
    assert records.count() == 902
    assert {r.domain.code for r in records} == {d.code for d in Domain.select()}
    assert {r.procedure for r in records} == {"普通程序", "简易程序"}
    assert {r.status for r in records} == {"active", "repaired", "withdrawn"}
    assert any(r.category == "不予行政处罚" for r in records)
    assert {r.review for r in records} >= {"verified", "held_unknown_uscc"}
    assert CreditRepair.select().count() == records.where(PenaltyRecord.status == "repaired").count()
    assert {a.kind for a in ArrearsRecord.select()} == {"social_arrears", "fund_arrears"}

    today = local_today()
    states = {d.code: feeds.coverage(d, "penalty", today, today=today).state for d in Domain.select()}
    assert states["finance"] == "missing" and states["landscaping"] == "stale"
    assert sum(state == "complete" for state in states.values()) == 14
    assert feeds.coverage(None, "social_arrears", today, today=today).state == "complete"

    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert again.exit_code == 0 and Enterprise.select().count() == 200
    refused = runner.invoke(args=["demo-data"])
    assert refused.exit_code == 1 and "已有企业数据" in refused.output


def test_same_seed_same_data(app):
    first = [row[1:3] for row in DemoData(random.Random(3), dt.date(2026, 11, 27)).enterprise_rows(50, 1)]
    second = [row[1:3] for row in DemoData(random.Random(3), dt.date(2026, 11, 27)).enterprise_rows(50, 1)]
    other = [row[1:3] for row in DemoData(random.Random(4), dt.date(2026, 11, 27)).enterprise_rows(50, 1)]
    assert first == second != other
    assert len({code for code, _ in first}) == 50


def test_copy_tier_is_postgres_only(runner, app):
    result = runner.invoke(args=["demo-data", "--enterprises", "100", "--records", "300", "--copy"])
    if is_postgres():
        assert result.exit_code == 0, result.output
        assert Enterprise.select().count() == 100 and PenaltyRecord.select().count() == 302
        assert FeedStatus.select().count() > 0
        created = Enterprise.create(uscc="91350100M000100Y43", name="序列已推进")
        assert created.id == 101
    else:
        assert result.exit_code == 1 and "仅支持PostgreSQL" in result.output
        assert Enterprise.select().count() == 0
