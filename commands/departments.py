"""`flask department add CODE NAME --grant KIND[:DOMAIN] [--grant …] [--authority NAME …]`, `key CODE` (a new API
key, printed once), `revoke CODE`, `grant CODE KIND [DOMAIN]` (docs/CONTRACT.md §4)."""

import sys

import click

from models.policy import departments
from models.tables.registry import DATA_KINDS


def init_app(app):
    app.cli.add_command(department_group)


@click.group("department")
def department_group():
    """Data-providing departments: adding one, API keys and grants."""


def _department(code):
    department = departments.find_department(code)
    if department is None:
        click.echo(f"数据提供单位“{code}”不存在或已停用", err=True)
        sys.exit(1)
    return department


def _fail(message):
    click.echo(message, err=True)
    sys.exit(1)


@department_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--grant", "grants", multiple=True, required=True,
              help="KIND[:DOMAIN]: penalty:market, repair:market, enforcement:market, social_arrears, fund_arrears, "
                   "dishonest_list, criminal, enterprise")
@click.option("--authority", "authorities", multiple=True,
              help="另一个以本单位名义报送的机关（县市区局、分局、派出机构），可重复")
def add_command(code, name, grants, authorities):
    """Add department CODE (NAME) with what it may send; county bureaus and vertical units are departments too."""
    try:
        parsed = [departments.parse_grant(g) for g in grants]
        department = departments.add_department(code, name, parsed)
    except departments.DepartmentError as exc:
        _fail(exc.message)
    if authorities:
        department.set_authorities(authorities)
    click.echo(f"已添加{department.name}（{department.code}），可报送：" + "、".join(
        DATA_KINDS[kind] + (f"（{domain.name}）" if domain else "") for kind, domain in parsed))


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
    """Allow department CODE to write KIND (for DOMAIN, a domain code, for penalties, repairs and enforcement)."""
    department = _department(code)
    try:
        kind, target = departments.parse_grant(f"{kind}:{domain}" if domain else kind)
    except departments.DepartmentError as exc:
        _fail(exc.message)
    departments.grant(department, kind, target)
    click.echo(f"已授权{department.name}报送{DATA_KINDS[kind]}" + (f"（{target.name}）" if target else ""))

