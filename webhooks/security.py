"""Public-page hardening: the proxy fix, a Redis-backed rate limiter that counts misses, security headers."""

import secrets
from urllib.parse import urlsplit

from flask import has_request_context, make_response, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

CSP_TEMPLATE = (
    "default-src 'none'; style-src {styles}; img-src 'self' data:; form-action 'self'{form_targets}; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def init_app(app):
    """Trust X-Forwarded-* only from PROXY_COUNT proxies; make the limiter (storage in Redis) for this app."""
    hops = app.config.get("PROXY_COUNT", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=app.config["REDIS_URL"],
        key_prefix="hegui-limit",
        strategy="fixed-window",
        headers_enabled=False,
        # Redis down must not take the verify page down: limits then hold per process until it is back.
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    limiter.request_filter(_unlimited)
    app.extensions["hegui_limiter"] = limiter
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    return limiter


UNLIMITED_BLUEPRINTS = frozenset({"wechat"})  # WeChat's callback: signed, limited by no rule; skipped outright


def _unlimited():
    return request.blueprint in UNLIMITED_BLUEPRINTS


def limit_misses(app, blueprint, limit_value, scope, exempt_when=None):
    """Limit per client IP the requests of `blueprint` that called `mark_miss()`; hits are never counted.

    `exempt_when()` (optional) tells before the view runs that a request is a hit, which then costs the limiter
    nothing (no Redis round trip): only guesses need limiting."""
    limiter = app.extensions["hegui_limiter"]
    limiter.shared_limit(limit_value, scope=scope, deduct_when=_is_miss, on_breach=_too_many,
                         exempt_when=exempt_when)(blueprint)


def limit_route(app, endpoint, limit_value, scope):
    """Limit per client IP every request of the registered `endpoint` (beside its blueprint's miss limit)."""
    limiter = app.extensions["hegui_limiter"]
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(limit_value, scope=scope, on_breach=_too_many,
                                                 override_defaults=False)(view)


def mark_miss():
    """Count this request against the blueprint's miss limit (unknown token, failed lookup)."""
    request.environ["hegui.miss"] = True


def _is_miss(response):
    # Per request, not per app context: a test's long-lived app context would otherwise carry it over.
    return bool(request.environ.get("hegui.miss"))


def _too_many(request_limit):
    """The 429 page, in Chinese, with no detail about what was guessed."""
    response = secure_headers(make_response(render_template("verify/too_many.html"), 429))
    response.headers["Retry-After"] = "60"
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
