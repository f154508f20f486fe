"""bot/flows/apply.py: 申请报告 step by step, from sentences, corrected in plain words, superseding announced."""

import datetime as dt

import pytest
import requests

from bot import state
from jobs.pipeline import enqueue_build
from models.base import local_today, utcnow
from models.tables.accounts import Binding
from models.tables.outbound import OutboundMessage
from models.tables.registry import Domain
from models.tables.reports import Report, report_status
from models.tables.requests import ReportRequest

TODAY = local_today()


def years_ago(years):
    try:
        return TODAY.replace(year=TODAY.year - years) + dt.timedelta(days=1)
    except ValueError:
        return TODAY.replace(year=TODAY.year - years, day=28) + dt.timedelta(days=1)


def build_jobs(rt):
    return [job.args[0] for job in rt.queue.jobs if job.func_name == "jobs.pipeline.build_report"]


@pytest.fixture
def owner(bot_chat, bot_enterprise):
    """A user bound to one enterprise."""
    chat = bot_chat("o-report-owner")
    chat.enterprise = bot_enterprise("黑河市北辰商贸有限公司")
    Binding.create(user=chat.user(), enterprise=chat.enterprise)
    return chat


def all_codes():
    return [d.code for d in Domain.ordered()]


def test_apply_step_by_step(owner, rt):
    reply = owner.say("申请报告")
    assert "1. 人力资源和社会保障" in reply and "16. 城市管理" in reply
    assert "近3年" in owner.say("全部")
    assert "6.银行贷款" in owner.say("近3年")
    summary = owner.say("6")
    assert "企业：黑河市北辰商贸有限公司" in summary
    assert "1. 领域：全部（16个领域）" in summary
    assert f"2. 期间：{years_ago(3)} 至 {TODAY}" in summary
    assert "3. 用途：金融·银行贷款" in summary
    assert not ReportRequest.select().exists()
    assert "报告正在生成" in owner.say("确认")
    request = ReportRequest.get()
    assert request.user_id == owner.user().id and request.enterprise_id == owner.enterprise.id
    assert request.domains == all_codes()
    assert (request.period_start, request.period_end) == (years_ago(3), TODAY)
    assert (request.purpose_category, request.purpose, request.status) == ("金融", "银行贷款", "queued")
    assert build_jobs(rt) == [request.id]
    assert rt.redis.get(state.live_key(owner.openid)) is None


def test_one_sentence_fills_every_slot(owner, rt):
    summary = owner.say("帮我开一份近三年全部领域的报告，用于银行贷款")
    assert "全部（16个领域）" in summary and "金融·银行贷款" in summary and "确认" in summary
    owner.say("好的")
    request = ReportRequest.get()
    assert (request.domains, request.purpose) == (all_codes(), "银行贷款")


def test_sentence_asks_only_for_what_is_missing(owner):
    reply = owner.say("开个社保和消防的无违法记录证明")
    assert "报告期间" in reply
    reply = owner.say("两年")
    assert "用途" in reply
    summary = owner.say("其他：办理出国签证")
    assert "1. 领域：人力资源和社会保障、消防安全" in summary
    assert f"2. 期间：{years_ago(2)} 至 {TODAY}" in summary
    assert "3. 用途：其他·办理出国签证" in summary
    owner.say("确认")
    request = ReportRequest.get()
    assert request.domains == ["hrss", "fire"]
    assert (request.purpose_category, request.purpose) == ("其他", "办理出国签证")


def test_an_answer_may_fill_several_slots(owner):
    owner.say("申请报告")
    summary = owner.say("近两年，全部，投标用")
    assert "全部（16个领域）" in summary and "商务经营·招投标" in summary


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (f"{TODAY.year - 1}-01-01至{TODAY.year + 1}-12-31", "不能晚于今天"),
        (f"{TODAY.year - 7}-01-01至{TODAY.year - 1}-12-31", "最长 5 年"),
        (f"{TODAY.year - 1}-12-31至{TODAY.year - 3}-01-01", "开始日期应早于结束日期"),
        ("近十年", "最长 5 年"),
        ("随便", "近3年"),
    ],
)
def test_invalid_period_is_asked_again_with_an_example(owner, answer, fragment):
    owner.say("申请报告")
    owner.say("全部")
    reply = owner.say(answer)
    assert fragment in reply and "例如" in reply
    assert "用途" in owner.say("近1年")


def test_wrong_domain_and_purpose_answers(owner):
    owner.say("申请报告")
    assert "「天文」不是报告可选的领域" in owner.say("天文")
    assert "1 到 16" in owner.say("20")
    owner.say("社保")
    owner.say("近1年")
    assert "其他：办理出国签证" in owner.say("其他")
    assert "例如「6」" in owner.say("看看")
    assert "请核对" in owner.say("贷款")


def test_back_and_cancel_midway(owner):
    owner.say("申请报告")
    owner.say("1、3")
    assert "领域" in owner.say("返回")
    owner.say("全部")
    owner.say("近1年")
    assert "报告期间" in owner.say("返回")
    assert "已取消「申请报告」" in owner.say("取消")
    assert "没有可继续" in owner.say("继续")
    assert not ReportRequest.select().exists()


