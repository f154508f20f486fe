"""The custom menu: the same actions as docs/CONTRACT.md §5's keywords. `flask menu push` publishes MENU.

The keys and button names come from the flows' declarations (bot/catalogue.py); only the layout is kept here.
"""

from bot.catalogue import MENU_KEYWORDS, by_action

KEY_BIND = by_action("bind").menu_key
KEY_APPLY = by_action("apply").menu_key
KEY_MY_REPORTS = by_action("my_reports").menu_key
KEY_OBJECTION = by_action("objection").menu_key
KEY_REPAIR = by_action("repair").menu_key
KEY_HELP = by_action("help").menu_key

# CLICK key → the keyword it stands for.
KEY_TO_KEYWORD = dict(MENU_KEYWORDS)

# At most 3 buttons of at most 5 sub-buttons; a key stands for its command's button.
LAYOUT = (
    KEY_APPLY,
    ("我的企业", (KEY_BIND, KEY_MY_REPORTS)),
    ("服务", (KEY_OBJECTION, KEY_REPAIR, KEY_HELP, "guide")),
)
GUIDE_BUTTON = "办事指南"


def _button(key, public_base_url):
    if key == "guide":
        return {"type": "view", "name": GUIDE_BUTTON, "url": f"{public_base_url}/guide"}
    return {"type": "click", "name": KEY_TO_KEYWORD[key], "key": key}


def menu_definition(public_base_url):
    """The menu/create body."""
    buttons = []
    for entry in LAYOUT:
        if isinstance(entry, str):
            buttons.append(_button(entry, public_base_url))
        else:
            name, keys = entry
            buttons.append({"name": name, "sub_button": [_button(key, public_base_url) for key in keys]})
    return {"button": buttons}


def menu_keys():
    """Every CLICK key the layout offers."""
    keys = []
    for entry in LAYOUT:
        keys += [entry] if isinstance(entry, str) else [k for k in entry[1] if k != "guide"]
    return keys
