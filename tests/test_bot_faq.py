"""bot/faq.py and bot/faq.toml: every common question is found by its own title and answered with the settings."""

import pytest

from bot import faq, texts
from bot.domains import DomainInfo
from models.tables.schema import DOMAINS as SEED_DOMAINS

DOMAINS = [DomainInfo(code, name, tuple(aliases.split(","))) for code, name, aliases in SEED_DOMAINS]
CONFIG = {"REPORT_VALID_DAYS": 45, "REPORT_ISSUER": "某市信用办", "GUIDE_CONTACT": "电话 0456-1234567",
          "PUBLIC_BASE_URL": "https://hegui.example", "RULE_SET": "ndrc-2025"}


def test_ids_are_unique_and_actions_known():
    ids = [q.id for q in texts.FAQ]
    assert len(ids) == len(set(ids))
    assert {q.action for q in texts.FAQ} <= {"", "resend_qr", "greeting"}
    assert all(q.answer for q in texts.FAQ if not q.action)


@pytest.mark.parametrize("question", texts.FAQ, ids=lambda q: q.id)
def test_each_question_is_found_by_its_title(question):
    assert faq.match(question.title).id == question.id


@pytest.mark.parametrize("question", [q for q in texts.FAQ if not q.action], ids=lambda q: q.id)
def test_each_answer_renders_with_the_settings(question):
    answer = faq.render(question, CONFIG, DOMAINS)
    assert "{" not in answer and "}" not in answer


def test_answers_follow_the_settings_and_the_rule_set_in_force():
    assert "45 天内有效" in faq.render(faq.by_id("validity"), CONFIG, DOMAINS)
    human = faq.render(faq.by_id("human"), CONFIG, DOMAINS)
    assert "某市信用办" in human and "0456-1234567" in human and "https://hegui.example/guide" in human
    counting = faq.render(faq.by_id("counting"), CONFIG, DOMAINS)
    assert "发改财金〔2025〕565号" in counting and "含依简易程序作出的" in counting
    assert "16 个领域" in faq.render(faq.by_id("domains"), CONFIG, DOMAINS)


@pytest.mark.parametrize(
    "text, question",
    [("報告有效期多久", "validity"), ("How long is it valid", "validity"), ("转人工", "human"), ("要钱吗", "fees"),
     ("二维码找不到了", "lost_qr"), ("在吗？", "greeting"), ("thank you", "thanks"), ("个人能开吗", "personal")],
)
def test_questions_as_people_ask_them(text, question):
    assert faq.match(text).id == question


def test_not_every_message_is_a_question():
    assert faq.match("近三年全部领域，用于银行贷款") is None and faq.match("91231100MA1B2C3D82") is None
