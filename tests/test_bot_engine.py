import datetime as dt

import pytest
from redis.exceptions import LockError

from bot import state
from bot.menu import KEY_APPLY, KEY_HELP, KEY_MY_REPORTS, KEY_TO_KEYWORD
from models.tables.accounts import Binding, WechatUser
from models.tables.cases import PendingNotice
from models.tables.records import PenaltyRecord
from models.tables.registry import Department, Domain
from models.tables.requests import ReportRequest


@pytest.fixture
def owner(bot_chat, bot_enterprise):
    chat = bot_chat("o-engine-owner")
    chat.enterprise = bot_enterprise("黑河市北辰商贸有限公司")
    Binding.create(user=chat.user(), enterprise=chat.enterprise)
    return chat


@pytest.fixture
def case_world_records(owner):
    """One verified penalty record of the owner's enterprise (something to object to)."""
    market = Domain.get(Domain.code == "market")
    return PenaltyRecord.create(
        subject_name=owner.enterprise.name, uscc=owner.enterprise.uscc, enterprise=owner.enterprise,
        decision_no="黑市监罚〔2025〕1号", violation_type="虚假宣传", category="罚款", content="罚款5000元",
        decided_on=dt.date(2025, 1, 5), authority="黑河市市场监督管理局", domain=market, procedure="普通程序",
        department=Department.get(Department.code == "market"))


def test_state_lives_thirty_minutes_and_its_lapsed_copy_a_day(owner, rt):
    owner.say("申请报告")
    assert 1790 < rt.redis.ttl(state.live_key(owner.openid)) <= 1800
    assert 86_000 < rt.redis.ttl(state.lapsed_key(owner.openid)) <= 86_400


def test_idle_expiry_tells_the_lapse_and_resumes(owner, rt):
    owner.say("申请报告")
    owner.say("全部")
    rt.redis.delete(state.live_key(owner.openid))  # what Redis does after 30 idle minutes
    reply = owner.say("好的")
    assert "「申请报告」已超过30分钟未操作" in reply and "继续" in reply
    assert "抱歉，没能理解" in owner.say("好的")  # said once; other messages are answered normally
    reply = owner.say("继续")
    assert "已恢复「申请报告」" in reply and "报告期间" in reply
    owner.say("近1年")
    summary = owner.say("银行贷款")
    assert "1. 领域：全部（16个领域）" in summary
    owner.say("确认")
    assert ReportRequest.select().count() == 1


def test_a_lapsed_application_takes_new_details(owner, rt):
    owner.say("申请报告")
    owner.say("全部")
    rt.redis.delete(state.live_key(owner.openid))
    reply = owner.say("近1年")
    assert reply.startswith("已恢复「申请报告」") and "用途" in reply
    assert "1. 领域：全部（16个领域）" in owner.say("银行贷款")


def test_cancel_after_a_lapse(owner, rt):
    owner.say("申请报告")
    rt.redis.delete(state.live_key(owner.openid))
    assert "已取消「申请报告」" in owner.say("取消")
    assert "没有可继续" in owner.say("继续")


def test_a_new_keyword_after_a_lapse_starts_afresh(owner, rt):
    owner.say("申请报告")
    rt.redis.delete(state.live_key(owner.openid))
    assert "统一社会信用代码" in owner.say("绑定企业")
    assert state.load_lapsed(rt.redis, owner.openid)["flow"] == "bind"
    assert "已取消「绑定企业」" in owner.say("取消")
    assert "没有可继续" in owner.say("继续")


def test_cancel_with_nothing_in_progress(owner):
    assert "没有正在办理" in owner.say("取消")


@pytest.mark.parametrize("keyword", ["申请报告", "申请报告。", " 申请报告 "])
def test_keyword_interrupts_any_step(owner, keyword):
    owner.say("异议申诉")
    assert "领域" in owner.say(keyword)


def test_help_keeps_the_flow(owner):
    owner.say("申请报告")
    reply = owner.say("帮助")
    assert "http://hegui.test/guide" in reply and "您正在办理「申请报告」" in reply
    assert "报告期间" in owner.say("全部")


def test_help_and_default(bot_chat):
    chat = bot_chat("o-new")
    assert "http://hegui.test/guide" in chat.say("帮助")
    assert "绑定企业" in chat.say("今天天气不错")


def test_subscribe_welcomes_and_unsubscribe_clears(bot_chat, rt):
    chat = bot_chat("o-follower")
    assert "欢迎关注" in chat.send(kind="event", event="subscribe")
    assert "欢迎关注" in chat.send(kind="event", event="subscribe", event_key="qrscene_poster-2026")
    chat.say("绑定企业")
    assert chat.send(kind="event", event="unsubscribe") is None
    assert WechatUser.get(WechatUser.openid == "o-follower").subscribed is False
    assert rt.redis.get(state.live_key("o-follower")) is None
    assert rt.redis.get(state.lapsed_key("o-follower")) is None


@pytest.mark.parametrize("key", sorted(KEY_TO_KEYWORD))
def test_every_menu_click_maps_to_its_keyword(owner, key):
    by_keyword = owner.say(KEY_TO_KEYWORD[key])
    owner.say("取消")
    assert owner.click(key) == by_keyword


