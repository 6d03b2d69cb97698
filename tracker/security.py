"""Security headers on every response, and no caching of anything but static files."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def is_static_file() -> bool:
    """Static files (CSS, scripts) are the same for everyone and hold no data: browsers may cache them."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def forbid_caching(response: Response) -> Response:
    """Pages, downloads and the login form are never stored by browsers or proxies.

    Logged-in pages and files hold unpublished data that must not outlive the session on a shared
    computer (the back button after logging out, a proxy's cache); the login form holds a CSRF token.
    Only static files stay cacheable, so this is decided by what the response is, not by who asked.
    """
    if not is_static_file():
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def add_hsts(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS", 0))
    if hops:
        # Real client addresses for throttling and the audit log, and HTTPS detection, behind a proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.after_request(add_security_headers)
    app.after_request(forbid_caching)
    if app.config.get("SESSION_COOKIE_SECURE"):
        app.after_request(add_hsts)
