"""Which WeCom group-robot webhooks a department's robot URL entered in the staff console may name.

Only `https://<a WeCom host>/cgi-bin/webhook/send?key=…` on the hosts of WECOM_ROBOT_HOSTS (qyapi.weixin.qq.com):
the worker posts every new case there, so an address of the staff member's choosing (an internal service, a
metadata endpoint, a host of theirs) would make the worker call it. WECOM_ROBOT_URL, set by the operator, is trusted
as given and never passes through here (docs/WECHAT.md §3).
"""

from urllib.parse import parse_qs, urlsplit

ROBOT_PATH = "/cgi-bin/webhook/send"
MAX_LENGTH = 500


def robot_url_problem(url, hosts):
    """None when `url` is a robot webhook on one of `hosts`; otherwise the Chinese sentence saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "机器人地址格式不正确。"
    if len(url) > MAX_LENGTH or parts.scheme != "https" or parts.username or parts.password:
        return "机器人地址应为 https:// 开头的企业微信群机器人 Webhook 地址。"
    if (parts.hostname or "").lower() not in hosts or port not in (None, 443):
        return f"机器人地址只能指向企业微信（{'、'.join(hosts)}）。"
    if parts.path != ROBOT_PATH or not parse_qs(parts.query).get("key") or parts.fragment:
        return f"机器人地址应形如 https://{hosts[0]}{ROBOT_PATH}?key=…"
    return None
