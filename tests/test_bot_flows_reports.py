import datetime as dt
import json

import pytest

from bot import state
from models.base import local_today, utcnow
from models.tables.accounts import Binding
from models.tables.registry import Domain
from models.tables.reports import OutboundMessage, Report, ReportRequest, ViewLog

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


# --- 我的报告 -------------------------------------------------------------------------------------------


def test_my_reports_lists_reports_and_requests(owner, make_signed_report, rt):
    report = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    ReportRequest.create(user=owner.user(), enterprise=owner.enterprise, msg_key="pending", domains=["hrss"],
                         period_start=TODAY - dt.timedelta(days=30), period_end=TODAY, purpose_category="金融",
                         purpose="上市")
    reply = owner.say("我的报告")
    assert f"1. {report.number}【有效】" in reply
    assert f"http://hegui.test/v/{report.token}" in reply
    assert "正在生成：1 份" in reply
    detail = owner.say("1")
    assert "用途：金融·银行贷款" in detail and "已重新发送该报告的二维码" in detail and report.token in detail
    qr = OutboundMessage.get(OutboundMessage.kind == "image")
    assert qr.user_id == owner.user().id and qr.dedup_key.startswith(f"report-qr-again-{report.id}-")
    assert [j.args for j in rt.queue.jobs if j.func_name == "jobs.delivery.deliver"] == [(qr.id,)]
    owner.say("1", msg_key="again")
    owner.say("1", msg_key="again")  # a repeated message sends nothing more
    assert OutboundMessage.select().where(OutboundMessage.kind == "image").count() == 2


def test_my_reports_without_reports(owner):
    assert "暂无已生成的报告" in owner.say("我的报告")


def test_revoke_a_report_with_confirmation(owner, make_signed_report):
    report = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    owner.say("我的报告")
    assert "确认撤销报告" in owner.say("撤销1")
    assert "报告未撤销" in owner.say("返回")
    assert Report.get_by_id(report.id).revoked_at is None
    owner.say("撤销1")
    assert "已撤销" in owner.say("确认")
    assert Report.get_by_id(report.id).revoked_at is not None
    assert "【已撤销】" in owner.say("我的报告")
    assert "无需重复" in owner.say("撤销1")


def test_a_replayed_revocation_never_revokes_a_newer_report(owner, make_signed_report, rt):
    """我的报告 / 撤销1 / 确认 recorded and sent again after Redis lost its memory: the 确认 was handled once (in the
    database), so the newer report now listed first stays valid."""
    older = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    recorded = [("我的报告", "m-list"), ("撤销1", "m-pick"), ("确认", "m-confirm")]
    for text, key in recorded:
        owner.say(text, msg_key=key)
    assert Report.get_by_id(older.id).revoked_at is not None
    newer = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    rt.redis.flushdb()
    for text, key in recorded:
        owner.say(text, msg_key=key)
    assert Report.get_by_id(newer.id).revoked_at is None


def test_view_log_shows_time_and_unit_only(owner, make_signed_report):
    report = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    ViewLog.create(report=report, unit="中国建设银行黑河分行", openid="o-verifier-secret", ip="10.1.2.3")
    ViewLog.create(report=report, openid="o-verifier-2", ip="10.9.9.9")
    owner.say("我的报告")
    reply = owner.say("查看记录1")
    assert "共被查验 2 次" in reply and "中国建设银行黑河分行" in reply and "未填写单位" in reply
    assert "o-verifier" not in reply and "10.1.2.3" not in reply


def test_another_enterprises_reports_are_never_shown(owner, bot_chat, bot_enterprise, make_signed_report, rt):
    other_enterprise = bot_enterprise("黑河市他人公司")
    secret = make_signed_report(enterprise=other_enterprise)
    mine = make_signed_report(owner=owner.user(), enterprise=owner.enterprise)
    reply = owner.say("我的报告")
    assert mine.number in reply and secret.number not in reply
    tampered = json.loads(rt.redis.get(state.live_key(owner.openid)))
    tampered["data"]["reports"] = [secret.id]
    rt.redis.set(state.live_key(owner.openid), json.dumps(tampered))
    reply = owner.say("撤销1")
    assert "尚未绑定该企业" in reply and secret.number not in reply
    owner.say("确认")
    assert Report.get_by_id(secret.id).revoked_at is None


def test_sentence_with_a_wrong_period_says_why_and_asks(owner):
    reply = owner.say("帮我开近十年的无违法记录证明")
    assert reply.index("最长 5 年") < reply.index("领域")
    owner.say("全部")
    assert "用途" in owner.say("近5年")
