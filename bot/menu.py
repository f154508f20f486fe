"""The custom menu: the same actions as docs/CONTRACT.md §5's keywords. `flask menu push` publishes MENU."""

KEY_BIND = "BIND"
KEY_APPLY = "REPORT_APPLY"
KEY_MY_REPORTS = "MY_REPORTS"
KEY_OBJECTION = "OBJECTION"
KEY_REPAIR = "REPAIR"
KEY_HELP = "HELP"

# CLICK key → the keyword it stands for.
KEY_TO_KEYWORD = {
    KEY_BIND: "绑定企业",
    KEY_APPLY: "申请报告",
    KEY_MY_REPORTS: "我的报告",
    KEY_OBJECTION: "异议申诉",
    KEY_REPAIR: "信用修复",
    KEY_HELP: "帮助",
}


def menu_definition(public_base_url):
    """The menu/create body: at most 3 buttons of at most 5 sub-buttons."""
    return {
        "button": [
            {"type": "click", "name": "申请报告", "key": KEY_APPLY},
            {
                "name": "我的企业",
                "sub_button": [
                    {"type": "click", "name": "绑定企业", "key": KEY_BIND},
                    {"type": "click", "name": "我的报告", "key": KEY_MY_REPORTS},
                ],
            },
            {
                "name": "服务",
                "sub_button": [
                    {"type": "click", "name": "异议申诉", "key": KEY_OBJECTION},
                    {"type": "click", "name": "信用修复", "key": KEY_REPAIR},
                    {"type": "click", "name": "帮助", "key": KEY_HELP},
                    {"type": "view", "name": "办事指南", "url": f"{public_base_url}/guide"},
                ],
            },
        ]
    }
