"""`flask demo-data`: a realistic synthetic 黑河 data set (work in progress)."""

import click


def init_app(app):
    app.cli.add_command(demo_data_command)


@click.command("demo-data")
def demo_data_command():
    """Fill an empty database with a synthetic 黑河 data set."""
    click.echo("demo data: not yet available")