def test_back_at_the_first_step(owner):
    owner.say("申请报告")
    assert "已经是第一步" in owner.say("返回")


def test_editing_the_summary_by_number(owner):
    owner.say("帮我开一份近三年全部领域的报告，用于银行贷款")
    assert "报告期间" in owner.say("改2")
    summary = owner.say("近1年")
    assert f"2. 期间：{years_ago(1)} 至 {TODAY}" in summary and "3. 用途：金融·银行贷款" in summary
    assert "领域" in owner.say("1")
    summary = owner.say("环保")
    assert "1. 领域：生态环境" in summary
    assert "没有第 9 项" in owner.say("改9")
    assert "请回复「确认」" in owner.say("再想想")
    owner.say("确认")
    request = ReportRequest.get()
    assert (request.domains, request.period_start) == (["ecology"], years_ago(1))


def test_keywords_are_whole_messages_only(owner):
    owner.say("申请报告")
    owner.say("全部")
    owner.say("近1年")
    summary = owner.say("其他：对方说我需要绑定企业才行")
    assert "其他·对方说我需要绑定企业才行" in summary
    assert "统一社会信用代码" in owner.say("绑定企业")
    assert not ReportRequest.select().exists()


def test_repeat_of_the_confirming_message_creates_nothing_twice(owner, rt):
    owner.say("帮我开一份近三年全部领域的报告，用于银行贷款")
    before = rt.redis.get(state.live_key(owner.openid))
    assert "正在生成" in owner.say("确认", msg_key="msg-confirm")
    rt.redis.flushdb()  # the webhook's dedup and our state gone; the conversation state comes back from a lag
    rt.redis.set(state.live_key(owner.openid), before)
    assert "正在生成" in owner.say("确认", msg_key="msg-confirm")
    rt.redis.flushdb()
    assert "正在生成" not in owner.say("确认", msg_key="msg-confirm")
    assert ReportRequest.select().count() == 1


def test_identical_request_in_progress_is_not_made_twice(owner):
    for _ in range(2):
        owner.say("帮我开一份近三年全部领域的报告，用于银行贷款")
        last = owner.say("确认")
    assert "正在生成中，请勿重复申请" in last
    assert ReportRequest.select().count() == 1
    ReportRequest.update(status="delivered").execute()
    owner.say("帮我开一份近三年全部领域的报告，用于银行贷款")
    assert "报告正在生成" in owner.say("确认")
    assert ReportRequest.select().count() == 2


def test_user_without_binding_asking_for_a_report(bot_chat, rt):
    stranger = bot_chat("o-stranger")
    assert "需要先绑定企业" in stranger.say("申请报告")
    assert "需要先绑定企业" in stranger.say("帮我开一份近三年全部领域的报告，用于银行贷款")
    assert "需要先绑定企业" in stranger.say("我的报告")
    assert rt.redis.get(state.live_key(stranger.openid)) is None
    assert not ReportRequest.select().exists()


def test_several_enterprises_ask_which(owner, bot_enterprise):
    other = bot_enterprise("黑河市南山物流有限公司")
    Binding.create(user=owner.user(), enterprise=other)
    reply = owner.say("申请报告")
    assert "1. 黑河市北辰商贸有限公司" in reply and "2. 黑河市南山物流有限公司" in reply
    assert "领域" in owner.say("2")
    assert owner.user().active_enterprise_id == other.id
    owner.say("全部")
    owner.say("近1年")
    summary = owner.say("银行贷款")
    assert "1. 企业：黑河市南山物流有限公司" in summary and "2. 领域" in summary
    owner.say("确认")
    assert ReportRequest.get().enterprise_id == other.id


def test_binding_revoked_before_confirming(owner):
    owner.say("帮我开一份近三年全部领域的报告，用于银行贷款")
    Binding.update(revoked_at=utcnow()).execute()
    assert "尚未绑定该企业" in owner.say("确认")
    assert not ReportRequest.select().exists()


def test_sentence_with_a_wrong_period_says_why_and_asks(owner):
    reply = owner.say("帮我开近十年的无违法记录证明")
    assert reply.index("最长 5 年") < reply.index("领域")
    owner.say("全部")
    assert "用途" in owner.say("近5年")


# --- what issue 11 asks of the form: exclusions, corrections, names that are not domains -----------------------


def test_an_exclusion_lists_the_included_domains_and_says_what_is_left_out(owner):
    summary = owner.say("除了金融监管以外都要，近三年，银行贷款")
    line = next(s for s in summary.splitlines() if s.startswith("1. 领域："))
    assert "人力资源和社会保障" in line and "金融监管" not in line and "（15个领域）" in line
    assert "   不含：金融监管" in summary.splitlines()
    owner.say("确认")
    assert ReportRequest.get().domains == [c for c in all_codes() if c != "finance"]


