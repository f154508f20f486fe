"""The FAQ (bot/faq.toml, loaded by bot/texts.py): which common question a message asks, and its answer with the
settings filled in (validity, contact, rule set in force, domains)."""

from bot import texts, writing
from bot.flows.codes import CODE_SECONDS, WRONG_PER_CODE
from models.policy.report.rules import get_rule_set


def match(text):
    """The first common question whose pattern the message matches, or None."""
    lowered = writing.readable(text).lower()
    for question in texts.FAQ:
        if any(pattern.search(lowered) for pattern in question.patterns):
            return question
    return None


def by_id(question_id):
    """The common question with this id."""
    return next(q for q in texts.FAQ if q.id == question_id)


def render(question, config, domains):
    """The answer's text with its placeholders filled from the configuration and the active domains."""
    rule_set = get_rule_set(config["RULE_SET"])
    return question.answer.format(
        valid_days=config["REPORT_VALID_DAYS"],
        issuer=config["REPORT_ISSUER"],
        contact=config["GUIDE_CONTACT"] or texts.CONTACT_NONE,
        guide=f"{config['PUBLIC_BASE_URL']}/guide",
        domain_count=len(domains),
        domain_names="、".join(d.name for d in domains),
        rule_title=rule_set.source,  # the text the rule set applies (its title is the report's)
        rule_note=rule_set.notes[0],
        code_minutes=CODE_SECONDS // 60,
        code_tries=WRONG_PER_CODE,
    )


def titles(limit=6):
    """How 「帮助」 lists the common questions (those answered by text)."""
    return [q.title for q in texts.FAQ if q.id not in ("thanks", "greeting")][:limit]
