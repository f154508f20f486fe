"""`flask holidays load FILE`: load the national holiday calendar (rest days and 调休 workdays) from a CSV."""

from pathlib import Path

import click

from models.policy.workdays import CalendarError, load_calendar, parse_calendar


def init_app(app):
    app.cli.add_command(holidays)


@click.group("holidays")
def holidays():
    """The holiday calendar used for working-day deadlines."""


@holidays.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_command(path):
    """Load FILE (CSV: date,name,workday — workday 1 for a 调休 working weekend day); existing days are updated."""
    try:
        rows = parse_calendar(path.read_text(encoding="utf-8"))
    except (CalendarError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"无法读取日历文件：{getattr(exc, 'message', exc)}") from exc
    added, changed = load_calendar(rows)
    click.echo(f"节假日日历已载入：新增 {added} 天，更新 {changed} 天（loaded {len(rows)} rows）")
