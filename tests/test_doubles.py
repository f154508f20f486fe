"""The doubles behave like the originals where the project relies on it (docs/WECHAT.md)."""

import requests

from devtools.wechat_double import TOKEN_OVERLAP


def get(double, path, **params):
    return requests.get(f"{double.base_url}{path}", params=params, timeout=5)


def post(double, path, json=None, **params):
    return requests.post(f"{double.base_url}{path}", params=params, json=json, timeout=5)


def new_token(double):
    return get(double, "/cgi-bin/token", grant_type="client_credential", appid="a", secret="s").json()["access_token"]


def test_a_new_token_retires_the_old_after_the_overlap(wechat_double):
    old = new_token(wechat_double)
    fresh = new_token(wechat_double)
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=old).json()["errcode"] == 46003  # still valid
    post(wechat_double, "/_double/clock", {"advance": TOKEN_OVERLAP + 1})
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=old).json()["errcode"] == 42001
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=fresh).json()["errcode"] == 46003
    assert get(wechat_double, "/cgi-bin/menu/get", access_token="forged").json()["errcode"] == 40001


def test_tokens_expire_on_demand_and_after_two_hours(wechat_double):
    token = new_token(wechat_double)
    post(wechat_double, "/_double/expire_tokens")
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=token).json()["errcode"] == 42001
    later = new_token(wechat_double)
    post(wechat_double, "/_double/clock", {"advance": 7201})
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=later).json()["errcode"] == 42001


def test_customer_service_window_of_48_hours(wechat_double):
    token = new_token(wechat_double)
    body = {"touser": "o_1", "msgtype": "text", "text": {"content": "x"}}
    post(wechat_double, "/_double/interaction", {"openid": "o_1", "kind": "message"})
    assert post(wechat_double, "/cgi-bin/message/custom/send", body, access_token=token).json()["errcode"] == 0
    post(wechat_double, "/_double/clock", {"advance": 48 * 3600 + 1})
    token = new_token(wechat_double)
    assert post(wechat_double, "/cgi-bin/message/custom/send", body, access_token=token).json()["errcode"] == 45015
    assert len(get(wechat_double, "/_double/sent", openid="o_1").json()) == 1


def test_oauth_asks_who_is_browsing_when_it_cannot_tell(wechat_double):
    page = get(wechat_double, "/connect/oauth2/authorize", appid="a", redirect_uri="http://x/cb",
               response_type="code", scope="snsapi_base", state="s")
    assert page.status_code == 200 and 'name="openid"' in page.text
    assert get(wechat_double, "/sns/oauth2/access_token", code="made-up").json()["errcode"] == 40029


def test_injected_faults_are_consumed_in_order(wechat_double):
    post(wechat_double, "/_double/fail", {"api": "token", "errcode": -1, "times": 1})
    assert get(wechat_double, "/cgi-bin/token", grant_type="client_credential").json()["errcode"] == -1
    assert "access_token" in get(wechat_double, "/cgi-bin/token", grant_type="client_credential").json()
    post(wechat_double, "/_double/reset")
    assert get(wechat_double, "/_double/stats").json() == {}


def test_sms_double_lists_and_validates(sms_double):
    assert post(sms_double, "/send", {"mobile": "13800000000", "text": "hi"}).status_code == 200
    assert post(sms_double, "/send", {"mobile": "138", "text": "hi"}).status_code == 400
    assert [m["mobile"] for m in get(sms_double, "/_double/sms").json()] == ["13800000000"]
