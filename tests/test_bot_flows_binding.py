"""bot/flows/binding.py: binding by SMS code or staff review, reviews after a mobile change, notices to the owners
already bound, switching and unbinding (the codes' limits: tests/test_bot_flows_codes.py)."""

import datetime as dt

import pytest
from sms_codes import last_code, sms_jobs

from models.base import utcnow
from models.tables.accounts import Binding, BindingReview, WechatUser
from models.tables.outbound import OutboundMessage
from models.tables.registry import Enterprise


@pytest.fixture
def owner(bot_chat):
    return bot_chat("o-bind-owner")


def test_bind_by_sms_code(owner, bot_enterprise, rt):
    enterprise = bot_enterprise(mobile="13812341234")
    assert "统一社会信用代码" in owner.say("绑定企业")
    reply = owner.say(enterprise.uscc.lower())
    assert "138****1234" in reply and "13812341234" not in reply
    assert sms_jobs(rt) == [("13812341234", sms_jobs(rt)[0][1])]
    code = last_code(rt)
    assert code not in rt.redis.hget(f"bot:bind:code:{owner.openid}:{enterprise.id}", "digest").decode()
    reply = owner.say(code)
    assert "绑定成功" in reply and enterprise.name in reply
    user = owner.user()
    assert user.active_enterprise_id == enterprise.id
    binding_row = Binding.get(Binding.user == user)
    assert binding_row.enterprise_id == enterprise.id and binding_row.method == "sms"
    assert rt.redis.get(f"bot:conv:{owner.openid}") is None


@pytest.mark.parametrize(
    "text, fragment",
    [("123", "应为18位"), ("91231100MA1B2C3D83", "校验"), ("9123110OMA1B2C3D82", "不合法")],
)
def test_invalid_uscc_is_asked_again_with_an_example(owner, text, fragment):
    owner.say("绑定企业")
    reply = owner.say(text)
    assert fragment in reply and "例如「91231100MA1B2C3D82」" in reply
    assert not Binding.select().exists()


def test_unknown_uscc(owner, rt):
    owner.say("绑定企业")
    reply = owner.say("91231100MA1B2C3D82")
    assert "未查到" in reply
    assert sms_jobs(rt) == []


def test_new_binding_is_told_to_the_owners_already_bound(bot_chat, bot_enterprise, rt):
    enterprise = bot_enterprise()
    first, second = bot_chat("o-first-owner"), bot_chat("o-second-owner")
    for chat in (first, second):
        chat.say("绑定企业")
        chat.say(enterprise.uscc)
        assert "绑定成功" in chat.say(last_code(rt))
    notices = list(OutboundMessage.select().where(OutboundMessage.kind == "notice"))
    assert [n.user_id for n in notices] == [first.user().id]
    assert enterprise.name in notices[0].payload["text"] and "新增一位绑定的微信用户" in notices[0].payload["text"]
    assert [j.args for j in rt.queue.jobs if j.func_name == "jobs.delivery.deliver"] == [(notices[0].id,)]


def test_back_from_the_code_step_asks_the_uscc_again(owner, bot_enterprise, rt):
    first, second = bot_enterprise(), bot_enterprise(mobile="13900001111")
    owner.say("绑定企业")
    owner.say(first.uscc)
    assert "统一社会信用代码" in owner.say("返回")
    assert "139****1111" in owner.say(second.uscc)
    owner.say(last_code(rt))
    assert owner.user().active_enterprise_id == second.id


