"""Public-page hardening: the proxy fix, rate limits on misses counted in Redis, security headers.

The limits are fixed windows per client IP kept by the `limits` library (the one Flask-Limiter is built on) in Redis,
so every node counts into one budget. They cost a request only where they apply: a genuine view of a report costs
nothing, a guess costs one check before and one count after; no hook runs for the rest of the app (the webhook, the
console). Redis away: each process keeps counting on its own until it is back, and the pages stay up.
"""

import functools
import logging
import secrets
from urllib.parse import urlsplit

from flask import has_request_context, make_response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

CSP_TEMPLATE = (
    "default-src 'none'; style-src {styles}; img-src 'self' data:; form-action 'self'{form_targets}; "
    "frame-ancestors 'none'; base-uri 'none'"
)
KEY_PREFIX = "hegui-limit"
RETRY_AFTER = "60"


class Limits:
    """Fixed-window limits per client IP, in Redis (shared by all nodes), per process while Redis is away."""

    def __init__(self, redis_url):
        self.shared = FixedWindowRateLimiter(RedisStorage(redis_url, wrap_exceptions=True))
        self.local = FixedWindowRateLimiter(MemoryStorage())

    def _ask(self, method, limit, scope):
        keys = (KEY_PREFIX, request.remote_addr or "", scope)
        try:
            return getattr(self.shared, method)(limit, *keys)
        except StorageError:
            log.warning("rate-limit storage unavailable (Redis); counting in this process", exc_info=True)
            return getattr(self.local, method)(limit, *keys)

    def within(self, limit, scope):
        """True while this client has budget left in the window (nothing is counted)."""
        return self._ask("test", limit, scope)

    def count(self, limit, scope):
        """Count one against this client's budget; False when it was already spent."""
        return self._ask("hit", limit, scope)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer made once per key set rather than on every request (it was
    a tenth of a verify page's time in the web process: bench/verify_bench.py --profile)."""

    def __init__(self):
        self.signers = {}

    def open_session(self, app, request):
        """A request without the cookie (WeChat's callback, a verifier's first view) gets its empty session at once."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self.signers:
            self.signers = {keys: super().get_signing_serializer(app)}  # a rotated key replaces the old set
        return self.signers[keys]


def init_app(app):
    """Trust X-Forwarded-* only from PROXY_COUNT proxies; make the limits (storage in Redis) for this app; sign
    session cookies with a signer made once."""
    hops = app.config["PROXY_COUNT"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = SessionCookies()
    app.extensions["hegui_limits"] = Limits(app.config["REDIS_URL"])
    app.jinja_env.globals["csp_nonce"] = csp_nonce


def limit_misses(app, blueprint, limit_value, scope, exempt_when=None):
    """Limit per client IP the requests of `blueprint` that called `mark_miss()`; hits are never counted.

    Before the view, a client whose budget is spent gets the 429 page (a right answer too: a guesser must not learn
    which guess was right), unless `exempt_when()` tells that the request is a hit, which then costs nothing (no
    Redis round trip: only guesses need limiting). After the view, a miss is counted."""
    limits, limit = app.extensions["hegui_limits"], parse(limit_value)

    def _check():
        if exempt_when is not None and exempt_when():
            return None
        return None if limits.within(limit, scope) else _too_many()

    def _count(response):
        if request.environ.get("hegui.miss"):  # per request: a test's long-lived app context would carry g over
            limits.count(limit, scope)
        return response

    # this app's hooks for the blueprint's requests (a blueprint object is shared by every app made in a process)
    app.before_request_funcs.setdefault(blueprint.name, []).append(_check)
    app.after_request_funcs.setdefault(blueprint.name, []).append(_count)


def limit_route(app, endpoint, limit_value, scope):
    """Limit per client IP every request of the registered `endpoint` (beside its blueprint's miss limit)."""
    limits, limit, view = app.extensions["hegui_limits"], parse(limit_value), app.view_functions[endpoint]

    @functools.wraps(view)
    def limited(*args, **kwargs):
        return view(*args, **kwargs) if limits.count(limit, scope) else _too_many()

    app.view_functions[endpoint] = limited


def mark_miss():
    """Count this request against the blueprint's miss limit (unknown token, failed lookup)."""
    request.environ["hegui.miss"] = True


def _too_many():
    """The 429 page, in Chinese, with no detail about what was guessed."""
    response = secure_headers(make_response(render_template("verify/too_many.html"), 429))
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def csp_nonce():
    """The per-response nonce that lets our one inline <style> through the CSP ('' outside a request, and for a page
    rendered to be cached, whose styles the CSP allows by hash instead)."""
    if not has_request_context() or request.environ.get("hegui.csp_hash"):
        return ""
    return request.environ.setdefault("hegui.csp_nonce", secrets.token_urlsafe(16))


def _style_sources():
    hashes = request.environ.get("hegui.style_hashes") if has_request_context() else None
    if hashes is not None:
        return " ".join(hashes) or "'none'"
    return f"'nonce-{csp_nonce()}'"


def origin_of(url):
    """scheme://host[:port] of a URL, for a CSP source list."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def secure_headers(response, public=False, form_targets=()):
    """Strict CSP (no external source, no script), no referrer, not sniffed; private pages not indexed nor cached.

    `form_targets`: origins beyond our own that a form's submission may be redirected to (CSP form-action)."""
    extra = "".join(f" {origin}" for origin in form_targets)
    response.headers["Content-Security-Policy"] = CSP_TEMPLATE.format(styles=_style_sources(), form_targets=extra)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    if public:
        response.headers["Cache-Control"] = "public, max-age=300"
    else:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Cache-Control"] = "no-store"
    return response
