"""`flask import enterprises|records|arrears|repairs FILE [--department CODE] [--as-of DATE]` (docs/CONTRACT.md §4).

stdout: one line per rejected row (`第N行 [列名] 原因`), then `imported N, updated N, rejected N`, then the counts of
held and unchanged rows. A file that cannot be read: one Chinese line on stderr, exit 1, nothing changed.
A progress bar goes to stderr only when stderr is a terminal.
"""

import sys
from pathlib import Path

import click
from tqdm import tqdm

from jobs.delivery import enqueue_rows
from models.policy.ingestion.formats import CellError, parse_date
from models.policy.ingestion.ingest import ARREARS, ENTERPRISE, UnreadableFile, import_file
from models.tables.registry import PENALTY, REPAIR


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
    """Import one file and print the per-row errors and the summary; exit 1 when it cannot be read."""
    if kind != ENTERPRISE and not department:
        click.echo("请用 --department 指定数据提供单位代码", err=True)
        sys.exit(2)
    bar = tqdm(file=sys.stderr, disable=not sys.stderr.isatty(), unit="行", desc=Path(path).name)
    try:
        result = import_file(path, Path(path).name, kind, department, source="cli", actor="cli",
                             as_of=_as_of(as_of), progress=lambda n: bar.update(n - bar.n))
    except UnreadableFile as exc:
        bar.close()
        click.echo(f"无法导入：{exc.message}", err=True)
        sys.exit(1)
    bar.close()
    enqueue_rows(result.outbound)
    for error in result.errors:
        click.echo(error.line())
    click.echo(result.summary())
    click.echo(f"held for review {result.held}, unchanged {result.unchanged}")


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


@import_group.command("records")
@FILE
@DEPARTMENT
@AS_OF
def import_records(path, department, as_of):
    """行政处罚记录 (docs/CONTRACT.md §4 columns, optional 操作: 新增/更正/撤销)."""
    _run(path, PENALTY, department, as_of)


@import_group.command("arrears")
@FILE
@DEPARTMENT
@AS_OF
def import_arrears(path, department, as_of):
    """社保/公积金欠缴记录."""
    _run(path, ARREARS, department, as_of)


@import_group.command("repairs")
@FILE
@DEPARTMENT
@AS_OF
def import_repairs(path, department, as_of):
    """信用修复记录."""
    _run(path, REPAIR, department, as_of)
