"""Security headers on every response, Cache-Control for pages with private data, and the
checks every request passes before a view sees its input."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, abort, request, session
from flask.globals import request_ctx

from forum.htmx import refuse_non_html

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


# The only bodies a view of this site reads: HTML forms, as browsers and htmx send them.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_A_FORM = "This site takes web forms only. Reload the page and send the form again."
NO_FILES = "This site does not take files. Reload the page and send the form again."


def refuse_unexpected_input() -> None:
    """Refuse, before any view runs, input no form of this site is made for.

    Every form field then reaches a view as text a database can store, so no view or form
    needs its own check:
    - a NUL character (PostgreSQL text cannot hold one) in the path, query string or a form
      field: 400;
    - a body that is not a form (JSON, which Flask-WTF would otherwise read with numbers,
      lists and objects for values, XML, plain text): 400;
    - an uploaded file, where every field is text: 400;
    - an id in the URL beyond the INTEGER range: 404.
    A body over MAX_CONTENT_LENGTH has already answered 413 (see BoundedBody for the chunked
    ones).
    """
    if "\x00" in request.path or _has_nul(request.args):
        abort(400, "The address contains a character this site does not accept.")
    if request.method not in SAFE_METHODS:
        if request.content_length and request.mimetype not in FORM_TYPES:
            abort(400, NOT_A_FORM)
        if request.files:
            abort(400, NO_FILES)
        if _has_nul(request.form):
            abort(400, "The form contains a character this site does not accept.")
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            abort(404)


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


class BoundedBody:
    """WSGI middleware: a request body sent without a Content-Length (chunked) gets one.

    Werkzeug reads such a body only up to MAX_CONTENT_LENGTH and silently drops the rest, so a
    10 MB chunked post was parsed as a cut-off form (422) instead of refused (413). Here the
    body is read up to one byte past the limit and handed on with its length: Werkzeug then
    answers 413 for a longer one, exactly as for a long body that declared its length.
    """

    def __init__(self, wsgi_app: Callable, config: Mapping):
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        limit = self.config.get("MAX_CONTENT_LENGTH")
        declared = environ.get("CONTENT_LENGTH") and "chunked" not in environ.get(
            "HTTP_TRANSFER_ENCODING", ""
        )
        # wsgi.input_terminated: the server (gunicorn, Werkzeug's) ends the stream itself.
        if limit is not None and not declared and environ.get("wsgi.input_terminated"):
            body = _read_at_most(environ["wsgi.input"], limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


def _read_at_most(stream, size: int) -> bytes:
    chunks = []
    while size > 0:
        chunk = stream.read(min(size, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _relative_location(response: Response) -> None:
    """Make a redirect to this site relative: it then never names the Host the client sent.

    The views redirect to paths already; Werkzeug's own redirects (a doubled or a trailing
    slash) are built with the request's host.
    """
    location = response.headers.get("Location")
    if not location or request_ctx.url_adapter is None:
        return
    parts = urlsplit(location)
    if parts.netloc and parts.netloc == request.host:
        response.headers["Location"] = urlunsplit(
            ("", "", parts.path or "/", parts.query, parts.fragment)
        )


def register(app: Flask) -> None:
    """Add the input checks, and the security headers to every response (fragments and error
    pages included)."""

    app.before_request(refuse_unexpected_input)
    app.wsgi_app = BoundedBody(app.wsgi_app, app.config)

    @app.after_request
    def _headers(response):
        _relative_location(response)
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

    # Registered last, so it runs first (Flask runs after_request functions in reverse): the
    # answer that replaces a non-HTML body then gets the security headers above too.
    app.after_request(refuse_non_html)
