"""jobs.notice_kinds: each kind's chat text from its facts, and its category template (optional, per kind)."""

import pytest

from jobs.notice_kinds import (
    KINDS,
    TemplateSettingError,
    check_settings,
    details_later,
    notice_payload,
    notice_text,
    parse_setting,
    template_for,
)

UNSET = {kind.setting: None for kind in KINDS.values()}  # every setting is present, None when unset (config.py)
FACTS = {
    "case_outcome": {"kind": "信用修复", "number": "XF-20261127-0002", "decision_no": "黑环罚〔2025〕12号",
                     "accepted": False, "resolution": None, "reason": "尚未履行[处罚](http://x)",
                     "at": "2026-11-27 09:30"},
    "report_corrected": {"issued": "2026-11-20", "number": "HH-20261120-000042", "resolution": "repaired",
                         "at": "2026-11-27 09:30"},
    "view_digest": {"day": "2026-11-26", "count": 2, "lines": [("09:05", "中国农业银行黑河分行", "HH-1"),
                                                              ("10:00", None, "HH-2")], "more": 0,
                    "units": ["中国农业银行黑河分行"]},
    "binding_outcome": {"name": "黑河市北辰商贸有限公司", "approved": False, "reason": "授权书未盖章",
                        "at": "2026-11-27 09:30"},
    "mobile_changed": {"name": "黑河市北辰商贸有限公司", "when": "2026年11月27日", "at": "2026-11-27 09:30",
                       "old": "139****0001", "new": "138****8000", "source": "黑河市社会信用体系建设领导小组办公室"},
}


def test_every_kind_has_a_text_from_its_facts():
    assert set(FACTS) == set(KINDS)
    texts = {kind: notice_text(notice_payload(kind, facts)) for kind, facts in FACTS.items()}
    assert texts["case_outcome"].startswith("您提交的信用修复（编号 XF-20261127-0002")
    assert "不予支持" in texts["case_outcome"]
    assert "［处罚］（http：//x）" in texts["case_outcome"]  # the staff's reason, neutralised
    assert "完成信用修复" in texts["report_corrected"] and "HH-20261120-000042" in texts["report_corrected"]
    assert texts["view_digest"].splitlines()[:3] == [
        "【查验提醒】11月26日，您的专用信用报告被查验 2 次：", "· 09:05 中国农业银行黑河分行（HH-1）",
        "· 10:00 未填写单位（HH-2）"]
    assert "授权书未盖章" in texts["binding_outcome"] and "138****8000" in texts["mobile_changed"]
    assert notice_text({"text": "旧行的原文", "fields": {}}) == "旧行的原文"  # a row queued before the upgrade


def test_a_kind_without_a_template_setting_has_none_and_never_stops_a_start():
    check_settings(UNSET)
    assert all(template_for(notice_payload(kind, facts), UNSET) is None for kind, facts in FACTS.items())


@pytest.mark.parametrize("kind", sorted(FACTS))
def test_every_kinds_fields_fit_their_types_with_nothing_in_first_or_remark(kind):
    template_id, data = template_for(notice_payload(kind, FACTS[kind]), {KINDS[kind].setting: "tpl-1"})
    assert template_id == "tpl-1" and data and not {"first", "remark"} & set(data)
    assert all(value and "\n" not in value for value in data.values())


def test_a_setting_may_renumber_the_keys_but_not_change_a_slots_type():
    assert parse_setting("view_digest", "tpl count=number4 units=thing1 day=date2") == (
        "tpl", {"count": "number4", "units": "thing1", "day": "date2"})
    for wrong in ("tpl count=thing4", "tpl nothing=thing1", "tpl count:number4", "tpl count=number4 stray"):
        with pytest.raises(TemplateSettingError):
            parse_setting("view_digest", wrong)
    with pytest.raises(TemplateSettingError):
        check_settings({**UNSET, "WECHAT_TEMPLATE_CASE_OUTCOME": "tpl kind=character_string1"})


def test_what_a_template_cannot_carry_waits_for_the_next_message():
    assert details_later(notice_payload("case_outcome", FACTS["case_outcome"]))
    assert not details_later(notice_payload("view_digest", FACTS["view_digest"]))
