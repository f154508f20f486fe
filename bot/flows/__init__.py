"""The conversations the bot can hold, by the name kept in the state. Each declares its keywords, menu key and help
line (bot/flows/base.py `Flow`); bot/catalogue.py derives the keyword table, menu and help from them."""

from bot.flows.apply import ApplyFlow
from bot.flows.binding import BindFlow, BindReviewFlow, SwitchFlow, UnbindFlow
from bot.flows.cases import ObjectionFlow, RepairFlow
from bot.flows.my_reports import MyReportsFlow

# In the order 「帮助」 and the guide list them.
FLOWS = {
    flow.name: flow
    for flow in (
        BindFlow(), ApplyFlow(), MyReportsFlow(), ObjectionFlow(), RepairFlow(), SwitchFlow(), UnbindFlow(),
        BindReviewFlow(),
    )
}

# Whole messages that start a flow at any step (docs/CONTRACT.md §5, plus 切换企业 and 解绑), from the declarations.
KEYWORD_FLOWS = {word: flow.name for flow in FLOWS.values() for word in flow.keywords}
