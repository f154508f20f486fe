"""`flask menu push` against the WeChat double."""

import requests

from bot.menu import menu_definition


def published(double):
    token = requests.get(f"{double.base_url}/cgi-bin/token",
                         params={"grant_type": "client_credential", "appid": "x", "secret": "y"}, timeout=5)
    return requests.get(f"{double.base_url}/cgi-bin/menu/get",
                        params={"access_token": token.json()["access_token"]}, timeout=5).json()


def test_menu_push_publishes_the_menu(wechat_double, runner):
    result = runner.invoke(args=["menu", "push"])
    assert result.exit_code == 0, result.output
    assert "menu published" in result.output and "申请报告" in result.output
    assert published(wechat_double)["menu"] == menu_definition("http://hegui.test")


def test_menu_push_reports_a_wechat_error(wechat_double, runner):
    requests.post(f"{wechat_double.base_url}/_double/fail", json={"api": "menu/create", "errcode": 40018}, timeout=5)
    result = runner.invoke(args=["menu", "push"])
    assert result.exit_code == 1
    assert "menu push failed" in result.output and "40018" in result.output
    assert published(wechat_double)["errcode"] == 46003  # nothing published


def test_menu_push_reports_an_unreachable_api(app, runner):
    app.config["WECHAT_API_BASE"] = "http://127.0.0.1:9/cgi-bin/"
    result = runner.invoke(args=["menu", "push"])
    assert result.exit_code == 1
    assert "cannot reach the WeChat API" in result.output
