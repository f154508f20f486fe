"""The WeChat gateway against the WeChat double over HTTP: shared token, bounded retries, typed errors."""

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests

from bot.menu import menu_definition
from jobs.gateways.wechat import (
    Busy,
    InvalidMedia,
    NotFollowing,
    OutOfWindow,
    QuotaExceeded,
    RateLimited,
    TokenInvalid,
    WeChatAPI,
    WeChatAPIError,
)

FAST = (0.01, 0.02, 0.03)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def control(double, path, **body):
    response = requests.post(f"{double.base_url}/_double/{path}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def stats(double):
    return requests.get(f"{double.base_url}/_double/stats", timeout=5).json()


def inbox(double, openid):
    return requests.get(f"{double.base_url}/_double/sent", params={"openid": openid}, timeout=5).json()


@pytest.fixture
def api(wechat_double, rt):
    return WeChatAPI(rt.config, rt.redis, busy_backoff=FAST)


def test_token_is_fetched_from_the_configured_base_and_shared_across_processes(wechat_double, rt, redis_url, api):
    other = WeChatAPI(rt.config, redis.Redis.from_url(redis_url), busy_backoff=FAST)  # another process's gateway
    control(wechat_double, "interaction", openid="o_1", kind="message")
    api.send_text("o_1", "第一条")
    other.send_text("o_1", "第二条")
    assert stats(wechat_double)["stable_token"] == 1 and "token" not in stats(wechat_double)  # never GET cgi-bin/token
    assert [m["text"] for m in inbox(wechat_double, "o_1")] == ["第一条", "第二条"]


def test_concurrent_first_use_fetches_one_token(wechat_double, rt, redis_url):
    gateways = [WeChatAPI(rt.config, redis.Redis.from_url(redis_url)) for _ in range(8)]
    barrier = threading.Barrier(len(gateways))
    tokens = []

    def first_use(gateway):
        barrier.wait()
        tokens.append(gateway.token())

    threads = [threading.Thread(target=first_use, args=(g,)) for g in gateways]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert stats(wechat_double)["stable_token"] == 1


def test_busy_is_retried_with_backoff(wechat_double, api):
    control(wechat_double, "interaction", openid="o_1")
    control(wechat_double, "fail", api="message/custom/send", errcode=-1, times=2)
    api.send_text("o_1", "繁忙后成功")
    assert stats(wechat_double)["message/custom/send"] == 3
    assert len(inbox(wechat_double, "o_1")) == 1


def test_busy_for_ever_is_bounded(wechat_double, api):
    control(wechat_double, "interaction", openid="o_1")
    control(wechat_double, "fail", api="message/custom/send", errcode=-1, times=100)
    with pytest.raises(Busy) as caught:
        api.send_text("o_1", "x")
    assert caught.value.errcode == -1
    assert stats(wechat_double)["message/custom/send"] == len(FAST) + 1
    assert inbox(wechat_double, "o_1") == []


def test_expired_token_is_refreshed_once(wechat_double, api):
    control(wechat_double, "interaction", openid="o_1")
    api.send_text("o_1", "一")
    control(wechat_double, "expire_tokens")
    api.send_text("o_1", "二")
    counts = stats(wechat_double)
    assert counts["stable_token"] == 2
    assert counts["message/custom/send"] == 3  # one refused with 42001, then the retry
    assert len(inbox(wechat_double, "o_1")) == 2


def test_token_error_once_then_success(wechat_double, api):
    control(wechat_double, "interaction", openid="o_1")
    control(wechat_double, "fail", api="message/custom/send", errcode=40001, times=1)
    api.send_text("o_1", "x")
    assert stats(wechat_double)["stable_token"] == 2
    assert len(inbox(wechat_double, "o_1")) == 1


def test_token_error_for_ever_fails_after_one_refresh(wechat_double, api):
    control(wechat_double, "interaction", openid="o_1")
    control(wechat_double, "fail", api="message/custom/send", errcode=40001, times=10_000)
    with pytest.raises(TokenInvalid) as caught:
        api.send_text("o_1", "x")
    assert caught.value.errcode == 40001
    counts = stats(wechat_double)
    assert counts["message/custom/send"] == 2
    assert counts["stable_token"] == 2


def test_window_and_quota_errors_are_typed(wechat_double, api):
    with pytest.raises(OutOfWindow):
        api.send_text("o_silent", "x")
    control(wechat_double, "interaction", openid="o_1", kind="message")
    for i in range(5):
        api.send_text("o_1", f"第{i}条")
    with pytest.raises(QuotaExceeded) as caught:
        api.send_text("o_1", "第六条")
    assert caught.value.errcode == 45047
    control(wechat_double, "user", openid="o_1", following=False)
    with pytest.raises(NotFollowing):
        api.send_text("o_1", "x")
    control(wechat_double, "fail", api="message/custom/send", errcode=45009, times=1)
    with pytest.raises(RateLimited):
        api.send_text("o_1", "x")


def test_event_window_allows_three_in_a_minute(wechat_double, api):
    control(wechat_double, "interaction", openid="o_ev", kind="event")
    for i in range(3):
        api.send_text("o_ev", str(i))
    with pytest.raises(QuotaExceeded):
        api.send_text("o_ev", "4")
    control(wechat_double, "clock", advance=61)
    with pytest.raises(OutOfWindow):
        api.send_text("o_ev", "5")


def test_upload_image_and_get_media_round_trip(wechat_double, api):
    media_id = api.upload_image(PNG)
    content, kind = api.get_media(media_id)
    assert content == PNG
    assert kind == "image/png"
    control(wechat_double, "interaction", openid="o_1")
    api.send_image("o_1", media_id)
    assert inbox(wechat_double, "o_1")[0]["media_id"] == media_id
    with pytest.raises(InvalidMedia):
        api.get_media("no-such-media")


def test_user_sent_media_can_be_fetched(wechat_double, api):
    media_id = requests.post(f"{wechat_double.base_url}/_double/media", data=b"\xff\xd8\xffJPEG",
                             headers={"Content-Type": "image/jpeg"}, timeout=5).json()["media_id"]
    assert api.get_media(media_id) == (b"\xff\xd8\xffJPEG", "image/jpeg")


def test_template_message(wechat_double, api):
    api.send_template("o_t", "tpl-1", {"thing1": "异议申诉结果", "time2": "2026-11-27 09:30"}, url="http://hegui.test/x")
    sent = inbox(wechat_double, "o_t")
    assert sent[0]["kind"] == "template"
    assert sent[0]["data"]["thing1"] == {"value": "异议申诉结果"}
    assert sent[0]["url"] == "http://hegui.test/x"
    with pytest.raises(WeChatAPIError) as caught:
        api.send_template("o_t", "tpl-1", {"thing1": "超" * 21})
    assert caught.value.errcode == 47003


def test_create_menu(wechat_double, api):
    body = menu_definition("http://hegui.test")
    api.create_menu(body)
    published = requests.get(f"{wechat_double.base_url}/cgi-bin/menu/get",
                             params={"access_token": api.token()}, timeout=5).json()
    assert published["menu"] == body
    with pytest.raises(WeChatAPIError) as caught:
        api.create_menu({"button": [{"type": "click", "name": str(i), "key": f"K{i}"} for i in range(4)]})
    assert caught.value.errcode == 40016


def test_oauth_authorize_url_defaults_to_wechat(rt):
    config = {**rt.config, "WECHAT_OAUTH_BASE": None, "WECHAT_APPID": "wxAPP"}
    url = WeChatAPI(config, rt.redis).oauth_authorize_url("http://hegui.test/v/abc?x=1", "st8")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "open.weixin.qq.com", "/connect/oauth2/authorize")
    assert parts.fragment == "wechat_redirect"
    assert parse_qs(parts.query) == {"appid": ["wxAPP"], "redirect_uri": ["http://hegui.test/v/abc?x=1"],
                                     "response_type": ["code"], "scope": ["snsapi_base"], "state": ["st8"]}
    assert list(parse_qs(parts.query)) == ["appid", "redirect_uri", "response_type", "scope", "state"]


def test_oauth_round_trip_through_the_double(wechat_double, api):
    url = api.oauth_authorize_url("http://hegui.test/v/tok", "s1")
    assert url.startswith(wechat_double.base_url + "/connect/oauth2/authorize?")
    browser = requests.get(url.split("#")[0] + "&openid=o_web", allow_redirects=False, timeout=5)
    assert browser.status_code == 302
    back = urlsplit(browser.headers["Location"])
    query = parse_qs(back.query)
    assert back.path == "/v/tok" and query["state"] == ["s1"]
    assert api.oauth_exchange(query["code"][0]) == "o_web"
    with pytest.raises(WeChatAPIError) as caught:
        api.oauth_exchange(query["code"][0])  # codes are single-use
    assert caught.value.errcode == 40163


def test_unreachable_api_raises_the_network_error(rt):
    config = {**rt.config, "WECHAT_API_BASE": "http://127.0.0.1:9/cgi-bin/"}
    with pytest.raises(requests.ConnectionError):
        WeChatAPI(config, rt.redis).send_text("o_1", "x")
