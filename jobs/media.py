"""Fetching photos the owner sent in the chat (WeChat temporary media, kept 3 days) into StoredBlob.

Binding reviews list their media in `BindingReview.media`; each item gains a `blob_id` once fetched (or an `error`
when WeChat no longer has it). Case evidence is opened with placeholder blobs named `wechat-media:<media_id>` whose
content is filled here. Both jobs are safe to run again: what is fetched is not fetched twice.
"""

import logging

from rq import Retry

from jobs.gateways.wechat import InvalidMedia, WeChatAPI
from models.tables.accounts import BindingReview
from models.tables.blobs import StoredBlob
from models.tables.cases import CaseEvent, CaseEvidence

logger = logging.getLogger(__name__)

RETRY = [10, 60, 300]
MEDIA_GONE = "微信临时素材已失效，无法获取"


def enqueue_binding_media(rt, review_id):
    """Queue fetching a binding review's photos (one job per review)."""
    return rt.queue.enqueue(fetch_binding_media, review_id, job_id=f"binding-media-{review_id}",
                            retry=Retry(max=len(RETRY), interval=RETRY))


def enqueue_case_evidence(rt, case_id, media_ids):
    """Queue fetching a case's photos into its placeholder blobs (one job per case)."""
    return rt.queue.enqueue(fetch_case_evidence, case_id, list(media_ids), job_id=f"case-media-{case_id}",
                            retry=Retry(max=len(RETRY), interval=RETRY))


def placeholder_blob(media_id):
    """An empty StoredBlob standing for a photo not fetched yet."""
    return StoredBlob.media_placeholder(media_id)


def fetch_binding_media(review_id):
    """Download each photo of BindingReview `review_id` not yet stored; return how many were stored."""
    api = WeChatAPI.from_runtime()
    review = BindingReview.load(review_id)
    stored = 0
    for item in review.media:
        if item.get("blob_id") or item.get("error"):
            continue
        try:
            content, mime = api.get_media(item["media_id"])
        except InvalidMedia:
            logger.warning("binding review %s: media %s is gone", review_id, item["media_id"])
            item["error"] = MEDIA_GONE
        else:
            item["blob_id"] = StoredBlob.store_media(item["media_id"], content, mime).id
            stored += 1
        review.save_media()
    return stored


def fetch_case_evidence(case_id, media_ids):
    """Fill the placeholder blobs of case `case_id` for `media_ids`; return how many were filled."""
    api = WeChatAPI.from_runtime()
    filled = 0
    for media_id in media_ids:
        blob = CaseEvidence.placeholder(case_id, media_id)
        if blob is None or blob.content:
            continue
        try:
            content, mime = api.get_media(media_id)
        except InvalidMedia:
            logger.warning("case %s: media %s is gone", case_id, media_id)
            CaseEvent.note_once(case_id, "system", "evidence_missing", f"{MEDIA_GONE}（{media_id}）")
            continue
        blob.fill(content, mime)
        filled += 1
    return filled
