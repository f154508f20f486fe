"""tests/data/national through all three doors (`flask import`, `POST /api/v1/records`, the staff upload), unedited:
every row's outcome as MANIFEST.md gives it, and the reports of the three enterprises under both rule sets.

Runs on SQLite and on PostgreSQL (TEST_DB). Reports are frozen for 2026-12-01 (the manifest's issue date) over
2025-01-01 – 2026-11-30: 「公示期满」 depends on the day.
"""

import datetime as dt
import importlib.util
import io
import json
import re
from pathlib import Path

import pytest
from test_staff import PASSWORD, login, post

from models.base import db
from models.policy import departments
from models.policy.ingestion.formats import open_binary, read_rows
from models.policy.report import rules, signing, snapshot
from models.policy.report.pdf import render_report_html
from models.policy.report.present import cn_date
from models.policy.report.qr import qr_png
from models.policy.report.summary import Notice
from models.policy.staff import create_staff
from models.tables.accounts import WechatUser
from models.tables.records import ImportBatch, PenaltyRecord, RejectedRow
from models.tables.registry import Department, Domain, Enterprise
from models.tables.reports import Report
from models.tables.requests import ReportRequest
from models.tables.schema import ALL_MODELS

HERE = Path(__file__).parent / "data" / "national"
ISSUED, AS_OF = dt.date(2026, 12, 1), "2026-11-30"
PERIOD = (dt.date(2025, 1, 1), dt.date(2026, 11, 30))
HEADER = {"number": "HH-20261201-000001", "issuer": "黑河市社会信用体系建设领导小组办公室（信用黑河）",
          "issued_at": "2026-12-01T09:00:00+08:00", "valid_until": "2026-12-31T09:00:00+08:00",
          "verify": {"url": "http://hegui.test/v/national", "lookup": "http://hegui.test/verify"}}
# (file, CLI kind, API kind, department) in the manifest's load order; the register first (核验 at import).
LOADS = [
    ("enterprises.csv", "enterprises", "enterprise", "credit_office"),
    ("market-penalties-national.csv", "records", "penalty", "market"),
    ("ecology-penalties-2016.csv", "records", "penalty", "ecology"),
    ("work-safety-penalties-edited.csv", "records", "penalty", "work_safety"),
    ("social-arrears-hrss.csv", "arrears", "social_arrears", "hrss"),
    ("social-arrears-tax.xlsx", "arrears", "social_arrears", "tax"),
    ("enforcement-market.csv", "enforcement", "enforcement", "market"),
    ("dishonest-list.xlsx", "dishonest-list", "dishonest_list", "credit_office"),
    ("criminal-judgments.csv", "criminal", "criminal", "court"),
]
UPLOAD_KIND = {"enterprise": "enterprise", "penalty": "penalty", "social_arrears": "arrears",
               "enforcement": "enforcement", "dishonest_list": "dishonest_list", "criminal": "criminal"}
A, B, C = "91231102MA1C4K7P5B", "92231102MA1H5L7M3U", "91231124MA1Q4F6G49"

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PROOF = {"digest": "d", "algorithm": "Ed25519", "key_id": "k", "sm2_key_id": "sm2-test"}
QR_PNG = qr_png("http://hegui.test/v/national")
NOTICE = Notice(contact="黑河市信用信息中心 0456-8220000", objection_days=5)


def _generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", HERE / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mf = _generator()


def expected(name):
    """(lines, summary, counts) a first load of `name` prints, from the generator's rows (MANIFEST.md)."""
    if name == "enterprises.csv":
        return [], "imported 15, updated 0, rejected 0", "held 0, skipped 0, unchanged 0"
    _headers, rows, first = mf.tables()[name]
    lines = []
    for number, row in enumerate(rows, start=first):
        outcome = row.outcome
        if outcome.startswith("held: "):
            lines.append(f"第{number}行 [待核验] {outcome[6:]}")
        elif outcome.startswith("skipped: "):
            lines.append(f"第{number}行 [已跳过] {outcome[9:]}")
        elif outcome.startswith("rejected ["):
            column, reason = re.match(r"rejected \[(.+?)\]: (.+)", outcome).groups()
            lines.append(f"第{number}行 [{column}] {reason}")
    summary, counts = re.match(r"`(.+)` then `(.+)`", mf.summary(rows)).groups()
    return lines, summary, counts


