"""The WeCom group robot gateway: one markdown message to a webhook URL, typed errors, no retry (the outbox decides).

`POST …/cgi-bin/webhook/send?key=KEY` with `{"msgtype": "markdown", "markdown": {"content": …}}`; errcode 0 is
success (docs/WECHAT.md, WeCom robot).
"""

import requests


class WecomError(RuntimeError):
    """The robot answered an error code (or no usable answer)."""

    def __init__(self, errcode, errmsg):
        super().__init__(f"WeCom robot error {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


def send_markdown(url, content, timeout=10):
    """POST one markdown message; raise WecomError on an error code, requests' exceptions on network failure."""
    response = requests.post(url, json={"msgtype": "markdown", "markdown": {"content": content}}, timeout=timeout)
    response.raise_for_status()
    try:
        answer = response.json()
    except ValueError as exc:
        raise WecomError(-2, "answer is not JSON") from exc
    if answer.get("errcode") != 0:
        raise WecomError(answer.get("errcode"), answer.get("errmsg", ""))
    return answer
