"""`flask staff create USERNAME --role office|department [--department CODE] [--if-missing]`: a staff account for
the console; `flask staff deactivate USERNAME`: disable one, ending its sessions at once.

The password is asked for twice on a terminal, or read from the first line of stdin otherwise (scripts).
`--if-missing` leaves an existing account as it is (devtools/dev.sh makes its demo accounts so, run after run).
"""

import sys

import click

from models.policy.staff import ROLES, StaffError, create_staff, deactivate_staff
from models.tables.accounts import StaffUser


def init_app(app):
    app.cli.add_command(staff_group)


@click.group("staff")
def staff_group():
    """Staff accounts of the console /staff/."""


def _password():
    if sys.stdin.isatty():
        return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    return sys.stdin.readline().rstrip("\r\n")


@staff_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True, help="office（信用办）或 department（部门）")
@click.option("--department", "department", default=None, help="部门代码（role=department 时必填）")
@click.option("--if-missing", is_flag=True, help="账号已存在时不作改动（不报错）")
def create_command(username, role, department, if_missing):
    """Create a staff account with a hashed password."""
    if if_missing and StaffUser.by_username(username.strip()) is not None:
        click.echo(f"工作人员账号 {username.strip()} 已存在，未作改动")
        return
    try:
        staff = create_staff(username, _password(), role, department)
    except StaffError as exc:
        raise click.ClickException(exc.message) from exc
    where = f"，部门 {staff.department.name}" if staff.department else ""
    click.echo(f"已创建工作人员账号 {staff.username}（{ROLES[staff.role]}{where}）")


@staff_group.command("deactivate")
@click.argument("username")
def deactivate_command(username):
    """Disable a staff account; its open sessions end at once."""
    try:
        ended = deactivate_staff(username)
    except StaffError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"已停用工作人员账号 {username}，结束会话 {ended} 个")
