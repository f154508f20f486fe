"""`flask domain add CODE NAME [--aliases A,B]` and `flask domain list` (docs/CONTRACT.md §4): domains are data.

A new domain takes the last place in the register's order; the bot's domain list and its 「全部领域」, the guide and
the reports follow at once. Its data arrive once a department is granted it (`flask department add … --grant
penalty:CODE`, or the staff console); until then every report over it says 数据未归集.
"""

import sys

import click

from models.tables.registry import Domain, DomainError


def init_app(app):
    app.cli.add_command(domain_group)


@click.group("domain")
def domain_group():
    """The domains (领域) of the register."""


@domain_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--aliases", default="", help="群众常说的简称，逗号分隔，如 市监,工商")
def add_command(code, name, aliases):
    """Add domain CODE (NAME) at the end of the order."""
    try:
        domain = Domain.add(code, name, aliases.replace("，", ",").split(","))
    except DomainError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(f"已添加领域{domain.position}：{domain.name}（{domain.code}）")


@domain_group.command("list")
def list_command():
    """Print the domains in their order: position, code, name, aliases."""
    for domain in Domain.ordered(active_only=False):
        state = "" if domain.active else "（停用）"
        click.echo(f"{domain.position}\t{domain.code}\t{domain.name}{state}\t{','.join(domain.alias_list())}")
