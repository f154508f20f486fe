"""The one gateway for outbound WeChat official-account calls: shared token, bounded retries, typed errors.

Built on wechatpy's WeChatClient with three overrides: the token lives in Redis (shared by every web and worker
process, refreshed under a Redis lock by one of them) and comes from `POST {WECHAT_API_BASE}stable_token` (WeChat's
recommendation; wechatpy 1.8.18 hard-codes `GET api.weixin.qq.com/cgi-bin/token`), and wechatpy's own unbounded
`auto_retry` is off: retries are bounded here (docs/WECHAT.md §2.1, §2.2).
"""

import logging
import time
from urllib.parse import urlencode

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from runtime import current

logger = logging.getLogger(__name__)

TOKEN_ERRORS = (40001, 40014, 42001)
TOKEN_EARLY_REFRESH = 300  # renew this many seconds before WeChat's expiry
LOCK_TIMEOUT = 15
HTTP_CONNECT_TIMEOUT = 3.05  # the read timeout is WECHAT_HTTP_TIMEOUT (after it, WeChat may have acted)
WECHAT_API = "https://api.weixin.qq.com/"
WECHAT_OPEN = "https://open.weixin.qq.com"


class WeChatAPIError(Exception):
    """WeChat answered an error code (errcode None: an HTTP-level failure)."""

    def __init__(self, errcode, errmsg=""):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class Busy(WeChatAPIError):
    """-1: the system is busy, still so after the bounded retries."""


class TokenInvalid(WeChatAPIError):
    """40001 / 40014 / 42001 even after one refresh."""


class RateLimited(WeChatAPIError):
    """45009: the API's call quota is used up."""


class OutOfWindow(WeChatAPIError):
    """45015: the user has not interacted within the customer-service window."""


class QuotaExceeded(WeChatAPIError):
    """45047: too many customer-service messages since the user's last interaction."""


class NotFollowing(WeChatAPIError):
    """43004: the user does not follow the account."""


class InvalidMedia(WeChatAPIError):
    """40007: unknown or expired media_id."""


ERROR_TYPES = {-1: Busy, 45009: RateLimited, 45015: OutOfWindow, 45047: QuotaExceeded, 43004: NotFollowing,
               40007: InvalidMedia, **dict.fromkeys(TOKEN_ERRORS, TokenInvalid)}


def _typed(errcode, errmsg):
    """The typed exception for a WeChat error code."""
    return ERROR_TYPES.get(errcode, WeChatAPIError)(errcode, errmsg)


class _SharedTokenClient(WeChatClient):
    """wechatpy's client with the token read from the gateway (Redis) instead of instance memory."""

    def __init__(self, gateway, config):
        super().__init__(config["WECHAT_APPID"], config["WECHAT_SECRET"], timeout=gateway.timeout, auto_retry=False)
        self.API_BASE_URL = config["WECHAT_API_BASE"].rstrip("/") + "/"
        self.gateway = gateway
        self.last_token = None

    @property
    def access_token(self):
        self.last_token = self.gateway.token()
        return self.last_token

    def fetch_access_token(self):
        """POST {WECHAT_API_BASE}stable_token, JSON, normal mode: the token in force is returned while it lasts, and
        a forced refresh (which invalidates it for every process at once) is never asked for."""
        res = self._http.post(
            self.API_BASE_URL + "stable_token",
            json={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                  "force_refresh": False},
            timeout=self.gateway.timeout,
        )
        return self.gateway.decode(res)


