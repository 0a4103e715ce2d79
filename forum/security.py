"""Security headers on every response, and Cache-Control for pages with private data."""

from __future__ import annotations

from flask import Flask, Response, session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def no_store(response: Response) -> Response:
    """Mark a response that shows private data: no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def register(app: Flask) -> None:
    """Add the security headers to every response, fragments and error pages included."""

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["FORUM_HTTPS"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        # A page for a logged-in member carries their name in the header: shared caches
        # (proxies, CDNs) must never hand it to someone else.
        if "Cache-Control" not in response.headers and session.get("_user_id"):
            response.headers["Cache-Control"] = "private"
        return response
