"""`flask import …` through the CLI runner: per-row lines, the summary line, exit codes, encodings, --as-of."""

import datetime as dt

import pytest

from models.policy import departments
from models.policy.departments import authenticate
from models.policy.uscc import make_org_code, make_uscc
from models.tables.records import ArrearsRecord, CreditRepair, FeedStatus, PenaltyRecord
from models.tables.registry import Domain, Enterprise

HEADERS = ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
           "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关", "数据来源单位", "领域", "程序类型"]
CODE = make_uscc("91231181" + make_org_code("MA7B8C9D"))
NAME = "北安市宏达粮贸有限公司"


def row(number, **over):
    values = dict(zip(HEADERS, [NAME, CODE, f"北市监罚〔2025〕{number}号", "虚假宣传", "事实", "依据", "罚款",
                                "罚款二万元", "2", "2025/6/1", "北安市市场监督管理局", "北安市市场监督管理局",
                                "市场监管", "普通程序"], strict=True))
    values.update(over)
    return [values[h] for h in HEADERS]


@pytest.fixture
def enterprise(app):
    return Enterprise.create(uscc=CODE, name=NAME, county="北安市")


@pytest.mark.parametrize("fmt", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_records_command_prints_rejections_and_summary(runner, enterprise, write_table, fmt):
    rows = [row(1), row(2, 处罚决定日期="2025-02-30"), row(3, 领域="生态环境"), row(4, 统一社会信用代码="123")]
    path = write_table("m." + ("xlsx" if fmt == "xlsx" else "csv"), HEADERS, rows, fmt)

    result = runner.invoke(args=["import", "records", str(path), "--department", "market", "--as-of", "2025年6月30日"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "第3行 [处罚决定日期] 日期2025-02-30不存在",
        "第4行 [领域] 本单位无权报送“生态环境”领域的数据",
        "第5行 [统一社会信用代码] 统一社会信用代码应为18位，实为3位",
    ]
    assert lines[3] == "imported 1, updated 0, rejected 3"
    assert lines[4] == "held 0, skipped 0, unchanged 0"
    assert PenaltyRecord.get().decided_on == dt.date(2025, 6, 1)


def test_as_of_sets_feed_status(runner, enterprise, write_table):
    path = write_table("ok.csv", HEADERS, [row(1)])
    result = runner.invoke(args=["import", "records", str(path), "--department", "market", "--as-of", "20250630"])
    assert result.stdout.splitlines()[0] == "imported 1, updated 0, rejected 0"
    market = Domain.get(Domain.code == "market")
    assert FeedStatus.get(FeedStatus.domain == market, FeedStatus.kind == "penalty").complete_until \
        == dt.date(2025, 6, 30)


@pytest.mark.parametrize("args, message", [
    (["--department", "nowhere"], "数据提供单位“nowhere”不存在或已停用"),
    (["--department", "housing_fund"], "无权报送行政处罚数据"),
    ([], "请用 --department 指定数据提供单位代码"),
])
def test_refused_before_reading(runner, enterprise, write_table, args, message):
    path = write_table("ok.csv", HEADERS, [row(1)])
    result = runner.invoke(args=["import", "records", str(path), *args])
    assert result.exit_code != 0
    assert message in result.stderr
    assert PenaltyRecord.select().count() == 0


def test_unreadable_file_exits_non_zero_with_one_line(runner, app, tmp_path):
    path = tmp_path / "records.csv"
    path.write_text("名称,代码\n甲,乙\n", encoding="utf-8")
    result = runner.invoke(args=["import", "records", str(path), "--department", "market"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "无法导入：表头缺少以下列：统一社会信用代码、行政处罚决定书文号、处罚决定日期、" \
        "处罚机关、处罚类别或处罚内容（请使用标准模板的表头）"
    assert "Traceback" not in result.output
    missing = runner.invoke(args=["import", "records", str(tmp_path / "none.csv"), "--department", "market"])
    assert missing.exit_code == 1 and "无法打开文件" in missing.stderr
    assert PenaltyRecord.select().count() == 0


def test_enterprises_arrears_and_repairs_commands(runner, app, write_table):
    ent = write_table("e.csv", ["企业名称", "统一社会信用代码", "法定代表人", "联系电话", "注册地址", "所属区县"],
                      [[NAME, CODE, "王五", "13845670000", "北安市铁西路1号", "北安市"]], "gb18030")
    assert runner.invoke(args=["import", "enterprises", str(ent)]).stdout.startswith("imported 1, updated 0")

    arrears = write_table("a.xlsx", ["单位名称", "统一社会信用代码", "欠缴类型", "欠缴起始月份", "欠缴截止月份",
                                     "欠缴金额（元）", "是否已补缴", "补缴日期"],
                          [[NAME, CODE, "公积金", dt.datetime(2025, 1, 1), "2025-03", 3600, "是", "2025-05-20"]],
                          "xlsx")
    out = runner.invoke(args=["import", "arrears", str(arrears), "--department", "housing_fund"])
    assert out.exit_code == 0 and out.stdout.startswith("imported 1, updated 0, rejected 0")
    assert ArrearsRecord.get().settled_on == dt.date(2025, 5, 20)

    records = write_table("r.csv", HEADERS, [row(1)])
    runner.invoke(args=["import", "records", str(records), "--department", "market"])
    repairs = write_table("p.csv", ["行政处罚决定书文号", "处罚机关", "修复决定文号", "修复日期", "备注"],
                          [["北市监罚〔2025〕1号", "北安市市场监督管理局", "北市监修〔2025〕1号", "2025-09-01", ""]])
    out = runner.invoke(args=["import", "repairs", str(repairs), "--department", "market"])
    assert out.stdout.startswith("imported 1, updated 0, rejected 0")
    assert CreditRepair.get().record.status == "repaired"


def test_department_key_command_prints_a_working_key(runner, app):
    result = runner.invoke(args=["department", "key", "ecology"])
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert authenticate(key).code == "ecology"
    assert runner.invoke(args=["department", "key", "nowhere"]).exit_code == 1
    assert runner.invoke(args=["department", "revoke", "ecology"]).exit_code == 0
    assert authenticate(key) is None


def test_the_register_is_loaded_for_the_credit_office_or_a_granted_department_only(runner, app, write_table):
    """`flask import enterprises` without --department is the operator acting for the credit office; a department
    needs an explicit `enterprise` grant (a 税务 account changing a mobile could take an enterprise over)."""
    path = write_table("e.csv", ["企业名称", "统一社会信用代码", "联系电话"], [[NAME, CODE, "13904561111"]])
    refused = runner.invoke(args=["import", "enterprises", str(path), "--department", "tax"])
    assert refused.exit_code == 1 and "无权报送企业名录" in refused.stderr
    assert not Enterprise.select().exists()
    assert runner.invoke(args=["import", "enterprises", str(path)]).stdout.startswith("imported 1, updated 0")
    departments.grant(departments.find_department("market"), "enterprise")
    path = write_table("e2.csv", ["企业名称", "统一社会信用代码", "联系电话"], [[NAME, CODE, "13904562222"]])
    granted = runner.invoke(args=["import", "enterprises", str(path), "--department", "market"])
    assert granted.stdout.startswith("imported 0, updated 1")
    assert Enterprise.get(Enterprise.uscc == CODE).mobile == "13904562222"


def test_the_cli_applies_the_xlsx_limits(runner, app, tmp_path):
    import io
    import zipfile

    app.config["IMPORT_XLSX_MAX_INFLATED_MB"] = 1
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "A" * (3 << 20))
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(raw.getvalue())
    result = runner.invoke(args=["import", "records", str(path), "--department", "market"])
    assert result.exit_code == 1 and "解压后超过1MB" in result.stderr
    assert PenaltyRecord.select().count() == 0


def test_the_new_kinds_have_their_commands(runner, app):
    for command in ("enforcement", "dishonest-list", "criminal"):
        result = runner.invoke(args=["import", command, "--help"])
        assert result.exit_code == 0 and "--department" in result.stdout