@pytest.fixture
def national(app):
    """The manifest's setup: `market` also sends 行政强制 (credit_office and court are seeded)."""
    departments.grant(Department.by_code("market"), "enforcement", Domain.by_code("market"))
    return app


# ---- the three doors --------------------------------------------------------------------------------------------

def load_cli(runner, name, kind, department):
    args = ["import", kind, str(HERE / name)]
    if kind != "enterprises":
        args += ["--department", department, "--as-of", AS_OF]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    return out[:-2], out[-2], out[-1]


def items_of(name):
    """The file's data rows as API items keyed by the header as the file spells it, cells as strings."""
    with open_binary(HERE / name) as binary:
        rows = list(read_rows(binary, name))
    header_at = next(i for i, (_n, values) in enumerate(rows) if any("统一社会信用代码" in str(v) for v in values))
    headers = rows[header_at][1]
    first = rows[header_at][0] + 1
    items = [{h: "" if v is None else str(v) for h, v in zip(headers, values, strict=False) if h}
             for _n, values in rows[header_at + 1:]]
    return items, first


def load_api(client, keys, name, kind, department):
    items, first = items_of(name)
    body = {"kind": kind, "items": items, **({"as_of": AS_OF} if kind != "enterprise" else {})}
    response = client.post("/api/v1/records", json=body, headers={"Authorization": f"Bearer {keys[department]}"})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    lines = [(first + e["index"], 0, f"第{first + e['index']}行 [{e['field']}] {e['reason']}") for e in data["errors"]]
    lines += [(first + h["index"], 1, f"第{first + h['index']}行 [待核验] {h['reason']}") for h in data["held_items"]]
    lines += [(first + s["index"], 2, f"第{first + s['index']}行 [已跳过] {s['reason']}")
              for s in data["skipped_items"]]
    return ([line for *_k, line in sorted(lines)],
            f"imported {data['imported']}, updated {data['updated']}, rejected {data['rejected']}",
            f"held {data['held']}, skipped {data['skipped']}, unchanged {data['unchanged']}")


