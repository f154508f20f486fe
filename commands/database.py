"""`flask init-db`: create or upgrade the schema, seed domains and departments; safe to run again."""

import click

from models.tables.schema import seed, upgrade


def init_app(app):
    app.cli.add_command(init_db_command)


@click.command("init-db")
def init_db_command():
    """Create or upgrade the schema and seed domains and departments."""
    applied = upgrade()
    seed()
    if applied:
        click.echo("applied migrations: " + ", ".join(str(v) for v in applied))
    click.echo("数据库已就绪（database ready）")
