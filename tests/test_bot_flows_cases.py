import datetime as dt

import pytest

from models.base import local_today
from models.policy.report.present import cn_date
from models.tables.blobs import StoredBlob
from models.tables.cases import OBJECTION, REPAIR_REQUEST, Case, CaseEvidence, StaffNotice
from models.tables.records import REPAIRED

TODAY = local_today()


@pytest.fixture
def owner(bot_chat, case_world):
    """case_world's owner (bound to 黑河市北辰商贸有限公司) talking to the bot."""
    chat = bot_chat(case_world.user.openid)
    chat.world = case_world
    return chat


def media_jobs(rt):
    return [job.args for job in rt.queue.jobs if job.func_name == "jobs.media.fetch_case_evidence"]


def test_objection_happy_path_with_photos(owner, rt):
    record = owner.world.record(decided_on=TODAY - dt.timedelta(days=40))
    reply = owner.say("异议申诉")
    assert "1. " in reply and record.decision_no in reply and "黑河市市场监督管理局" in reply
    assert "理由" in owner.say("1")
    assert "至少写5个字" in owner.say("不对")
    assert "证明材料" in owner.say("对方说我需要绑定企业才行，这条处罚不是我们公司的")
    assert "第 1 张" in owner.image("m-ev-1")
    assert "第 2 张" in owner.image("m-ev-2")
    summary = owner.say("完成")
    assert "企业：黑河市北辰商贸有限公司" in summary
    assert f"1. 处罚记录：{record.decided_on:%Y-%m-%d}" in summary
    assert "2. 理由：对方说我需要绑定企业才行" in summary and "3. 证明材料：2 张照片" in summary
    reply = owner.say("确认", msg_key="confirm-objection")
    case = Case.get()
    assert case.number in reply and cn_date(case.deadline) in reply
    assert (case.kind, case.record_id, case.msg_key) == (OBJECTION, record.id, "confirm-objection")
    assert case.reason == "对方说我需要绑定企业才行，这条处罚不是我们公司的"
    evidence = list(CaseEvidence.select().where(CaseEvidence.case == case))
    assert sorted(e.blob.filename for e in evidence) == ["wechat-media:m-ev-1", "wechat-media:m-ev-2"]
    assert media_jobs(rt) == [(case.id, ["m-ev-1", "m-ev-2"])]
    assert StaffNotice.get().case_id == case.id


def test_objection_without_photos_and_repeat_of_the_confirmation(owner, rt):
    owner.world.record()
    owner.say("异议申诉")
    owner.say("1")
    owner.say("处罚对象有误，应为同名的另一家企业")
    assert "1. 处罚记录" in owner.say("无")
    first = owner.say("确认", msg_key="confirm-1")
    assert Case.select().count() == 1 and not StoredBlob.select().exists()
    assert media_jobs(rt) == []
    assert "没有正在办理" in owner.say("取消", msg_key="cancel-after")
    assert first.startswith("异议申诉已提交")


def test_repair_happy_path(owner, rt):
    record = owner.world.record(decided_on=TODAY - dt.timedelta(days=200))
    owner.say("信用修复")
    assert "是否已履行完毕" in owner.say("1")
    assert "理由" in owner.say("是")
    assert "信用承诺书" in owner.say("罚款已缴清，已按要求完成整改")
    assert "还没有收到照片" in owner.say("完成")
    owner.image("m-commit")
    assert "证明材料" in owner.say("完成")
    summary = owner.say("无")
    assert "信用承诺书：1 张照片" in summary and "证明材料：无" in summary
    assert "信用修复已提交" in owner.say("确认")
    case = Case.get()
    assert (case.kind, case.record_id) == (REPAIR_REQUEST, record.id)
    labels = {e.label: e.blob.filename for e in CaseEvidence.select().where(CaseEvidence.case == case)}
    assert labels == {"信用承诺书": "wechat-media:m-commit"}
    assert media_jobs(rt) == [(case.id, ["m-commit"])]


def test_repair_of_a_record_not_yet_eligible(owner):
    owner.world.record(decided_on=TODAY - dt.timedelta(days=10))
    owner.say("信用修复")
    reply = owner.say("1")
    assert "尚未期满" in reply and "回复「取消」" in reply
    assert "已取消「信用修复」" in owner.say("取消")
    assert not Case.select().exists()


def test_repair_requires_the_penalty_carried_out(owner):
    owner.world.record(decided_on=TODAY - dt.timedelta(days=200))
    owner.say("信用修复")
    owner.say("1")
    assert "履行完毕后再申请" in owner.say("否")
    assert "请回复「是」或「否」" in owner.say("也许")


def test_no_records(owner):
    owner.world.record(status=REPAIRED)
    reply = owner.say("信用修复")
    assert "暂无可信用修复的处罚记录" in reply
    assert "没有正在办理" in owner.say("取消")


def test_back_and_edit_in_a_case(owner):
    owner.world.record(decision_no="黑市监罚〔2026〕甲号")
    owner.world.record(decision_no="黑市监罚〔2026〕乙号", decided_on=TODAY - dt.timedelta(days=5))
    reply = owner.say("异议申诉")
    assert reply.index("乙号") < reply.index("甲号")
    owner.say("1")
    assert "记录序号" in owner.say("返回")
    assert "1 到 2" in owner.say("3")
    owner.say("2")
    owner.say("处罚对象有误，应为同名企业")
    owner.image("m1")
    assert "请以图片消息发送" in owner.say("还有")
    owner.say("完成")
    assert "理由" in owner.say("改2")
    summary = owner.say("该处罚已于2025年撤销，记录未更新")
    assert "2. 理由：该处罚已于2025年撤销" in summary and "3. 证明材料：1 张照片" in summary
    assert "证明材料" in owner.say("改3")
    summary = owner.say("无")
    assert "3. 证明材料：无" in summary
    owner.say("确认")
    case = Case.get()
    assert case.record.decision_no == "黑市监罚〔2026〕甲号" and case.reason.startswith("该处罚已于2025年撤销")
    assert not CaseEvidence.select().exists()


def test_stranger_cannot_see_records(bot_chat, case_world):
    case_world.record()
    stranger = bot_chat("o-stranger")
    reply = stranger.say("异议申诉")
    assert "需要先绑定企业" in reply and "黑市监罚" not in reply
