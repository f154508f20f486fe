"""The `flask` command line (docs/CONTRACT.md §4): operator entry points, one module per concern."""

import click

from config import ConfigError, require_settings


def require_production_settings(config):
    """The commands that serve (worker, scheduler, menu push) refuse to start without production's settings."""
    try:
        require_settings(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
