"""The bot's whole-message commands in one list, derived from the flows' declarations (bot/flows/base.py `Flow`) and
the engine's own three (帮助, 取消, 重发二维码): the words the engine resolves, the custom menu's CLICK keys, the
lines of the help text and the guide's list all come from here (tests/test_bot_catalogue.py checks they agree).

A command's words work as whole messages (docs/CONTRACT.md §5): its keywords, its aliases (short forms, English),
and — outside a free-text answer — homophone typos and near misses of its keywords (申清报告, 信用报高, 异议申述).
"""

from dataclasses import dataclass

from bot import parse, writing
from bot.flows import FLOWS

HELP, CANCEL, RESEND_QR = "help", "cancel", "resend_qr"


@dataclass(frozen=True)
class Command:
    keyword: str  # the canonical whole message; the menu and the help show it
    action: str  # a flow's name, or HELP / CANCEL / RESEND_QR
    words: tuple  # every whole message that means it, lower-case
    menu_key: str | None = None
    help_line: str = ""


ENGINE_COMMANDS = (
    Command("重发二维码", RESEND_QR, ("重发二维码", "再发二维码", "补发二维码", "重新发送二维码", "二维码", "resend qr",
                                   "qr code"), None, "重新发送最近一份有效报告的二维码"),
    Command("帮助", HELP, ("帮助", "help", "菜单", "menu", "功能", "怎么用", "使用说明", "?", "帮忙", "帮我"), "HELP",
            "查看全部功能和常见问题"),
    Command("取消", CANCEL, ("取消", "cancel"), None, "结束正在办理的事项"),
)


def _flow_commands():
    for flow in FLOWS.values():
        if flow.keywords:
            words = tuple(w.lower() for w in (*flow.keywords, *flow.aliases))
            yield Command(flow.keywords[0], flow.name, words, flow.menu_key, flow.help_line)


COMMANDS = (*_flow_commands(), *ENGINE_COMMANDS)


def _keywords_of(command):
    """The keywords a typo may be of: a flow's declared keywords, an engine command's keyword."""
    flow = FLOWS.get(command.action)
    return flow.keywords if flow else (command.keyword,)


WORDS = {word: command for command in COMMANDS for word in command.words}
_KEYWORDS = {flow_word: command for command in COMMANDS for flow_word in _keywords_of(command)}
MENU_KEYWORDS = {command.menu_key: command.keyword for command in COMMANDS if command.menu_key}


def resolve(text, fuzzy=True):
    """The command a whole message stands for, or None; `fuzzy` also takes homophones and near misses."""
    word = parse.command_word(text)
    if word in WORDS:
        return WORDS[word]
    if not fuzzy:
        return None
    meant = writing.closest(word, list(_KEYWORDS))
    return _KEYWORDS[meant] if meant else None


def by_action(action):
    """The command of a flow's name or an engine action."""
    return next(command for command in COMMANDS if command.action == action)


def help_lines():
    """「关键词」what it does, one line per command that has a help line."""
    return [(command.keyword, command.help_line) for command in COMMANDS if command.help_line]
