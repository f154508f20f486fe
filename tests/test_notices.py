"""jobs.notices: the owners' notices after a case is decided."""

import datetime as dt

from jobs.notice_kinds import notice_text
from jobs.notices import _offer_new_report
from models.tables.accounts import WechatUser
from models.tables.outbound import OutboundMessage


def test_new_report_offer_gives_the_local_issue_date(app, rt, make_signed_report):
    owner = WechatUser.create(openid="o-corrected-owner")
    report = make_signed_report(owner=owner, issued=dt.datetime(2026, 11, 26, 17, 0))  # 11-27 01:00 in 黑河
    row = OutboundMessage.get_by_id(_offer_new_report(report, "corrected"))
    assert row.user_id == owner.id and row.dedup_key == f"report-corrected:{report.id}"
    assert notice_text(row.payload).startswith(f"您于 2026-11-27 开具的专用信用报告（编号 {report.number}）")
    assert "已更正" in notice_text(row.payload)
