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


def stable(double, force=False, **body):
    payload = {"grant_type": "client_credential", "appid": "a", "secret": "s", "force_refresh": force, **body}
    return post(double, "/cgi-bin/stable_token", payload).json()


def test_stable_token_is_post_json_and_the_same_while_it_lasts(wechat_double):
    """docs/WECHAT.md §2.1 (issue 13, item 16): POST JSON only; normal mode answers the token in force."""
    first = stable(wechat_double)
    assert first["expires_in"] == 7200 and stable(wechat_double)["access_token"] == first["access_token"]
    as_form = requests.post(f"{wechat_double.base_url}/cgi-bin/stable_token", timeout=5,
                            data={"grant_type": "client_credential", "appid": "a", "secret": "s"}).json()
    assert as_form["errcode"] == 47001
    assert get(wechat_double, "/cgi-bin/stable_token").status_code == 405
    new_token(wechat_double)  # the old endpoint's tokens are apart: the stable one is untouched
    post(wechat_double, "/_double/clock", {"advance": TOKEN_OVERLAP + 1})
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=first["access_token"]).json()["errcode"] == 46003


def test_stable_token_renews_in_its_last_five_minutes_and_a_forced_refresh_kills_the_old(wechat_double):
    first = stable(wechat_double)["access_token"]
    post(wechat_double, "/_double/clock", {"advance": 7200 - TOKEN_OVERLAP + 10})
    renewed = stable(wechat_double)
    assert renewed["access_token"] != first and renewed["expires_in"] == 7200
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=first).json()["errcode"] == 46003  # the overlap
    forced = stable(wechat_double, force=True)["access_token"]
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=renewed["access_token"]).json()["errcode"] == 42001
    assert get(wechat_double, "/cgi-bin/menu/get", access_token=forced).json()["errcode"] == 46003
    assert stable(wechat_double, force=True)["errcode"] == 45011  # forced refreshes at least 30 s apart


def send(double, openid, token):
    body = {"touser": openid, "msgtype": "text", "text": {"content": "x"}}
    return post(double, "/cgi-bin/message/custom/send", body, access_token=token).json()["errcode"]


def test_a_click_follow_or_scan_opens_three_messages_for_one_minute_only(wechat_double):
    """docs/WECHAT.md §2.3 (issue 13, item 13)."""
    token = stable(wechat_double)["access_token"]
    post(wechat_double, "/_double/interaction", {"openid": "o_c", "kind": "event", "event": "CLICK"})
    assert [send(wechat_double, "o_c", token) for _ in range(4)] == [0, 0, 0, 45047]
    post(wechat_double, "/_double/interaction", {"openid": "o_s", "kind": "event", "event": "subscribe"})
    post(wechat_double, "/_double/clock", {"advance": 61})
    assert send(wechat_double, "o_s", stable(wechat_double)["access_token"]) == 45015
    for event in ("VIEW", "LOCATION", "TEMPLATESENDJOBFINISH"):
        post(wechat_double, "/_double/interaction", {"openid": "o_v", "kind": "event", "event": event})
    assert send(wechat_double, "o_v", stable(wechat_double)["access_token"]) == 45015


def test_a_message_opens_five_for_48_hours(wechat_double):
    token = stable(wechat_double)["access_token"]
    post(wechat_double, "/_double/interaction", {"openid": "o_m", "kind": "message"})
    assert [send(wechat_double, "o_m", token) for _ in range(6)] == [0, 0, 0, 0, 0, 45047]


def template(double, data, token):
    body = {"touser": "o_t", "template_id": "tpl", "data": {k: {"value": v} for k, v in data.items()}}
    return post(double, "/cgi-bin/message/template/send", body, access_token=token).json()


def test_template_fields_are_checked_by_type_and_first_and_remark_never_arrive(wechat_double):
    """docs/WECHAT.md §2.4 (issue 13, item 12)."""
    token = stable(wechat_double)["access_token"]
    ok = {"first": "您的异议申诉已办结", "thing1": "异议申诉", "character_string2": "YY-20261127-0001",
          "phrase3": "已办结", "time4": "2026-11-27 09:30", "date5": "2026-11-27", "number6": "3",
          "phone_number7": "138****1111", "amount8": "¥1200.00", "remark": "请查看"}
    assert template(wechat_double, ok, token)["errcode"] == 0
    [delivered] = get(wechat_double, "/_double/sent", openid="o_t").json()
    assert "first" not in delivered["data"] and "remark" not in delivered["data"]
    assert delivered["data"]["thing1"] == {"value": "异议申诉"}
    for bad in ({"thing1": "长" * 21}, {"thing1": "两\n行"}, {"character_string1": "YY-中文"},
                {"character_string1": "x" * 33}, {"phrase1": "已办结了吗呀"}, {"phrase1": "done"},
                {"time1": "2026-11-27"}, {"number1": "三"}, {"keyword1": "旧模板的字段"}, {"thing1": ""}):
        assert template(wechat_double, bad, token)["errcode"] == 47003, bad
    assert len(get(wechat_double, "/_double/sent", openid="o_t").json()) == 1
