"""The conversations the bot can hold, by the name kept in the state and the keyword that starts them."""

from bot.flows.binding import BindFlow, BindReviewFlow, SwitchFlow, UnbindFlow
from bot.flows.cases import ObjectionFlow, RepairFlow
from bot.flows.reports import ApplyFlow, MyReportsFlow

FLOWS = {
    flow.name: flow
    for flow in (
        BindFlow(), BindReviewFlow(), SwitchFlow(), UnbindFlow(), ApplyFlow(), MyReportsFlow(), ObjectionFlow(),
        RepairFlow(),
    )
}

# Whole messages that start a flow at any step (docs/CONTRACT.md §5, plus 切换企业 and 解绑).
KEYWORD_FLOWS = {
    "绑定企业": "bind",
    "申请报告": "apply",
    "我的报告": "my_reports",
    "异议申诉": "objection",
    "信用修复": "repair",
    "切换企业": "switch",
    "解绑": "unbind",
    "解绑企业": "unbind",
}
