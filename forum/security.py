"""Security headers on every response, and Cache-Control for pages with private data."""

from __future__ import annotations

from flask import Flask, Response, abort, request, session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def no_store(response: Response) -> Response:
    """Mark a response that shows private data: no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# The largest id an INTEGER column holds on every database we run on (PostgreSQL's int4).
MAX_ID = 2**31 - 1


def refuse_unstorable_input() -> None:
    """Refuse input no database can take before a view passes it to one.

    A NUL character (PostgreSQL text cannot hold one) anywhere in the path, the query string or
    a form field gets 400; an id in the URL beyond the INTEGER range gets 404. Either would
    otherwise reach the database and answer 500.
    """
    if "\x00" in request.path or _has_nul(request.args):
        abort(400, "The address contains a character this site does not accept.")
    if request.method != "GET" and _has_nul(request.form):
        abort(400, "The form contains a character this site does not accept.")
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            abort(404)


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def register(app: Flask) -> None:
    """Add the security headers to every response, fragments and error pages included."""

    app.before_request(refuse_unstorable_input)

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
