"""`flask demo-data`: a realistic, deterministic synthetic 黑河 data set.

Enterprises with valid USCCs (黑河 division codes, 91/92/93/N2/52 prefixes), penalties in all 16 domains (ordinary and
simplified procedure, 不予行政处罚, repaired, withdrawn, a few held for 核验), 社保 and 公积金 arrears, and FeedStatus
for most feeds: 园林绿化 is left stale and 金融监管 missing on purpose so that reports show both.
Small and medium sizes use batched inserts (SQLite or PostgreSQL); `large` (1 M enterprises, 10 M records) and
`--copy` bulk-load with PostgreSQL COPY and are for benchmarks only.
"""

import csv
import datetime as dt
import io
import random
import sys
from decimal import Decimal

import click

from models.base import db, is_postgres, local_today, utcnow
from models.policy.report import feeds
from models.policy.uscc import ALPHABET, make_org_code, make_uscc
from models.tables.records import (
    ACTIVE,
    HELD_NAME_MISMATCH,
    HELD_UNKNOWN_USCC,
    REPAIRED,
    VERIFIED,
    WITHDRAWN,
    ArrearsRecord,
    CreditRepair,
    PenaltyRecord,
)
from models.tables.registry import (
    FUND_ARREARS,
    PENALTY,
    REPAIR,
    SOCIAL_ARREARS,
    Department,
    Domain,
    Enterprise,
    name_key,
)

SIZES = {"small": (300, 1200), "medium": (20_000, 100_000), "large": (1_000_000, 10_000_000)}
COUNTIES = [("231100", "爱辉区"), ("231102", "爱辉区"), ("231181", "北安市"), ("231182", "五大连池市"),
            ("231183", "嫩江市"), ("231123", "逊克县"), ("231124", "孙吴县")]
KINDS = [("91", 75), ("92", 15), ("93", 6), ("N2", 3), ("52", 1)]
BRANDS = ["鑫源", "宏达", "北疆", "龙江", "兴安", "瑞丰", "金诚", "华信", "恒通", "广源", "天成", "永盛",
          "丰泽", "中兴", "嘉禾", "润泽", "鼎盛", "德隆", "富民", "黑土", "界江", "寒地", "五花山", "大黑河",
          "瑷珲", "龙腾", "北极星", "雪原", "松岭", "俄邦"]
TRADES = ["商贸", "粮贸", "木业", "建材", "农业科技", "矿业", "物流", "餐饮管理", "旅游开发", "建筑工程", "能源",
          "医药", "大豆加工", "米业", "食品", "汽车服务", "房地产开发", "电子商务", "口岸贸易", "文化传媒"]