def test_menu_click_starts_flows(owner):
    assert "领域" in owner.click(KEY_APPLY)
    assert "暂无已生成的报告" in owner.click(KEY_MY_REPORTS)
    assert "guide" in owner.click(KEY_HELP)


def test_view_and_unknown_events_get_no_reply(owner):
    assert owner.send(kind="event", event="view", event_key="http://hegui.test/guide") is None
    assert owner.send(kind="event", event="click", event_key="NO_SUCH_KEY") is None


def test_voice_is_treated_as_text(owner):
    assert "领域" in owner.send(kind="voice", text="申请报告", media_id="v1", raw_type="voice")
    assert "报告期间" in owner.send(kind="voice", text="全部。", media_id="v2", raw_type="voice")


def test_voice_without_recognition_asks_to_type(owner):
    assert "文字" in owner.send(kind="voice", text="", media_id="v1", raw_type="voice")


def test_image_outside_a_flow_and_inside_a_non_photo_step(owner):
    assert "目前没有需要上传照片" in owner.image("m1")
    owner.say("申请报告")
    reply = owner.image("m2")
    assert "无需发送图片" in reply and "领域" in reply


@pytest.mark.parametrize("raw_type", ["location", "link", "video", "file", "shortvideo"])
def test_other_message_types_get_a_helpful_answer(owner, raw_type):
    assert "请发送文字" in owner.send(kind="other", raw_type=raw_type)


def test_pending_notices_come_first_once(owner):
    PendingNotice.create(user=owner.user(), text="您的异议申诉 YY-20261127-0001 已办结：记录已更正。")
    reply = owner.say("帮助")
    assert reply.startswith("【待查看的消息】") and "YY-20261127-0001" in reply and "guide" in reply
    assert "YY-20261127-0001" not in owner.say("帮助")
    assert PendingNotice.get().shown_at is not None


def test_no_reply_means_no_mentions_are_used_up(owner):
    PendingNotice.create(user=owner.user(), text="待查看")
    assert owner.send(kind="event", event="view") is None
    assert PendingNotice.get().shown_at is None


def test_report_request_sentence_from_a_new_user_without_binding(bot_chat):
    chat = bot_chat("o-sentence")
    assert "需要先绑定企业" in chat.say("我要开无违法记录证明")


def test_lapse_message_uses_the_flow_title(owner, rt):
    owner.say("我的报告")
    owner.say("解绑")
    rt.redis.delete(state.live_key(owner.openid))
    assert "「解绑企业」" in owner.say("确认")


def test_one_users_messages_take_turns(app, rt, bot_chat):
    chat = bot_chat("o-two-at-once")
    held = state.user_lock(rt.redis, "o-two-at-once")
    assert held.acquire()
    try:
        with pytest.raises(LockError):  # the webhook answers 「系统繁忙…请稍候重新发送」 then (tests/test_faults.py)
            chat.say("申请报告")
        assert state.load(rt.redis, "o-two-at-once") is None
    finally:
        held.release()
    assert chat.say("帮助")


def test_inside_a_free_text_answer_only_exact_keywords_count(owner, case_world_records):
    owner.say("异议申诉")
    owner.say("1")
    assert "至少写5个字" in owner.say("申清报告")  # an (unfinished) reason, not a typo of 申请报告
    assert "证明材料" in owner.say("近三年全部领域都没有这条记录，银行贷款受影响")  # a reason, not a request
    owner.say("取消")
    owner.say("异议申诉")
    owner.say("1")
    assert "领域" in owner.say("申请报告")  # the exact keyword still works at any step (docs/CONTRACT.md §5)


def test_typos_of_keywords_work_elsewhere(owner):
    assert "领域" in owner.say("申清报告")
    assert "已取消" in owner.say("算了，不办了")


def test_questions_get_answers_and_unbound_users_are_led_to_binding(owner, bot_chat):
    assert "30 天内有效" in owner.say("报告有效期多久？")
    assert "绑定企业" not in owner.say("报告有效期多久？").split("\n")[-1]
    stranger = bot_chat("o-unbound")
    reply = stranger.say("报告有效期多久？")
    assert "30 天内有效" in reply and "请先回复「绑定企业」" in reply
    assert "请先回复「绑定企业」" in stranger.say("你好")


def test_resend_qr_without_a_report_and_with_one(owner, make_signed_report, rt):
    assert "暂无有效的报告" in owner.say("重发二维码")
    report = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    reply = owner.say("二维码丢了，怎么再发一次")
    assert report.number in reply and f"/v/{report.token}" in reply
    assert [j.func_name for j in rt.queue.jobs] == ["jobs.delivery.deliver"]


def test_the_bot_writes_no_follow_or_window_column(owner):
    """The webhook records the interaction (bot_chat does as it does); the bot leaves those columns alone."""
    before = owner.user()
    owner.send(kind="event", event="unsubscribe")
    after = owner.user()
    assert after.subscribed is False and before.last_message_at == after.last_message_at
