"""What the bot receives: one inbound WeChat message or event, authenticated by the webhook, parsed by bot/codec.py."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Incoming:
    openid: str
    kind: str  # text / voice / image / event / other
    msg_key: str  # the dedup key: MsgId for messages; "<openid>:<CreateTime>:<event>[:<EventKey>]" for events (codec)
    create_time: int = 0
    text: str | None = None  # Content, or a voice message's Recognition
    event: str | None = None  # subscribe / unsubscribe / CLICK / SCAN / VIEW …, lower-cased
    event_key: str | None = None  # CLICK key; qrscene_<scene>; SCAN scene
    media_id: str | None = None  # image / voice media
    raw_type: str = ""  # the original MsgType, for the "I can't read that" answer
