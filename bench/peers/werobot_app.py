"""WeRoBot 1.13, the peer: the same Token, EncodingAESKey and AppID as ours, a text reply to every text message.

    gunicorn 'bench.peers.werobot_app:create("none")'     # no state
    gunicorn 'bench.peers.werobot_app:create("redis")'    # per-user state in Redis (WeRoBot's RedisStorage session)

Settings from BENCH_WECHAT_TOKEN, BENCH_WECHAT_AES_KEY, BENCH_WECHAT_APPID and BENCH_REDIS_URL. With a session the
handler reads and updates the sender's session (a message counter and the last text) like a bot that keeps state.
"""

import os

import redis
import werobot
from werobot.session.redisstorage import RedisStorage

REPLY = "您好，已收到您的消息。发送“帮助”查看可以办理的事项。"


def create(session="none"):
    """The WSGI app of a WeRoBot robot; `session` is "none" or "redis"."""
    robot = werobot.WeRoBot(token=os.environ["BENCH_WECHAT_TOKEN"],
                            encoding_aes_key=os.environ["BENCH_WECHAT_AES_KEY"],
                            app_id=os.environ["BENCH_WECHAT_APPID"])
    if session == "redis":
        client = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
        robot.config["SESSION_STORAGE"] = RedisStorage(client, prefix="werobot:")

        @robot.text
        def stateful(message, state):
            state["messages"] = state.get("messages", 0) + 1
            state["last"] = message.content
            return REPLY
    else:
        robot.config["SESSION_STORAGE"] = False

        @robot.text
        def stateless(message):
            return REPLY
    return robot.wsgi