FORMS = ["有限公司", "有限责任公司", "股份有限公司"]
SHOPS = ["超市", "饭店", "五金店", "汽车修理部", "粮油店", "药店", "烧烤店", "理发店"]
CROPS = ["大豆", "玉米", "蓝莓", "水稻", "中草药", "食用菌"]
VILLAGES = ["红星村", "新生村", "东安村", "胜利村", "富强村", "前进村", "永安村", "长发村"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红海波宏斌鹏辉宇浩凯"
ROADS = ["中央街", "王肃街", "海兰街", "通江路", "邮政路", "铁西路", "兴华路", "长青路", "建设街", "友谊路"]
# domain code → (decision-number abbreviation, authority suffix, violation types)
DOMAIN_STYLE = {
    "hrss": ("人社监罚", "人力资源和社会保障局", ["拖欠劳动者工资", "未依法缴纳社会保险费", "违法延长工作时间"]),
    "natural_resources": ("自然资源罚", "自然资源局", ["非法占用土地", "未经批准擅自采矿"]),
    "ecology": ("环罚", "生态环境局", ["超标排放大气污染物", "未批先建", "危险废物贮存不规范"]),
    "transport": ("交罚", "交通运输局", ["超限运输", "未取得道路运输经营许可", "客车超员"]),
    "water": ("水罚", "水务局", ["未经批准取水", "河道内违法采砂"]),
    "agriculture": ("农罚", "农业农村局", ["经营假劣农药", "违规使用兽药", "销售未经审定种子"]),
    "commerce": ("商务罚", "商务局", ["单用途预付卡未备案", "成品油经营不规范"]),
    "health": ("卫健罚", "卫生健康局", ["公共场所卫生不合格", "未取得医疗机构执业许可证执业"]),
    "work_safety": ("应急罚", "应急管理局", ["未按规定开展安全培训", "安全隐患未及时排除", "特种作业人员无证上岗"]),
    "market": ("市监罚", "市场监督管理局", ["虚假宣传", "销售过期食品", "未明码标价", "计量器具未检定"]),
    "medical_insurance": ("医保罚", "医疗保障局", ["串换药品骗取医保基金", "超标准收费"]),
    "finance": ("金罚", "金融工作办公室", ["违规发放贷款", "非法集资宣传"]),
    "fire": ("消罚", "消防救援支队", ["消防设施未保持完好有效", "占用疏散通道"]),
    "housing": ("建罚", "住房和城乡建设局", ["未取得施工许可证擅自施工", "违规转包工程"]),
    "landscaping": ("园林罚", "园林绿化中心", ["擅自砍伐城市树木", "损毁城市绿地"]),
    "urban": ("城管罚", "城市管理综合执法局", ["违规设置户外广告", "占道经营", "乱倒建筑垃圾"]),
}
DOMAIN_WEIGHTS = {"market": 8, "work_safety": 5, "transport": 5, "ecology": 4, "fire": 4, "urban": 4, "health": 3}
STALE_DOMAIN, MISSING_DOMAIN = "landscaping", "finance"
ORG_SPACE = 31 ** 6
ORG_STEP = 387_420_491  # coprime with 31: scrambles the index into distinct 6-character codes
ORG_OFFSET = 123_456_789


class DemoRefused(click.ClickException):
    """The demo data cannot be written here."""


def init_app(app):
    app.cli.add_command(demo_data_command)


@click.command("demo-data")
@click.option("--size", type=click.Choice(sorted(SIZES)), default="small", show_default=True)
@click.option("--enterprises", "n_enterprises", type=int, help="number of enterprises (overrides --size)")
@click.option("--records", "n_records", type=int, help="number of penalty records (overrides --size)")
@click.option("--seed", type=int, default=20241, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing when enterprises exist")
@click.option("--copy", "use_copy", is_flag=True, help="bulk-load with PostgreSQL COPY (implied by --size large)")
def demo_data_command(size, n_enterprises, n_records, seed, if_empty, use_copy):
    """Fill an empty database with a realistic synthetic 黑河 data set."""
    if Enterprise.select().exists():
        if if_empty:
            click.echo("已有企业数据，未生成演示数据")
            return
        raise DemoRefused("数据库中已有企业数据；演示数据只写入空库（可加 --if-empty 跳过）")
    n_enterprises = n_enterprises or SIZES[size][0]
    n_records = n_records if n_records is not None else SIZES[size][1]
    use_copy = use_copy or size == "large"
    if use_copy and not is_postgres():
        raise DemoRefused("--copy 与 large 规模仅支持PostgreSQL")
    generator = DemoData(random.Random(seed), local_today())
    with db.atomic():
        counts = generator.write(n_enterprises, n_records, use_copy, progress=lambda m: click.echo(m, err=True))
    click.echo("演示数据已生成：企业{enterprises}家，行政处罚{records}条，欠缴{arrears}条，信用修复{repairs}条".format(**counts))
    click.echo("演示用统一社会信用代码（手机号）：")
    for ent in generator.showcase():
        click.echo(f"  {ent.uscc}  {ent.name}  {ent.mobile or '（无手机号，需人工核验绑定）'}")


class DemoData:
    """Deterministic generator of the demo rows for one seed and one `today`."""

    def __init__(self, rng, today):
        self.rng = rng
        self.today = today
        self.domains = {d.code: d for d in Domain.ordered()}
        self.departments = {d.code: d for d in Department.select()}
        self.codes = []  # (id, uscc, name) of generated enterprises

    # ---- enterprises ------------------------------------------------------------------------------------------

    def enterprise_rows(self, count, first_id):
        """Yield enterprise tuples (id, uscc, name, legal_rep, mobile, address, county, created_at, updated_at)."""
        now = utcnow()
        kinds = [k for k, _ in KINDS]
        weights = [w for _, w in KINDS]
        for index in range(count):
            prefix = self.rng.choices(kinds, weights)[0]
            region, county = self.rng.choice(COUNTIES)
            code = make_uscc(prefix + region + make_org_code("MA" + self._org_body(index)))
            name = self._name(prefix, county)
            mobile = "" if self.rng.random() < 0.15 else f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            address = f"黑龙江省黑河市{county}{self.rng.choice(ROADS)}{self.rng.randint(1, 399)}号"
            self.codes.append((first_id + index, code, name))
            yield (first_id + index, code, name, self._person(), mobile, address, county, now, now)

    @staticmethod
    def _org_body(index):
        value = (index * ORG_STEP + ORG_OFFSET) % ORG_SPACE
        chars = []
        for _ in range(6):
            value, digit = divmod(value, 31)
            chars.append(ALPHABET[digit])
        return "".join(reversed(chars))

    def _name(self, prefix, county):
        rng = self.rng
        if prefix == "92":
            return f"{county}{rng.choice(BRANDS)}{rng.choice(SHOPS)}"
        if prefix == "93":
            return f"{county}{rng.choice(BRANDS)}{rng.choice(CROPS)}种植专业合作社"
        if prefix == "N2":
            return f"{county}{rng.choice(VILLAGES)}股份经济合作社"
        if prefix == "52":
            return f"黑河市{rng.choice(BRANDS)}职业培训学校"
        return f"黑河市{rng.choice(BRANDS)}{rng.choice(TRADES)}{rng.choice(FORMS)}"

    def _person(self):
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2)))

    # ---- penalties, repairs, arrears ---------------------------------------------------------------------------

    def penalty_rows(self, count, first_id):
        """Yield (record tuple, repair tuple or None) for `count` penalties spread over a quarter of the enterprises."""
        codes = list(self.domains)
        weights = [DOMAIN_WEIGHTS.get(c, 2) for c in codes]
        offenders = self.codes[: max(1, len(self.codes) // 4)]
        now = utcnow()
        for index in range(count):
            ent_id, code, name = self.rng.choice(offenders)
            domain = self.domains[self.rng.choices(codes, weights)[0]]
            abbrev, suffix, violations = DOMAIN_STYLE.get(domain.code, ("罚", "管理局", ["违法行为"]))
            decided = self.today - dt.timedelta(days=self.rng.randint(10, 4 * 365))
            simplified = self.rng.random() < 0.2
            category = "不予行政处罚" if self.rng.random() < 0.05 else ("警告" if simplified else "罚款")
            fine = None if category != "罚款" else Decimal(self.rng.randint(1, 500)) / 10
            roll = self.rng.random()
            status = REPAIRED if roll < 0.05 else WITHDRAWN if roll < 0.07 else ACTIVE
            review, enterprise, subject = VERIFIED, ent_id, name
            if roll > 0.995:
                review, subject = HELD_NAME_MISMATCH, name.replace("有限公司", "公司") + "（原名）"
            number, authority = f"黑{abbrev}〔{decided.year}〕{index + 1}号", f"黑河市{suffix}"
            record = (first_id + index, subject, code, enterprise, number, name_key(number),
                      self.rng.choice(violations), "经现场检查查实。", "依据相关法律法规", category,
                      f"{category}{'' if fine is None else f'人民币{fine}万元'}", fine, decided,
                      authority, name_key(authority), authority, domain.id, "简易程序" if simplified else "普通程序",
                      self._department(domain).id, status, review, now, now, *BLANK_NATIONAL)
            repair = None
            if status == REPAIRED:
                repaired = min(self.today, decided + dt.timedelta(days=self.rng.randint(90, 400)))
                repair = (first_id + index, f"黑{abbrev}修〔{repaired.year}〕{index + 1}号", repaired,
                          self._department(domain).id, "当事人已履行处罚决定并完成整改", now)
            yield record, repair

    def _department(self, domain):
        return self.departments.get(domain.code) or self.departments["market"]

    def arrears_rows(self):
        """Yield arrears tuples: 社保 for about 3 % of enterprises, 公积金 for about 2 %."""
        now = utcnow()
        tax, fund = self.departments["tax"].id, self.departments["housing_fund"].id
        for ent_id, code, name in self.codes:
            for kind, share, dept in ((SOCIAL_ARREARS, 0.03, tax), (FUND_ARREARS, 0.02, fund)):
                if self.rng.random() >= share:
                    continue
                start = (self.today - dt.timedelta(days=self.rng.randint(60, 900))).replace(day=1)
                end = min(self.today, start + dt.timedelta(days=self.rng.randint(28, 200)))
                settled = self.rng.random() < 0.4
                settled_on = min(self.today, end + dt.timedelta(days=self.rng.randint(10, 120))) if settled else None
                amount = Decimal(self.rng.randint(50_000, 5_000_000)) / 100
                yield (kind, name, code, ent_id, start, end, amount, settled, settled_on, dept, VERIFIED, False,
                       now, now)

    def held_unknown(self):
        """Two records for USCCs not in the register, to show the 核验 queue."""
        market = self.domains["market"]
        for n in range(2):
            code = make_uscc("91231102" + make_org_code(f"MH{n:06d}"))
            yield dict(subject_name=f"黑河市外来{n + 1}号商贸有限公司", uscc=code, enterprise=None,
                       decision_no=f"黑市监罚〔{self.today.year}〕待核{n + 1}号", category="罚款",
                       decided_on=self.today - dt.timedelta(days=30), authority="黑河市市场监督管理局",
                       domain=market, procedure="普通程序", department=self.departments["market"],
                       review=HELD_UNKNOWN_USCC, fine_wan=Decimal("0.5"))

    # ---- writing ----------------------------------------------------------------------------------------------

    def write(self, n_enterprises, n_records, use_copy, progress):
        """Write everything; return the counts."""
        writer = CopyWriter() if use_copy else InsertWriter()
        first_e = (Enterprise.select(Enterprise.id).order_by(Enterprise.id.desc()).scalar() or 0) + 1
        first_r = (PenaltyRecord.select(PenaltyRecord.id).order_by(PenaltyRecord.id.desc()).scalar() or 0) + 1
        writer.write(Enterprise, ENTERPRISE_FIELDS, self.enterprise_rows(n_enterprises, first_e))
        progress(f"企业 {n_enterprises}")
        repairs = []
        records = self._split(self.penalty_rows(n_records, first_r), repairs)
        writer.write(PenaltyRecord, PENALTY_FIELDS, records)
        writer.write(CreditRepair, REPAIR_FIELDS, iter(repairs))
        progress(f"行政处罚 {n_records}")
        n_arrears = writer.write(ArrearsRecord, ARREARS_FIELDS, self.arrears_rows())
        writer.finish()
        for values in self.held_unknown():
            PenaltyRecord.create(**values)
        self._feeds()
        return {"enterprises": n_enterprises, "records": n_records + 2, "arrears": n_arrears,
                "repairs": len(repairs)}

    @staticmethod
    def _split(pairs, repairs):
        for record, repair in pairs:
            if repair:
                repairs.append(repair)
            yield record

    def _feeds(self):
        """数据截至 for every feed except one stale and one missing domain."""
        for code, domain in self.domains.items():
            if code == MISSING_DOMAIN:
                continue
            lag = 120 if code == STALE_DOMAIN else self.rng.randint(1, 20)
            dept = self._department(domain)
            for kind in (PENALTY, REPAIR):
                feeds.record_load(dept, kind, [domain.id], self.today - dt.timedelta(days=lag))
        feeds.record_load(self.departments["tax"], SOCIAL_ARREARS, [None], self.today - dt.timedelta(days=7))
        feeds.record_load(self.departments["housing_fund"], FUND_ARREARS, [None], self.today - dt.timedelta(days=10))

    def showcase(self):
        """A few enterprises to try in the chat simulator: with records, with arrears, clean, without a mobile."""
        picks = []
        with_records = (Enterprise.select().join(PenaltyRecord, on=(PenaltyRecord.enterprise == Enterprise.id))
                        .where(Enterprise.mobile != "").distinct().order_by(Enterprise.id).limit(3))
        picks.extend(with_records)
        with_arrears = (Enterprise.select().join(ArrearsRecord, on=(ArrearsRecord.enterprise == Enterprise.id))
                        .where(Enterprise.mobile != "").order_by(Enterprise.id).limit(1))
        picks.extend(with_arrears)
        offenders = PenaltyRecord.select(PenaltyRecord.enterprise).where(PenaltyRecord.enterprise.is_null(False))
        clean = Enterprise.select().where(Enterprise.id.not_in(offenders) & (Enterprise.mobile != "")).limit(1)
        picks.extend(clean)
        picks.extend(Enterprise.select().where(Enterprise.mobile == "").order_by(Enterprise.id).limit(1))
        return picks


ENTERPRISE_FIELDS = ["id", "uscc", "name", "legal_rep", "mobile", "address", "county", "created_at", "updated_at"]
# The national layout's columns the demo leaves blank (a bulk COPY must name every NOT NULL column).
NATIONAL_BLANKS = ["subject_class", "licence", "authority_code", "source_unit_code", "remark"]
BLANK_NATIONAL = ("",) * len(NATIONAL_BLANKS)
PENALTY_FIELDS = ["id", "subject_name", "uscc", "enterprise_id", "decision_no", "decision_key", "violation_type",
                  "facts", "basis", "category", "content", "fine_wan", "decided_on", "authority", "authority_key",
                  "source_unit", "domain_id", "procedure", "department_id", "status", "review", "created_at",
                  "updated_at", *NATIONAL_BLANKS]
REPAIR_FIELDS = ["record_id", "decision_no", "repaired_on", "department_id", "note", "created_at"]
ARREARS_FIELDS = ["kind", "subject_name", "uscc", "enterprise_id", "period_start", "period_end", "amount", "settled",
                  "settled_on", "department_id", "review", "withdrawn", "created_at", "updated_at"]


class InsertWriter:
    """Batched insert_many (SQLite and PostgreSQL)."""

    def write(self, model, fields, rows):
        """Insert tuples in chunks; return the count."""
        columns = [model._meta.columns[f] for f in fields]
        chunk_size = max(50, 30000 // len(fields))
        count, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= chunk_size:
                model.insert_many(chunk, fields=columns).execute()
                count, chunk = count + len(chunk), []
        if chunk:
            model.insert_many(chunk, fields=columns).execute()
            count += len(chunk)
        return count

    def finish(self):
        """Move PostgreSQL id sequences past the explicit ids."""
        if is_postgres():
            for model in (Enterprise, PenaltyRecord):
                table = model._meta.table_name
                db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))")


NULL = "\\N"


class CopyWriter(InsertWriter):
    """PostgreSQL COPY in blocks of rows through psycopg2's copy_expert."""

    BLOCK = 200_000

    def write(self, model, fields, rows):
        """COPY tuples into the model's table; return the count."""
        cursor = db.connection().cursor()
        columns = ", ".join(f'"{model._meta.columns[f].column_name}"' for f in fields)
        sql = f"COPY \"{model._meta.table_name}\" ({columns}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
        count, buffer = 0, io.StringIO()
        out = csv.writer(buffer)
        for row in rows:
            out.writerow([NULL if v is None else v for v in row])
            count += 1
            if count % self.BLOCK == 0:
                self._send(cursor, sql, buffer)
                buffer = io.StringIO()
                out = csv.writer(buffer)
                print(f"  {model._meta.table_name}: {count}", file=sys.stderr)
        self._send(cursor, sql, buffer)
        return count

    @staticmethod
    def _send(cursor, sql, buffer):
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