def test_cancel_midway(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    assert "已取消「绑定企业」" in owner.say("取消")
    assert "已取消" not in owner.say(last_code(rt))
    assert not Binding.select().exists()


def test_several_enterprises_and_switching(owner, bot_enterprise, rt):
    first, second = bot_enterprise("甲公司"), bot_enterprise("乙公司")
    for enterprise in (first, second):
        owner.say("绑定企业")
        owner.say(enterprise.uscc)
        owner.say(last_code(rt))
    assert owner.user().active_enterprise_id == second.id
    reply = owner.say("切换企业")
    assert "1. 乙公司（当前）" in reply and "2. 甲公司" in reply
    assert "甲公司" in owner.say("2")
    assert owner.user().active_enterprise_id == first.id


def test_binding_again_an_enterprise_already_bound(owner, bot_enterprise, rt):
    enterprise = bot_enterprise()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    owner.say(last_code(rt))
    owner.say("绑定企业")
    assert "已绑定" in owner.say(enterprise.uscc)
    assert len(sms_jobs(rt)) == 1


def test_unbind_with_confirmation_and_bind_again(owner, bot_enterprise, rt):
    first, second = bot_enterprise("甲公司"), bot_enterprise("乙公司")
    for enterprise in (first, second):
        owner.say("绑定企业")
        owner.say(enterprise.uscc)
        owner.say(last_code(rt))
    owner.say("解绑")
    reply = owner.say("1")
    assert "1. 企业：乙公司" in reply and "确认" in reply
    assert "已解绑「乙公司」" in owner.say("确认")
    user = owner.user()
    assert user.active_enterprise_id == first.id
    assert Binding.get((Binding.user == user) & (Binding.enterprise == second)).revoked_at is not None
    owner.say("绑定企业")
    owner.say(second.uscc)
    owner.say(last_code(rt))
    assert Binding.get((Binding.user == user) & (Binding.enterprise == second)).revoked_at is None


def test_unbind_single_enterprise(owner, bot_enterprise, rt):
    enterprise = bot_enterprise("丙公司")
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    owner.say(last_code(rt))
    assert "企业：丙公司" in owner.say("解绑")
    owner.say("确认")
    assert owner.user().active_enterprise_id is None
    assert "需要先绑定企业" in owner.say("申请报告")


def test_no_usable_mobile_leads_to_staff_review(owner, bot_enterprise, rt):
    enterprise = bot_enterprise(mobile="0456-8221234")
    owner.say("绑定企业")
    reply = owner.say(enterprise.uscc)
    assert "人工审核" in reply and "营业执照" in reply
    assert "还没有收到照片" in owner.say("完成")
    assert "第 1 张" in owner.image("m-licence-1")
    assert "授权书" in owner.say("完成")
    owner.image("m-auth-1")
    owner.image("m-auth-2")
    reply = owner.say("完成")
    assert "1. 营业执照：1 张照片" in reply and "2. 授权书：2 张照片" in reply
    assert "已提交人工审核" in owner.say("确认")
    review = BindingReview.get()
    assert review.enterprise_id == enterprise.id and review.status == "submitted"
    assert review.media == [
        {"media_id": "m-licence-1", "kind": "licence"},
        {"media_id": "m-auth-1", "kind": "authorisation"},
        {"media_id": "m-auth-2", "kind": "authorisation"},
    ]
    assert [j.func_name for j in rt.queue.jobs] == ["jobs.media.fetch_binding_media"]
    assert not Binding.select().exists()
    assert sms_jobs(rt) == []


def test_second_review_for_the_same_enterprise_is_not_created(owner, bot_enterprise):
    enterprise = bot_enterprise(mobile="")
    for _ in range(2):
        owner.say("绑定企业")
        owner.say(enterprise.uscc)
        owner.image("m1")
        owner.say("完成")
        owner.image("m2")
        owner.say("完成")
        last = owner.say("确认")
    assert "正在审核中" in last
    assert BindingReview.select().count() == 1


def test_the_user_row_comes_from_the_webhook(owner):
    owner.say("帮助")  # bot_chat records the interaction as the webhook does, then hands the bot the user
    assert WechatUser.select().where(WechatUser.openid == owner.openid).count() == 1
    assert Enterprise.select().count() == 0


def test_a_code_sent_on_its_own_starts_the_binding(owner, bot_enterprise, rt):
    enterprise = bot_enterprise(mobile="13812341234")
    reply = owner.say(f" {enterprise.uscc} ")
    assert "138****1234" in reply and len(sms_jobs(rt)) == 1
    assert "绑定成功" in owner.say(last_code(rt))


def test_a_mistyped_code_on_its_own_gets_the_reason(owner):
    reply = owner.say("91231100MA1B2C3D83")
    assert "校验" in reply
    assert "统一社会信用代码" in owner.say("绑定企业")  # still a normal start afterwards


def test_binding_after_the_registered_mobile_changed_goes_to_staff_review(owner, bot_enterprise, rt):
    enterprise = bot_enterprise(mobile="13812341234")
    enterprise.mobile_changed_at = utcnow() - dt.timedelta(days=3)
    enterprise.save()
    owner.say("绑定企业")
    assert "验证码已发送" in owner.say(enterprise.uscc)
    reply = owner.say(last_code(rt))
    assert "人工审核" in reply and "绑定成功" not in reply
    assert not Binding.select().exists()
    review = BindingReview.get(BindingReview.enterprise == enterprise)
    assert (review.trigger, review.status, review.user_id) == ("mobile_changed", "submitted", owner.user().id)


def test_a_change_long_ago_no_longer_holds_the_binding(owner, bot_enterprise, rt):
    enterprise = bot_enterprise(mobile="13812341234")
    enterprise.mobile_changed_at = utcnow() - dt.timedelta(days=91)
    enterprise.save()
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    assert "绑定成功" in owner.say(last_code(rt))


def test_unbind_and_switch_happen_once_per_message(owner, bot_enterprise, rt):
    first, second = bot_enterprise(), bot_enterprise()
    for enterprise in (first, second):
        owner.say("绑定企业")
        owner.say(enterprise.uscc)
        owner.say(last_code(rt))
    owner.say("切换企业")  # listed with the active one (the last bound) first
    assert first.name in owner.say("2", msg_key="m-switch")
    assert owner.user().active_enterprise_id == first.id
    owner.say("切换企业")
    owner.say("2")
    assert owner.user().active_enterprise_id == second.id
    owner.say("切换企业")
    assert first.name in owner.say("2", msg_key="m-switch")  # the old message again: its first reply, no effect
    assert owner.user().active_enterprise_id == second.id
    owner.say("解绑")
    owner.say("1")
    owner.say("确认", msg_key="m-unbind")
    assert Binding.select().where(Binding.revoked_at.is_null()).count() == 1
    Binding.update(revoked_at=None).execute()
    owner.say("解绑")
    owner.say("1")
    owner.say("确认", msg_key="m-unbind")
    assert Binding.select().where(Binding.revoked_at.is_null()).count() == 2
