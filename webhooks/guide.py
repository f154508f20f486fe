"""GET /guide: the published 办事指南 (what the report is, how to apply, check, object and repair)."""

from flask import Blueprint, current_app, render_template

from bot import catalogue, texts
from models.policy.report.rules import get_rule_set
from models.tables.registry import Domain
from webhooks import security

bp = Blueprint("guide", __name__)


@bp.after_request
def _headers(response):
    return security.secure_headers(response, public=True)


@bp.get("/guide")
def guide():
    """The guide, with the active domains from the Domain table, the configured validity, and the bot's keywords as the
    flows declare them (bot/catalogue.py)."""
    config = current_app.config
    return render_template(
        "guide.html",
        domains=list(Domain.ordered()),
        valid_days=config["REPORT_VALID_DAYS"],
        issuer=config["REPORT_ISSUER"],
        contact=config["GUIDE_CONTACT"],
        examples=texts.REQUEST_EXAMPLES,
        keywords=catalogue.help_lines(),
        rule_set=get_rule_set(config["RULE_SET"]),
    )
