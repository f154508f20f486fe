"""`flask domain add|list` (commands/domains.py): a domain is data; the bot, the guide and the reports follow."""

import datetime as dt

from models.policy.report import rules, snapshot
from models.tables.accounts import Binding
from models.tables.registry import Domain
from models.tables.requests import ReportRequest

HEADER = {"number": "N", "issuer": "i", "issued_at": "2026-12-01T09:00:00+08:00",
          "valid_until": "2026-12-31T09:00:00+08:00", "verify": {"url": "u", "lookup": "l"}}


def test_domain_add_puts_it_last_and_everything_follows(runner, client, bot_chat, bot_enterprise):
    result = runner.invoke(args=["domain", "add", "tobacco", "烟草专卖", "--aliases", "烟草,烟草局"])
    assert result.exit_code == 0 and "已添加领域17：烟草专卖（tobacco）" in result.stdout
    assert [d.code for d in Domain.ordered()][-1] == "tobacco"
    assert Domain.lookup()["烟草局"].code == "tobacco"
    assert "17\ttobacco\t烟草专卖\t烟草,烟草局" in runner.invoke(args=["domain", "list"]).stdout

    guide = client.get("/guide").get_data(as_text=True)
    assert "覆盖领域（17 个）" in guide and "烟草专卖" in guide

    owner = bot_chat("o-domain-owner")
    enterprise = bot_enterprise("黑河市烟草零售有限公司")
    Binding.create(user=owner.user(), enterprise=enterprise)
    assert "17. 烟草专卖" in owner.say("申请报告")
    owner.say("全部")
    owner.say("近1年")
    assert "全部（17个领域）" in owner.say("6")
    owner.say("确认")
    request = ReportRequest.get()
    assert request.domains[-1] == "tobacco"
    data = snapshot.freeze(request, rules.get_rule_set("heihe-2024"), HEADER, today=dt.date.today()).data
    tobacco = data["domains"][-1]
    assert tobacco["name"] == "烟草专卖" and tobacco["statement"] == (
        "该领域数据未归集，本报告不能证明该主体在烟草专卖领域有无违法记录。")  # nobody sends it yet


def test_a_taken_code_name_or_alias_is_refused(runner):
    for args, needle in ((["market", "另一个"], "“market”已被领域“市场监管”使用"),
                         (["newone", "市场监管"], "“市场监管”已被领域“市场监管”使用"),
                         (["newone", "新领域", "--aliases", "市监"], "“市监”已被领域“市场监管”使用")):
        result = runner.invoke(args=["domain", "add", *args])
        assert result.exit_code == 1 and needle in result.stderr
    assert Domain.select().count() == 16
