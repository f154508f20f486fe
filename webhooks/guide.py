"""GET /guide: the published 办事指南 (what the report is, how to apply, check, object and repair)."""

from flask import Blueprint, current_app, render_template

from models.policy.report.rules import get_rule_set
from models.tables.registry import Domain
from webhooks import security

bp = Blueprint("guide", __name__)

# Free-text requests the bot understands, shown as examples.
REQUEST_EXAMPLES = [
    "申请近三年全部领域的报告，用于银行贷款",
    "要一份市场监管和消防安全的报告，近一年，参加招投标用",
    "社保、环保、住建，近两年，政府采购",
]


@bp.after_request
def _headers(response):
    return security.secure_headers(response, public=True)


@bp.get("/guide")
def guide():
    """The guide, with the active domains from the Domain table and the configured validity."""
    config = current_app.config
    return render_template(
        "guide.html",
        domains=list(Domain.ordered()),
        valid_days=config["REPORT_VALID_DAYS"],
        issuer=config["REPORT_ISSUER"],
        contact=config.get("GUIDE_CONTACT"),
        examples=REQUEST_EXAMPLES,
        rule_set=get_rule_set(config["RULE_SET"]),
    )
