import datetime as dt

import requests

from jobs import media
from models.base import local_today
from models.tables.accounts import BindingReview
from models.tables.blobs import StoredBlob
from models.tables.cases import Case, CaseEvent, CaseEvidence

JPEG = b"\xff\xd8\xff\xe0" + b"photo" * 50


def put_media(double, content=JPEG, mime="image/jpeg"):
    """A photo as if the user had sent it to the account: WeChat now holds it under a media_id."""
    res = requests.post(double.base_url + "/_double/media", data=content, headers={"Content-Type": mime}, timeout=5)
    return res.json()["media_id"]


def test_binding_review_photos_are_fetched_once(wechat_double, bot_chat, bot_enterprise, rt, drain):
    licence, letter = put_media(wechat_double), put_media(wechat_double, b"\x89PNG-letter", "image/png")
    owner = bot_chat("o-media-owner")
    enterprise = bot_enterprise(mobile="")
    owner.say("绑定企业")
    owner.say(enterprise.uscc)
    owner.image(licence)
    owner.say("完成")
    owner.image(letter)
    owner.image("gone-media-id")
    owner.say("完成")
    owner.say("确认")
    assert drain() == 0
    review = BindingReview.get()
    items = {item["media_id"]: item for item in review.media}
    assert items["gone-media-id"]["error"] == media.MEDIA_GONE
    assert bytes(StoredBlob.get_by_id(items[licence]["blob_id"]).content) == JPEG
    letter_blob = StoredBlob.get_by_id(items[letter]["blob_id"])
    assert (bytes(letter_blob.content), letter_blob.mime) == (b"\x89PNG-letter", "image/png")
    assert media.fetch_binding_media(review.id) == 0


def test_case_evidence_fills_the_placeholders(wechat_double, bot_chat, case_world, rt, drain):
    photo = put_media(wechat_double)
    case_world.record(decided_on=local_today() - dt.timedelta(days=30))
    owner = bot_chat(case_world.user.openid)
    owner.say("异议申诉")
    owner.say("1")
    owner.say("处罚对象有误，应为同名企业")
    owner.image(photo)
    owner.image("gone-media-id")
    owner.say("完成")
    owner.say("确认")
    assert drain() == 0
    case = Case.get()
    blobs = {e.blob.filename: e.blob for e in CaseEvidence.select().where(CaseEvidence.case == case)}
    assert bytes(blobs[f"wechat-media:{photo}"].content) == JPEG
    assert blobs[f"wechat-media:{photo}"].mime == "image/jpeg"
    assert bytes(blobs["wechat-media:gone-media-id"].content) == b""
    assert CaseEvent.select().where((CaseEvent.case == case) & (CaseEvent.action == "evidence_missing")).count() == 1
    assert media.fetch_case_evidence(case.id, [photo]) == 0