def load_staff(client, drain, name, kind, department):
    form = {"kind": UPLOAD_KIND[kind], "department": department, "as_of": AS_OF,
            "file": (io.BytesIO((HERE / name).read_bytes()), name)}
    response = post(client, "/staff/upload", form, page="/staff/upload", content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert drain() == 0
    batch = ImportBatch.select().order_by(ImportBatch.id.desc()).get()
    assert batch.status == "done" and batch.upload_content() is None
    page = client.get(f"/staff/batches/{batch.id}").get_data(as_text=True)
    assert f"imported {batch.imported}, updated {batch.updated}, rejected {batch.rejected}" in page
    lines = [f"第{r.row_number}行 [{'待核验' if r.outcome == 'held' else r.column}] {r.reason}" for r in batch.lines()]
    for line in lines:
        assert line.split("] ", 1)[1] in page
    return (lines, f"imported {batch.imported}, updated {batch.updated}, rejected {batch.rejected}",
            f"held {batch.held}, skipped {batch.skipped}, unchanged {batch.unchanged}")


def without_skipped(lines):
    """The staff door keeps no line for a skipped row (not even its number): only the count."""
    return [line for line in lines if "[已跳过]" not in line]


@pytest.mark.parametrize("door", ["cli", "api", "staff"])
def test_every_row_does_what_the_manifest_says_through_each_door(national, runner, client, drain, door, caplog):
    keys = {code: departments.create_api_key(Department.by_code(code))
            for code in {d for *_x, d in LOADS}} if door == "api" else {}
    if door == "staff":
        create_staff("office-national", PASSWORD, "office")
        login(client, "office-national")
    for name, cli_kind, api_kind, department in LOADS:
        want_lines, want_summary, want_counts = expected(name)
        if door == "cli":
            got = load_cli(runner, name, cli_kind, department)
        elif door == "api":
            got = load_api(client, keys, name, api_kind, department)
        else:
            got = load_staff(client, drain, name, api_kind, department)
            want_lines = without_skipped(want_lines)
        assert got == (want_lines, want_summary, want_counts), name
    check_nothing_personal_stored()
    for value in [*mf.personal_ids(), *(mf.PEOPLE[k][0] for k in ("P1", "P2", "P3", "P4", "P5"))]:
        assert value not in caplog.text, value
    check_reports()


def test_loading_again_changes_nothing_and_the_xlsx_is_the_same_data(national, runner):
    for name, kind, _api, department in LOADS:
        load_cli(runner, name, kind, department)
    for name, kind, _api, department in LOADS:
        lines, summary, counts = load_cli(runner, name, kind, department)
        _lines, first, first_counts = expected(name)
        imported, rejected = re.match(r"imported (\d+), updated 0, rejected (\d+)", first).groups()
        held, skipped = re.match(r"held (\d+), skipped (\d+)", first_counts).groups()
        assert summary == f"imported 0, updated 0, rejected {rejected}", name
        assert counts == f"held {held}, skipped {skipped}, unchanged {imported}", name
    _lines, summary, counts = load_cli(runner, "market-penalties-national.xlsx", "records", "market")
    assert (summary, counts) == ("imported 0, updated 0, rejected 0", "held 4, skipped 2, unchanged 19")
    check_reports()


def test_the_xlsx_alone_loads_like_the_csv(national, runner):
    load_cli(runner, "enterprises.csv", "enterprises", None)
    lines, summary, counts = load_cli(runner, "market-penalties-national.xlsx", "records", "market")
    assert (lines, summary, counts) == expected("market-penalties-national.xlsx")
    stored = PenaltyRecord.get(PenaltyRecord.decision_no == "北市监罚〔2026〕15号")
    assert stored.category == "罚款；没收违法所得；没收非法财物；吊销许可证件"  # as sent: full-width ；
    assert stored.licence == "食品生产许可证（SC10623118100123）"
    assert "法定代表人证件号码" not in json.dumps(stored.raw, ensure_ascii=False)


# ---- what is stored ---------------------------------------------------------------------------------------------

def everything_stored():
    """Every value of every table as one text (JSON), for searching."""
    parts = []
    for model in ALL_MODELS:
        for row in model.select().dicts():
            parts.append(json.dumps(row, ensure_ascii=False, default=str))
    return "\n".join(parts)


def check_nothing_personal_stored():
    stored = everything_stored()
    for value in mf.personal_ids():
        assert value not in stored, value
    for key in ("P1", "P2", "P3", "P4", "P5"):
        assert mf.PEOPLE[key][0] not in stored, key
    listing = json.dumps(list(db.execute_sql('SELECT subject_name FROM "dishonest_listing"').fetchall()),
                         ensure_ascii=False)
    assert mf.PEOPLE["P6"][0] not in listing  # E13's representative listed in person: skipped
    edited = PenaltyRecord.get(PenaltyRecord.decision_no == "孙应急罚〔2026〕8号")
    assert edited.raw == {"内部案件编号": "AJ-SW-2026-0031"} and edited.source_unit == "黑河市应急管理局"
    assert PenaltyRecord.get(PenaltyRecord.decision_no == "北应急罚〔2026〕10号").raw == {"内部案件编号": ""}


# ---- the reports ------------------------------------------------------------------------------------------------

def freeze(code, version):
    enterprise = Enterprise.get(Enterprise.uscc == code)
    user = WechatUser.get_or_create(openid=f"o-national-{code}")[0]
    request = ReportRequest.create(
        user=user, enterprise=enterprise, msg_key=f"{code}-{version}-{ReportRequest.select().count()}",
        domains=[d.code for d in Domain.ordered()], period_start=PERIOD[0], period_end=PERIOD[1],
        purpose_category="金融", purpose="银行贷款")
    return snapshot.freeze(request, rules.get_rule_set(version), HEADER, today=ISSUED).data


def domain(data, name):
    return next(d for d in data["domains"] if d["name"] == name)


def section(data, kind):
    return next(s for s in data["sections"] if s["kind"] == kind)


def numbers(part):
    return [r["decision_no"] for r in part["records"]]


NOT_COLLECTED = "该领域数据未归集，本报告不能证明该主体在{}领域有无违法记录。"
ENFORCEMENT_ELSEWHERE = "其余15个领域的行政强制数据未归集或未覆盖完整报告期"


def check_reports():
    check_report_a()
    check_report_b()
    check_report_c()
    check_other_enterprises()


def check_report_a():
    heihe, ndrc = freeze(A, "heihe-2024"), freeze(A, "ndrc-2025")
    assert heihe["title"].startswith("市场主体专用信用报告") and ndrc["title"].startswith("经营主体专项信用报告")
    market = domain(heihe, "市场监管")
    assert market["statement"] == "报告期内，查见该主体在市场监管领域的违法记录2条。"
    assert numbers(market) == ["黑市监罚〔2025〕36号", "黑市监罚〔2026〕118号"]
    old, new = market["records"]
    assert (old["publicity_ended"], old["publicity_until"], old["fine_wan"], old["confiscated_wan"]) == (
        True, "2026-03-13", "1.2000", "0.3560")
    assert (new["publicity_ended"], new["publicity_until"], new["fine_wan"]) == (False, "2027-06-17", "5.0000")
    assert (new["severity"], new["severity_source"], new["procedure"]) == ("一般", "default", "普通程序")
    assert (new["authority_code"], new["source_unit"], new["subject_class"]) == (
        mf.agency_code("黑河市市场监督管理局"), "黑河市市场监督管理局", "法人及非法人组织")
    assert new["valid_until"] == "2099-12-31" and new["source_unit_code"] == mf.agency_code("黑河市市场监督管理局")
    assert domain(heihe, "生态环境")["statement"] == "报告期内，未查见该主体在生态环境领域的违法记录。"
    assert domain(heihe, "安全生产")["statement"] == NOT_COLLECTED.format("安全生产")
    social, fund = heihe["arrears"]
    assert social["statement"] == "报告期内，查见该主体社保欠缴记录2条，其中尚未结清1条。"
    assert [(i["period_start"], i["amount"], i["settled"], i["settled_on"], i["sources"]) for i in social["items"]] == [
        ("2025-06-01", "3920.00", True, "2025-07-20", ["国家税务总局黑河市税务局"]),
        ("2026-03-01", "18640.50", False, None, ["黑河市人力资源和社会保障局", "国家税务总局黑河市税务局"])]
    assert fund["statement"] == "公积金欠缴数据未归集，本报告不能证明该主体有无公积金欠缴。"
    assert "sections" not in heihe

    market = domain(ndrc, "市场监管")
    assert market["statement"] == "报告期内，查见该主体在市场监管领域的违法记录3条。"
    assert numbers(market) == ["黑市监罚〔2025〕36号", "黑市监简罚〔2026〕14号", "黑市监罚〔2026〕118号"]
    simple = market["records"][1]
    assert (simple["procedure"], simple["severity"], simple["publicity_until"], simple["publicity_ended"]) == (
        "简易程序", "轻微", "2026-05-10", True)
    enforcement = section(ndrc, "enforcement")
    assert [i["decision_no"] for i in enforcement["items"]] == ["黑市监强扣〔2025〕6号"]
    item = enforcement["items"][0]
    assert (item["category"], item["method"], item["target"], item["decided_on"], item["released_on"]) == (
        "行政强制措施", "扣押财物", "电热水壶32台", "2025-02-26", "2025-03-14")
    assert enforcement["statement"] == (f"报告期内，查见该主体行政强制记录1条；{ENFORCEMENT_ELSEWHERE}，"
                                        "此外的情况本报告不作说明。")
    assert section(ndrc, "dishonest_list")["statement"] == "报告期内，未查见该主体被列入严重失信主体名单。"
    assert section(ndrc, "criminal")["statement"] == "报告期内，未查见该主体单位犯罪刑事判决记录。"
    for data in (heihe, ndrc):
        text = json.dumps(data, ensure_ascii=False)
        assert "〔2024〕197号" not in text and "〔2025〕211号" not in text  # before the period; 不予行政处罚
    assert "黑市监简罚〔2026〕14号" not in json.dumps(heihe, ensure_ascii=False)
    check_rendered(ndrc, ["黑市监简罚〔2026〕14号", "公示期满", "2027-06-17", mf.agency_code("黑河市市场监督管理局"),
                          "黑河市人力资源和社会保障局、国家税务总局黑河市税务局", "黑市监强扣〔2025〕6号",
                          "电热水壶32台", "行政强制", "严重失信主体名单"],
                   absent=["〔2024〕197号", "〔2025〕211号"])
    check_rendered(heihe, ["黑市监罚〔2026〕118号", "公示期满"], absent=["黑市监简罚〔2026〕14号", "行政强制措施"])


def check_report_b():
    held = ("报告期内，该主体在市场监管领域有1条记录正在核验，核验完成前本报告不能证明该主体在市场监管领域的完整情况。")
    for version in ("heihe-2024", "ndrc-2025"):
        data = freeze(B, version)
        market = domain(data, "市场监管")
        assert (market["statement"], market["records"]) == (held, []), version
        assert domain(data, "生态环境")["statement"] == "报告期内，未查见该主体在生态环境领域的违法记录。"
        assert domain(data, "安全生产")["statement"] == NOT_COLLECTED.format("安全生产")
        assert data["arrears"][0]["statement"] == "报告期内，未查见该主体社保欠缴记录。"
        assert "黑市监简罚〔2026〕27号" not in json.dumps(data, ensure_ascii=False)
        assert "232601198602194288" not in json.dumps(data, ensure_ascii=False)
    ndrc = freeze(B, "ndrc-2025")
    assert section(ndrc, "enforcement")["statement"].startswith("报告期内，未查见该主体在市场监管领域的行政强制记录；")
    assert section(ndrc, "dishonest_list")["statement"] == "报告期内，未查见该主体被列入严重失信主体名单。"
    assert section(ndrc, "criminal")["statement"] == "报告期内，未查见该主体单位犯罪刑事判决记录。"


def check_report_c():
    heihe, ndrc = freeze(C, "heihe-2024"), freeze(C, "ndrc-2025")
    for data in (heihe, ndrc):
        safety = domain(data, "安全生产")
        assert safety["statement"] == ("报告期内，查见该主体在安全生产领域的违法记录1条；该领域数据未归集，"
                                       "此外的情况本报告不作说明。")
        assert numbers(safety) == ["孙应急罚〔2026〕8号"]
        record = safety["records"][0]
        assert (record["fine_wan"], record["authority"], record["source_unit"]) == (
            "3.0000", "孙吴县应急管理局", "黑河市应急管理局")
        assert domain(data, "市场监管")["statement"] == "报告期内，未查见该主体在市场监管领域的违法记录。"
        social = data["arrears"][0]
        assert social["statement"] == "报告期内，查见该主体社保欠缴记录1条，其中尚未结清0条。"
        assert [(i["amount"], i["settled_on"], i["sources"]) for i in social["items"]] == [
            ("42300.00", "2026-02-15", ["黑河市人力资源和社会保障局", "国家税务总局黑河市税务局"])]
        assert "孙应急罚〔2026〕11号" not in json.dumps(data, ensure_ascii=False)
    assert section(ndrc, "enforcement")["items"] == []
    listed = section(ndrc, "dishonest_list")
    assert [(i["list_name"], i["unit"], i["decision_no"], i["listed_on"], i["removed_on"])
            for i in listed["items"]] == [("拖欠农民工工资失信联合惩戒对象名单", "黑河市人力资源和社会保障局",
                                           "黑人社失惩〔2026〕2号", "2026-01-20", None)]
    judged = section(ndrc, "criminal")
    assert [(i["case_no"], i["cause"], i["court"], i["procedure"], i["judged_on"], i["effective_on"], i["fine_wan"])
            for i in judged["items"]] == [("（2026）黑1124刑初15号", "拒不支付劳动报酬罪", "孙吴县人民法院", "一审",
                                           "2026-04-28", "2026-05-12", "8.0000")]
    text = json.dumps(ndrc, ensure_ascii=False)
    assert mf.PEOPLE["P5"][0] not in text and "黑人社失惩〔2026〕3号" not in text


def check_other_enterprises():
    e04 = freeze(mf.S["E04"].code, "heihe-2024")
    [record] = domain(e04, "市场监管")["records"]
    assert (record["decision_no"], record["authority"], record["source_unit"], record["source_unit_code"]) == (
        "五市监罚〔2025〕19号", "五大连池市市场监督管理局", "五大连池市市场监督管理局", "11231182MB1E50272Y")
    assert record["publicity_ended"] and record["publicity_until"] == "2026-11-03"
    e14 = freeze(mf.S["E14"].code, "ndrc-2025")
    assert "正在核验" in domain(e14, "生态环境")["statement"]
    e15 = freeze(mf.S["E15"].code, "ndrc-2025")
    for name in ("市场监管", "生态环境"):
        assert domain(e15, name)["statement"] == f"报告期内，未查见该主体在{name}领域的违法记录。"
    e05 = freeze(mf.S["E05"].code, "heihe-2024")
    blank = next(r for r in domain(e05, "市场监管")["records"] if r["decision_no"] == "嫩市监罚〔2025〕33号")
    assert (blank["facts"], blank["basis"], blank["fine_wan"], blank["source_unit"]) == (
        "", "", None, "黑河市市场监督管理局")
    assert blank["publicity_ended"] and blank["publicity_until"] == "2026-04-16"
    assert "未提供" in render_report_html(e05, "CHECK12345", PROOF, QR_PNG, NOTICE)


def check_rendered(data, present, absent):
    """The PDF's HTML and the verify page (and its JSON) of a report holding `data` show `present`, never `absent`."""
    html = render_report_html(data, "CHECK12345", PROOF, QR_PNG, NOTICE)
    report = store_report(data)
    from flask import current_app

    client = current_app.test_client()
    page = client.get(f"/v/{report.token}").get_data(as_text=True)
    signed = client.get(f"/v/{report.token}/json").get_data(as_text=True)
    for text in present:
        shown = cn_date(text) if ISO_DATE.fullmatch(text) else text  # our own text writes dates one way: 2027年6月17日
        assert shown in html and shown in page, text
    for text in absent:
        assert text not in html and text not in page and text not in signed, text


def store_report(data):
    """A signed Report row holding `data`, as the pipeline stores one."""
    from flask import current_app

    app = current_app
    key = signing.load_private_key(app.config.get("SIGNING_KEY"), app.config["INSTANCE_PATH"], True)
    count = Report.select().count()
    token = f"national-token-{count}-{len(json.dumps(data))}"
    payload = signing.canonical_json({**data, "number": f"HH-20261201-{count + 1:06d}",
                                      "verify": {**data["verify"], "url": f"http://hegui.test/v/{token}"}})
    enterprise = Enterprise.get(Enterprise.uscc == data["enterprise"]["uscc"])
    request = ReportRequest.create(
        user=WechatUser.get_or_create(openid="o-national-store")[0], enterprise=enterprise, msg_key=token,
        domains=[d["code"] for d in data["domains"]], period_start=PERIOD[0], period_end=PERIOD[1],
        purpose_category="金融", purpose="银行贷款")
    now = dt.datetime(2026, 12, 1, 1, 0)
    return Report.create(request=request, enterprise=request.enterprise, number=f"HH-20261201-{count + 1:06d}",
                         check_code="CHECK12345", token=token, issued_at=now, valid_until=now + dt.timedelta(days=30),
                         rule_version=data["rule_set"]["version"], snapshot=payload.decode("utf-8"),
                         digest=signing.digest(payload), signature=signing.sign(key, payload), algorithm="Ed25519",
                         key_id=signing.key_id(key.public_key()))


def test_held_rows_are_listed_for_staff_and_released_with_the_procedure(national, runner, client):
    for name, kind, _api, department in LOADS[:2]:
        load_cli(runner, name, kind, department)
    create_staff("market-national", PASSWORD, "department", "market")
    login(client, "market-national")
    page = client.get("/staff/held").get_data(as_text=True)
    assert "对个体工商户罚款500元" in page and "统一社会信用代码未在企业名录中登记" in page
    record = PenaltyRecord.get(PenaltyRecord.decision_no == "黑市监简罚〔2026〕27号")
    refused = post(client, f"/staff/held/penalty/{record.id}/release", {}, page="/staff/held")
    assert refused.status_code == 303 and PenaltyRecord.get_by_id(record.id).review != "verified"
    post(client, f"/staff/held/penalty/{record.id}/release", {"procedure": "普通程序"}, page="/staff/held")
    record = PenaltyRecord.get_by_id(record.id)
    assert (record.review, record.procedure, record.holds) == ("verified", "普通程序", None)
    heihe = freeze(B, "heihe-2024")
    assert numbers(domain(heihe, "市场监管")) == ["黑市监简罚〔2026〕27号"]  # the statement follows the resolved record
    assert not RejectedRow.select().where(RejectedRow.reason.contains("232601")).exists()
