"""models.policy.robots: a robot URL entered in the staff console names a WeCom robot and nothing else."""

import pytest

from models.policy.robots import robot_url_problem

HOSTS = ("qyapi.weixin.qq.com",)
GOOD = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def test_a_wecom_robot_webhook_is_accepted():
    assert robot_url_problem(GOOD, HOSTS) is None
    assert robot_url_problem(GOOD.replace("qyapi.weixin.qq.com", "QYAPI.weixin.qq.com"), HOSTS) is None


@pytest.mark.parametrize("url", [
    "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",  # not https
    "https://127.0.0.1:6379/cgi-bin/webhook/send?key=k",  # Redis on the worker's own host
    "https://169.254.169.254/cgi-bin/webhook/send?key=k",  # a cloud metadata endpoint
    "https://10.0.0.8/cgi-bin/webhook/send?key=k",
    "https://localhost/cgi-bin/webhook/send?key=k",
    "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k",
    "https://qyapi.weixin.qq.com@evil.example/cgi-bin/webhook/send?key=k",  # the host is evil.example
    "https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=k",
    "https://qyapi.weixin.qq.com/cgi-bin/other?key=k",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",  # no key
    "https://[::1]/cgi-bin/webhook/send?key=k",
    "https://qyapi.weixin.qq.com:99999/cgi-bin/webhook/send?key=k",  # an impossible port
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + "k" * 500,
])
def test_anything_else_is_refused_with_a_reason(url):
    assert robot_url_problem(url, HOSTS)


def test_the_hosts_are_configurable():
    private = "https://wecom.gov.example/cgi-bin/webhook/send?key=k"
    assert robot_url_problem(private, HOSTS)
    assert robot_url_problem(private, HOSTS + ("wecom.gov.example",)) is None
