"""models/tables/accounts.py: binding reviews for the office's list and their documents, the audit log's latest
entries, a verifier's remembered unit."""

from models.tables.accounts import (
    REVIEW_APPROVED,
    REVIEW_SUBMITTED,
    BindingReview,
    StaffAudit,
    WechatUser,
    remember_verifier_unit,
    verifier_unit_of,
)
from models.tables.blobs import StoredBlob


def test_reviews_waiting_come_first_and_their_documents_are_known(case_world):
    done = BindingReview.create(user=case_world.user, enterprise=case_world.enterprise, status=REVIEW_APPROVED)
    licence = StoredBlob.store_media("m-lic", b"jpg", "image/jpeg")
    waiting = BindingReview.create(user=case_world.user, enterprise=case_world.enterprise,
                                   media=[{"media_id": "m-lic"}, {"media_id": "m-auth"}])
    assert [r.id for r in BindingReview.latest(10)] == [waiting.id, done.id]
    assert waiting.blob_ids() == {None} and not BindingReview.any_names_blob(licence.id)
    waiting.media[0]["blob_id"] = licence.id
    waiting.media[1]["error"] = "gone"
    waiting.save_media()
    again = BindingReview.find(waiting.id)
    assert again.blob_ids() == {licence.id, None} and again.media[1]["error"] == "gone"
    assert BindingReview.any_names_blob(licence.id) and again.status == REVIEW_SUBMITTED
    assert BindingReview.find(99999) is None


def test_the_audit_logs_latest_entries_newest_first(app):
    for n in range(3):
        StaffAudit.create(action=f"a{n}")
    assert [e.action for e in StaffAudit.latest(2)] == ["a2", "a1"]


def test_a_verifiers_unit_is_remembered_without_making_a_follower(app):
    assert verifier_unit_of("o-verifier") is None
    remember_verifier_unit("o-verifier", "黑河农商银行")
    remember_verifier_unit("o-verifier", "黑河农村商业银行")
    assert verifier_unit_of("o-verifier") == "黑河农村商业银行"
    assert WechatUser.get(WechatUser.openid == "o-verifier").subscribed is False


def test_a_user_rebuilt_from_its_columns_is_the_stored_row_and_nothing_dirty(app):
    stored = WechatUser.create(openid="o_columns")
    again = WechatUser.from_columns(stored.columns())
    assert again.columns() == stored.columns() and not again.dirty_fields
    assert again.columns(("id", "openid")) == {"id": stored.id, "openid": "o_columns"}
