"""`flask import enterprises|records|arrears|repairs|enforcement|dishonest-list|criminal FILE [--department CODE]
[--as-of DATE]` (docs/CONTRACT.md §4).

stdout: one line per rejected, held or skipped row in row order (`第N行 [列名] 原因`, `第N行 [待核验] 原因`,
`第N行 [已跳过] 原因`), then `imported N, updated N, rejected N`, then `held N, skipped N, unchanged N`. A file that
cannot be read: one Chinese line on stderr, exit 1, nothing changed. The XLSX limits of the settings apply (inflated
size, shared strings). A progress bar goes to stderr only when stderr is a terminal.
"""

import sys
from pathlib import Path

import click
from flask import current_app
from tqdm import tqdm

from jobs.delivery import enqueue_rows
from models.policy.ingestion.formats import CellError, ReadLimits, parse_date
from models.policy.ingestion.ingest import ARREARS, ENTERPRISE, UnreadableFile, import_file
from models.tables.registry import CRIMINAL, DISHONEST_LIST, ENFORCEMENT, PENALTY, REPAIR


def init_app(app):
    app.cli.add_command(import_group)


@click.group("import")
def import_group():
    """Load a department's CSV or XLSX file."""


def _as_of(value):
    if not value:
        return None
    try:
        return parse_date(value)
    except CellError as exc:
        raise click.BadParameter(f"数据截至日期无法识别：{exc}") from None


def _run(path, kind, department, as_of):
    """Import one file and print its lines and the summary; exit 1 when it cannot be read."""
    if kind != ENTERPRISE and not department:
        click.echo("请用 --department 指定数据提供单位代码", err=True)
        sys.exit(2)
    bar = tqdm(file=sys.stderr, disable=not sys.stderr.isatty(), unit="行", desc=Path(path).name)
    try:
        result = import_file(path, Path(path).name, kind, department, source="cli", actor="cli",
                             as_of=_as_of(as_of), progress=lambda n: bar.update(n - bar.n),
                             limits=ReadLimits.from_config(current_app.config))
    except UnreadableFile as exc:
        bar.close()
        click.echo(f"无法导入：{exc.message}", err=True)
        sys.exit(1)
    bar.close()
    enqueue_rows(result.outbound)
    for line in result.lines():
        click.echo(line)
    click.echo(result.summary())
    click.echo(result.counts())


AS_OF = click.option("--as-of", "as_of", help="数据截至日期（默认：导入当天）")
DEPARTMENT = click.option("--department", "department", help="数据提供单位代码")
FILE = click.argument("path", type=click.Path(dir_okay=False))


@import_group.command("enterprises")
@FILE
@click.option("--department", "department", default=None,
              help="获授权报送企业名录的部门代码（不填：运维人员代信用办导入）")
def import_enterprises(path, department):
    """企业名录: 企业名称, 统一社会信用代码, 法定代表人, 联系电话, 注册地址, 所属区县.

    Without --department the operator acts for the credit office, the register's keeper."""
    _run(path, ENTERPRISE, department, None)


def _kind_command(name, kind, doc):
    """One `flask import NAME FILE --department CODE [--as-of DATE]` command for data `kind`."""

    @import_group.command(name, help=doc)
    @FILE
    @DEPARTMENT
    @AS_OF
    def command(path, department, as_of):
        _run(path, kind, department, as_of)

    return command


import_records = _kind_command(
    "records", PENALTY, "行政处罚记录: the national 双公示 layout (current or 2016) or our own columns "
    "(docs/CONTRACT.md §4), optional 领域, 程序类型, 失信程度, 操作 (新增/更正/撤销).")
import_arrears = _kind_command("arrears", ARREARS, "社保/公积金欠缴记录.")
import_repairs = _kind_command("repairs", REPAIR, "信用修复记录 (the department's own 修复决定).")
import_enforcement = _kind_command("enforcement", ENFORCEMENT, "行政强制 (强制措施 and 强制执行 decisions).")
import_dishonest = _kind_command("dishonest-list", DISHONEST_LIST, "严重失信主体名单 (列入 and 移出).")
import_criminal = _kind_command("criminal", CRIMINAL, "刑事判决 of 单位犯罪 (court, case number, judgment date).")
