"""models/tables/blobs.py: a WeChat photo's placeholder, stored and filled under its media id."""

from models.tables.blobs import MEDIA_PREFIX, StoredBlob


def test_a_placeholder_is_empty_until_filled(app):
    blob = StoredBlob.media_placeholder("m-1")
    assert (blob.filename, bytes(blob.content)) == (f"{MEDIA_PREFIX}m-1", b"")
    blob.fill(b"\xff\xd8jpeg", "image/jpeg")
    stored = StoredBlob.find(blob.id)
    assert (bytes(stored.content), stored.mime) == (b"\xff\xd8jpeg", "image/jpeg")


def test_store_media_and_find(app):
    blob = StoredBlob.store_media("m-2", b"png", "image/png")
    assert StoredBlob.find(blob.id).filename == f"{MEDIA_PREFIX}m-2"
    assert StoredBlob.find(blob.id + 1000) is None
