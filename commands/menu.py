"""`flask menu push`: publish bot.menu's custom menu through the WeChat gateway."""

from urllib.parse import urlsplit

import click
import requests
from flask import current_app
from flask.cli import AppGroup

from bot.menu import menu_definition
from commands import require_production_settings
from config import is_loopback
from jobs.gateways.wechat import WeChatAPI, WeChatAPIError

menu_cli = AppGroup("menu", help="The official account's custom menu.")


def init_app(app):
    app.cli.add_command(menu_cli)


@menu_cli.command("push")
def push_command():
    """Publish the custom menu (CLICK keys from bot/menu.py, links on PUBLIC_BASE_URL)."""
    require_production_settings(current_app.config)
    base = current_app.config["PUBLIC_BASE_URL"]
    parts = urlsplit(base)
    if not current_app.config["DEV_MODE"] and (parts.scheme != "https" or is_loopback(parts.hostname)):
        # The menu's links open on the owners' phones: a loopback or plain-http origin would be published to all.
        raise click.ClickException(f"菜单未发布：PUBLIC_BASE_URL 须为公网 https 地址（menu push needs a public https "
                                   f"PUBLIC_BASE_URL, not {base!r}）")
    body = menu_definition(base)
    try:
        WeChatAPI.from_runtime(current_app.extensions["hegui"]).create_menu(body)
    except WeChatAPIError as exc:
        raise click.ClickException(f"菜单发布失败（menu push failed）: errcode {exc.errcode} {exc.errmsg}") from exc
    except requests.RequestException as exc:
        raise click.ClickException(f"无法连接微信接口（cannot reach the WeChat API）: {exc}") from exc
    names = [b["name"] for b in body["button"]]
    click.echo(f"自定义菜单已发布（menu published）: {len(names)} buttons: {' | '.join(names)}")
