"""GET /guide: the published 办事指南."""

import re

from models.tables.registry import Domain


def test_guide_lists_domains_validity_and_how_to_apply_check_and_object(client, app):
    app.config["GUIDE_CONTACT"] = "咨询电话：0456-0000000（工作日）"
    response = client.get("/guide")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    names = re.findall(r"<li>([^<]+)</li>", html.split('id="domains"')[1].split("</ol>")[0])
    assert names == [d.name for d in Domain.ordered()] and len(names) == 16
    for expected in ("有无违法记录证明", "简易程序", "绑定企业", "申请报告", "用于银行贷款", "30 天内有效", "已撤销",
                     "数据已更正", "/verify", "/static/verify_report.py", "/keys", "异议申诉", "信用修复",
                     "咨询电话：0456-0000000（工作日）", "黑河市社会信用体系建设领导小组办公室"):
        assert expected in html, expected
    assert "<script" not in html and "http" not in html.split("<body>")[1]
    assert '<meta name="robots" content="index, follow">' in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "X-Robots-Tag" not in response.headers


def test_guide_follows_configuration_and_the_domain_table(client, app):
    app.config["REPORT_VALID_DAYS"] = 60
    Domain.update(active=False).where(Domain.code == "landscaping").execute()
    Domain.create(code="tax_credit", name="税务信用", position=17)
    html = client.get("/guide").get_data(as_text=True)
    assert "60 天内有效" in html and "覆盖领域（16 个）" in html
    assert "税务信用" in html and "园林绿化" not in html