def test_corrections_on_the_summary_in_plain_words(owner):
    owner.say("市场监管 近三年 银行贷款")
    assert f"2. 期间：{years_ago(1)} 至 {TODAY}" in owner.say("不对，改成近一年")
    assert "3. 用途：商务经营·招投标" in owner.say("用途改成招投标")
    assert "1. 领域：市场监管、消防安全（2个领域）" in owner.say("领域再加上消防")
    owner.say("确认")
    request = ReportRequest.get()
    assert (request.domains, request.purpose, request.period_start) == (["market", "fire"], "招投标", years_ago(1))


def test_a_name_that_is_not_a_domain_is_named_back_and_nothing_else_is_lost(owner):
    reply = owner.say("税务、消防，近一年，招投标")
    assert reply.index("「税务」不是报告可选的领域") < reply.index("请核对")
    assert "水务" in reply and "1. 领域：消防安全（1个领域）" in reply


def test_a_request_from_inside_another_flow_starts_the_application(owner):
    owner.say("切换企业")  # one enterprise: no flow stays
    owner.say("解绑")
    reply = owner.say("我要开近三年全部领域的报告，贷款用")
    assert reply.startswith("已结束「解绑企业」") and "1. 领域：全部（16个领域）" in reply
    assert "报告正在生成" in owner.say("确认")


def test_a_question_on_a_step_is_answered_and_the_step_asked_again(owner):
    owner.say("申请报告")
    reply = owner.say("要收费吗？")
    assert "不设任何收费环节" in reply and "您正在办理「申请报告」" in reply and "16. 城市管理" in reply
    assert "报告期间" in owner.say("全部")


# --- superseding: named in the summary; 「确认」 replaces, 「保留」 keeps; the other owners are told -------------


@pytest.fixture
def built(wechat_double, rt, drain, report_world):
    """A report for 银行贷款 issued through the real pipeline for the world's owner (inside WeChat's window)."""
    requests.post(wechat_double.base_url + "/_double/interaction", json={"openid": report_world.user.openid,
                  "kind": "message"}, timeout=5)

    def build(request):
        enqueue_build(rt, request.id)
        assert drain() == 0
        return Report.get(Report.request == request)

    report_world.build = build
    report_world.first = build(report_world.request())
    return report_world


def test_the_summary_names_the_report_it_would_replace_and_confirm_replaces_it(built, bot_chat, drain):
    chat = bot_chat(built.user.openid)
    summary = chat.say("近三年 全部领域 用于银行贷款")
    assert f"同一用途的有效报告 {built.first.number}" in summary and "「保留」" in summary
    chat.say("确认")
    assert drain() == 0
    newer = Report.get(Report.id != built.first.id)
    assert Report.get_by_id(built.first.id).superseded_by_id == newer.id
    assert not ReportRequest.get(ReportRequest.id == newer.request_id).keep_earlier


def test_keep_issues_the_new_report_and_keeps_the_earlier_valid(built, bot_chat, drain):
    chat = bot_chat(built.user.openid)
    chat.say("近三年 全部领域 用于银行贷款")
    assert "报告正在生成" in chat.say("保留")
    assert drain() == 0
    assert Report.select().count() == 2
    assert report_status(Report.get_by_id(built.first.id)) == "有效"


def test_another_owner_whose_report_is_replaced_is_told(built, bot_chat, bot_enterprise):
    colleague = bot_chat("o-colleague")
    Binding.create(user=colleague.user(), enterprise=built.enterprise)
    colleague.say("近三年 全部领域 用于银行贷款")
    colleague.say("确认")
    notice = OutboundMessage.get(OutboundMessage.kind == "notice")
    assert notice.user_id == built.user.id and built.first.number in notice.payload["text"]
    assert "已被新报告替代" in notice.payload["text"] and "另一位绑定用户" in notice.payload["text"]
    colleague.say("近三年 全部领域 用于银行贷款")
    colleague.say("保留")  # kept: nobody's report is replaced, nobody is told
    assert OutboundMessage.select().where(OutboundMessage.kind == "notice").count() == 1


def test_what_the_summary_names_is_what_the_pipeline_replaces(built, rt, drain):
    """Report.valid_for_purpose (the summary) and snapshot.supersede_older (the pipeline) agree."""

    def kept(**purpose):
        request = built.request(**purpose)
        ReportRequest.update(keep_earlier=True).where(ReportRequest.id == request.id).execute()
        return built.build(request)

    second = kept()
    kept().revoke()
    other_purpose = kept(purpose="招投标", category="商务经营")
    expired = kept()
    Report.update(valid_until=utcnow() - dt.timedelta(days=1)).where(Report.id == expired.id).execute()
    named = {r.id for r in Report.valid_for_purpose(built.enterprise, "金融", "银行贷款")}
    assert named == {built.first.id, second.id}
    newest = built.build(built.request())
    assert {r.id for r in Report.select().where(Report.superseded_by == newest.id)} == named
    assert Report.get_by_id(other_purpose.id).superseded_by_id is None
