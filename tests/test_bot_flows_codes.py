"""bot/flows/codes.py: binding codes, and limits per code, per account and per enterprise that cannot lock the real
owner out (the module's docstring has the design)."""

import pytest
from sms_codes import last_code, sms_jobs, wrong_code

from bot.flows import codes
from models.tables.accounts import Binding, BindingReview


@pytest.fixture
def owner(bot_chat):
    return bot_chat("o-code-owner")


def test_full_width_code_with_spaces_is_accepted(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    code = last_code(rt)
    full_width = " ".join(chr(ord(c) + 0xFEE0) for c in code)
    assert "绑定成功" in owner.say(full_width)


def test_wrong_code_then_right_one(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    assert "还可以再试 2 次" in owner.say(wrong_code(rt))
    assert "6位数字" in owner.say("12345")
    assert "绑定成功" in owner.say(last_code(rt))


def test_expired_code(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    code = last_code(rt)
    rt.redis.delete(f"bot:bind:code:{owner.openid}:{enterprise.id}")  # what Redis does after 5 minutes
    assert "已过期" in owner.say(code)
    assert "已重新发送" in owner.say("重发")
    assert len(sms_jobs(rt)) == 2
    assert "验证码不正确" in owner.say(code) or last_code(rt) == code
    assert "绑定成功" in owner.say(last_code(rt))


def test_code_expires_after_five_minutes(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    assert 290 < rt.redis.ttl(f"bot:bind:code:{owner.openid}:{enterprise.id}") <= 300


def test_three_wrong_guesses_void_the_code(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    code, wrong = last_code(rt), wrong_code(rt)
    owner.say(wrong)
    owner.say(wrong)
    assert "已失效" in owner.say(wrong)
    assert "已过期" in owner.say(code)  # the right code no longer works either
    assert "已重新发送" in owner.say("重发")
    assert "绑定成功" in owner.say(last_code(rt))


def test_one_account_guessing_across_enterprises_is_locked(bot_chat, bot_enterprise, rt):
    """The attack: one account tried 15 codes across three enterprises in a minute. Now the sixth wrong guess, on
    whichever enterprise, locks that account's verification for 30 minutes — for every enterprise."""
    attacker = bot_chat("o-guesser")
    targets = [bot_enterprise() for _ in range(3)]
    replies = []
    for enterprise in targets:
        attacker.say("绑定企业")
        attacker.say(enterprise.uscc)
        for _ in range(2):
            replies.append(attacker.say(wrong_code(rt)))
    assert "暂停验证30分钟" in replies[-1] and "暂停验证30分钟" not in "".join(replies[:-1])
    assert 1790 < rt.redis.ttl(f"bot:bind:account-lock:{attacker.openid}") <= 1800
    attacker.say("绑定企业")
    assert "暂停验证30分钟" in attacker.say(bot_enterprise().uscc)
    assert len(sms_jobs(rt)) == 3 and not Binding.select().exists()


def test_strangers_cannot_lock_the_owner_out(bot_chat, bot_enterprise, rt):
    """The attack: anyone could keep an enterprise locked with wrong guesses, or use up its codes. Wrong guesses
    now lock only the guessing account; the owner's code still works. And when strangers have used up the
    enterprise's codes, the owner is offered staff review instead of a refusal, and is bound once it is approved."""
    enterprise = bot_enterprise(mobile="13812341234")
    owner = bot_chat("o-real-owner")
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    owners_code = last_code(rt)
    for n in range(4):
        stranger = bot_chat(f"o-stranger-{n}")
        stranger.say("绑定企业")
        stranger.say(enterprise.uscc)
        for _ in range(3):
            stranger.say(wrong_code(rt))
    assert len(sms_jobs(rt)) == 5  # the enterprise's five codes of the hour are used
    assert "绑定成功" in owner.say(owners_code)

    late = bot_chat("o-real-owner-colleague")
    late.say("绑定企业")
    reply = late.say(enterprise.uscc)
    assert "已达上限" in reply and "人工审核" in reply and "营业执照" in reply
    assert len(sms_jobs(rt)) == 5
    late.image("m-licence")
    late.say("完成")
    late.image("m-auth")
    late.say("完成")
    assert "已提交人工审核" in late.say("确认")
    review = BindingReview.get(BindingReview.user == late.user())
    assert (review.enterprise_id, review.status) == (enterprise.id, "submitted")


def test_codes_per_hour_are_limited(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    owner.say("重发")
    owner.say("重发")
    assert "已达上限" in owner.say("重发")
    assert len(sms_jobs(rt)) == 3


def test_someone_else_cannot_use_the_owners_code(owner, bot_enterprise, bot_chat, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    code = last_code(rt)
    intruder = bot_chat("o-intruder")
    intruder.say("绑定企业")
    intruder.say(enterprise.uscc)
    assert "验证码不正确" in intruder.say(code) or last_code(rt) == code
    assert not Binding.select().where(Binding.user == intruder.user()).exists()


@pytest.mark.parametrize(
    "raw, expected",
    [("13812341234", "13812341234"), ("+86 138-1234-1234", "13812341234"), ("0456-8221234", None), ("", None)],
)
def test_usable_mobile(raw, expected):
    assert codes.usable_mobile(raw) == expected


def test_a_repeated_message_sends_no_second_code_even_after_a_redis_flush(owner, bot_enterprise, rt):
    enterprise = bot_enterprise(mobile="13812341234")
    owner.say("绑定企业")
    first = owner.say(enterprise.uscc, msg_key="m-uscc-1")
    rt.redis.delete(*rt.redis.keys("bot:conv*"))  # the conversation is lost; the message comes again
    owner.say("绑定企业")
    again = owner.say(enterprise.uscc, msg_key="m-uscc-1")
    assert "138****1234" in first and "138****1234" in again
    assert len(sms_jobs(rt)) == 1
