"""jobs.staff_markdown: what the staff WeCom groups read; outside values plant no link, tag or heading."""

import re

from jobs.staff_markdown import case_opened_markdown, case_reminder_line, notice_markdown
from models.policy.casework.cases import open_case
from models.tables.cases import StaffNotice
from models.tables.registry import Enterprise

PLANTED = "[点此办理](http://evil.example/steal)"
LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def test_enterprise_name_decision_number_authority_and_reason_plant_no_link(case_world):
    """Issue 13, item 8: the enterprise name, 文号 and 处罚机关 planted a fake 「点此办理」 above the real one."""
    w = case_world
    Enterprise.update(name=f"黑河市{PLANTED}商贸有限公司").where(Enterprise.id == w.enterprise.id).execute()
    record = w.record(decision_no=f"黑市监罚〔2026〕7号\n{PLANTED}",
                      authority=f'黑河市市场监督管理局<font color="info">{PLANTED}</font>')
    case = open_case("objection", w.user, w.enterprise, record, f"请点{PLANTED}\n# 紧急 <b>处理</b>", "m-planted")
    text = notice_markdown(StaffNotice.get(StaffNotice.case == case), "https://credit.example.cn")
    assert LINK.findall(text) == [("点此办理", f"https://credit.example.cn/staff/cases/{case.id}")]
    assert text.count("<font") == 1 and "http://evil" not in text and "<b>" not in text
    assert [line[:2] for line in text.splitlines()] == ["##", "> ", "> ", "> ", "> ", "[点"]  # no line of theirs
    reason = next(line for line in text.splitlines() if line.startswith("> 理由："))
    assert reason == "> 理由：请点［点此办理］（http：//evil.example/steal） ＃ 紧急 ＜b＞处理＜/b＞"


def test_the_console_link_is_on_public_base_url_and_the_reason_is_shortened(case_world):
    w = case_world
    case = open_case("objection", w.user, w.enterprise, w.record(), "理由" * 150, "m-long")
    text = case_opened_markdown(case, "https://credit.example.cn")
    assert text.endswith(f"[点此办理](https://credit.example.cn/staff/cases/{case.id})")
    assert "> 理由：" + "理由" * 99 + "理…" in text


def test_a_reminder_line_neutralises_the_enterprise_name(case_world):
    w = case_world
    case = open_case("objection", w.user, w.enterprise, w.record(), "理由充分", "m-rem")
    Enterprise.update(name=f"坏{PLANTED}").where(Enterprise.id == w.enterprise.id).execute()
    case = type(case).get_by_id(case.id)
    line = case_reminder_line(case, "今日到期", "https://credit.example.cn")
    assert LINK.findall(line) == [("办理", f"https://credit.example.cn/staff/cases/{case.id}")]
