"""Binary content every node can serve: evidence photos, binding documents, QR images waiting to be sent."""

from peewee import BlobField, CharField, DateTimeField

from models.base import BaseModel, utcnow

MEDIA_PREFIX = "wechat-media:"  # the filename of a photo fetched (or still to fetch) from WeChat's temporary media


class StoredBlob(BaseModel):
    """Binary content every node can serve (evidence photos, uploaded documents)."""

    mime = CharField(max_length=80)
    filename = CharField(max_length=255, default="")
    content = BlobField()
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def find(cls, blob_id):
        """The blob with this id, or None."""
        return cls.get_or_none(cls.id == blob_id)

    @classmethod
    def load(cls, blob_id):
        """The blob with this id (DoesNotExist when there is none)."""
        return cls.get_by_id(blob_id)

    @classmethod
    def media_placeholder(cls, media_id):
        """An empty blob standing for the WeChat photo `media_id` until jobs/media.py fetches it."""
        return cls.create(mime="application/octet-stream", filename=MEDIA_PREFIX + media_id, content=b"")

    @classmethod
    def store_media(cls, media_id, content, mime):
        """The fetched WeChat photo `media_id` as a new blob."""
        return cls.create(mime=mime, filename=MEDIA_PREFIX + media_id, content=content)

    def fill(self, content, mime):
        """Fill a placeholder with the photo fetched for it."""
        StoredBlob.update(content=content, mime=mime).where(StoredBlob.id == self.id).execute()
        self.content, self.mime = content, mime
