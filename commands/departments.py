"""`flask department key CODE` (a new API key, printed once), `revoke CODE`, `grant CODE KIND [DOMAIN]`."""

import sys

import click

from models.policy import departments
from models.tables.registry import DATA_KINDS, Domain


def init_app(app):
    app.cli.add_command(department_group)


@click.group("department")
def department_group():
    """Data-providing departments: API keys and grants."""


def _department(code):
    department = departments.find_department(code)
    if department is None:
        click.echo(f"数据提供单位“{code}”不存在或已停用", err=True)
        sys.exit(1)
    return department


@department_group.command("key")
@click.argument("code")
def key_command(code):
    """Create a new API key for department CODE and print it once."""
    department = _department(code)
    plaintext = departments.create_api_key(department)
    click.echo(f"{department.name}的接口密钥（只显示这一次，请妥善保存）：", err=True)
    click.echo(plaintext)


@department_group.command("revoke")
@click.argument("code")
def revoke_command(code):
    """Revoke every API key of department CODE."""
    count = departments.revoke_api_keys(_department(code))
    click.echo(f"已吊销{count}个密钥")


@department_group.command("grant")
@click.argument("code")
@click.argument("kind", type=click.Choice(sorted(DATA_KINDS)))
@click.argument("domain", required=False)
def grant_command(code, kind, domain):
    """Allow department CODE to write KIND (for DOMAIN, a domain code, for penalties and repairs)."""
    department = _department(code)
    target = Domain.get_or_none(Domain.code == domain) if domain else None
    if domain and target is None:
        click.echo(f"领域“{domain}”不存在", err=True)
        sys.exit(1)
    departments.grant(department, kind, target)
    click.echo(f"已授权{department.name}报送{DATA_KINDS[kind]}" + (f"（{target.name}）" if target else ""))