class WeChatAPI:
    """Calls to the official-account API on behalf of every process; construct per use, it holds no state."""

    def __init__(self, config, redis, busy_backoff=None):
        """`busy_backoff`: seconds between tries on -1 (WECHAT_BUSY_BACKOFF unless given); len() + 1 tries in all."""
        self.config = config
        self.redis = redis
        self.busy_backoff = config["WECHAT_BUSY_BACKOFF"] if busy_backoff is None else busy_backoff
        self.timeout = (HTTP_CONNECT_TIMEOUT, config["WECHAT_HTTP_TIMEOUT"])
        self.client = _SharedTokenClient(self, config)
        self.token_key = f"wechat:access_token:{config['WECHAT_APPID']}"
        self.lock_key = f"wechat:access_token_lock:{config['WECHAT_APPID']}"

    @classmethod
    def from_runtime(cls, rt=None):
        """A gateway on the current process's Runtime."""
        rt = rt or current()
        return cls(rt.config, rt.redis)

    # -- the access token ---------------------------------------------------------------------------------------

    def token(self):
        """The shared access token, fetched (by one process at a time) when Redis has none."""
        cached = self.redis.get(self.token_key)
        return cached.decode() if cached else self.refresh_token(stale=None)

    def refresh_token(self, stale):
        """Fetch a new token under the Redis lock unless another process already replaced `stale`."""
        with self.redis.lock(self.lock_key, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_TIMEOUT):
            cached = self.redis.get(self.token_key)
            if cached and cached.decode() != stale:
                return cached.decode()
            result = self.client.fetch_access_token()
            ttl = max(int(result.get("expires_in", 7200)) - TOKEN_EARLY_REFRESH, 60)
            self.redis.set(self.token_key, result["access_token"], ex=ttl)
            logger.info("fetched a new WeChat access token (valid %ss)", ttl)
            return result["access_token"]

    # -- the call policy ----------------------------------------------------------------------------------------

    def decode(self, res):
        """JSON of a response, raising the typed error for a non-zero errcode or an HTTP failure."""
        if res.status_code >= 400:
            raise WeChatAPIError(None, f"HTTP {res.status_code}")
        try:
            result = res.json()
        except ValueError as exc:
            raise WeChatAPIError(None, "response is not JSON") from exc
        errcode = int(result.get("errcode", 0) or 0)
        if errcode:
            raise _typed(errcode, result.get("errmsg", ""))
        return result

    def call(self, fn):
        """Run `fn(client)` with bounded retries: -1 with back-off, a token error once after a refresh."""
        refreshed = False

        def attempt():
            nonlocal refreshed
            try:
                return self._once(fn)
            except TokenInvalid:
                if refreshed:
                    raise
                refreshed = True
                self.refresh_token(stale=self.client.last_token)
                return self._once(fn)

        return self._retry_busy(attempt)

    def _retry_busy(self, attempt):
        """Run `attempt()`, again after each back-off step while WeChat answers -1."""
        for delay in self.busy_backoff:
            try:
                return attempt()
            except Busy:
                logger.warning("WeChat busy (-1), retrying in %ss", delay)
                time.sleep(delay)
        return attempt()

    def _once(self, fn):
        """One call, wechatpy's exceptions turned into ours."""
        try:
            return fn(self.client)
        except WeChatClientException as exc:
            if exc.errcode is None:
                status = exc.response.status_code if exc.response is not None else "?"
                raise WeChatAPIError(None, f"HTTP {status}") from exc
            raise _typed(int(exc.errcode), exc.errmsg) from exc

    # -- the API the project uses -------------------------------------------------------------------------------

    def send_text(self, openid, text):
        """A customer-service text message."""
        return self.call(lambda c: c.message.send_text(openid, text))

    def send_image(self, openid, media_id):
        """A customer-service image message."""
        return self.call(lambda c: c.message.send_image(openid, media_id))

    def upload_image(self, png_bytes, filename="image.png"):
        """Upload a temporary image (PNG/JPEG, < 2 MB, lives 3 days); return its media_id."""
        result = self.call(lambda c: c.media.upload("image", (filename, png_bytes, "image/png")))
        return result["media_id"]

    def send_template(self, openid, template_id, data, url=None):
        """A category template message; `data` maps its typed keys (thing1, time2 …) to values that fit them."""
        payload = {key: {"value": value} for key, value in data.items()}
        return self.call(lambda c: c.message.send_template(openid, template_id, payload, url=url))

    def create_menu(self, body):
        """Publish the custom menu."""
        return self.call(lambda c: c.menu.create(body))

    def get_media(self, media_id):
        """Download temporary media: (bytes, content type)."""
        res = self.call(lambda c: c.media.download(media_id))
        if isinstance(res, dict):
            raise WeChatAPIError(None, "media/get answered JSON without an error code")
        return res.content, res.headers.get("Content-Type", "application/octet-stream").split(";")[0]

    # -- web OAuth ----------------------------------------------------------------------------------------------

    def oauth_authorize_url(self, redirect_uri, state):
        """Where to send a browser inside WeChat to learn its openid silently (snsapi_base)."""
        base = (self.config["WECHAT_OAUTH_BASE"] or WECHAT_OPEN).rstrip("/")
        query = urlencode({"appid": self.config["WECHAT_APPID"], "redirect_uri": redirect_uri,
                           "response_type": "code", "scope": "snsapi_base", "state": state})
        return f"{base}/connect/oauth2/authorize?{query}#wechat_redirect"

    def oauth_exchange(self, code):
        """Exchange a one-use OAuth code for the user's openid."""
        base = (self.config["WECHAT_OAUTH_BASE"] or WECHAT_API).rstrip("/")
        params = {"appid": self.config["WECHAT_APPID"], "secret": self.config["WECHAT_SECRET"], "code": code,
                  "grant_type": "authorization_code"}
        url = f"{base}/sns/oauth2/access_token"
        return self._retry_busy(lambda: self.decode(requests.get(url, params=params, timeout=self.timeout))["openid"])
