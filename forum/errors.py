"""Error pages: real HTML pages for browsers, small fragments for htmx."""

from __future__ import annotations

import math
import time

from flask import Flask, render_template
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException, InternalServerError

from forum.extensions import db, limiter
from forum.htmx import wants_fragment

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Reload the page and try again."),
    403: ("Not allowed", "You are not allowed to do that."),
    404: ("Page not found",
          "There is no page at this address. It may have moved or never existed."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "What you sent is larger than this site accepts."),
    429: ("Slow down", "Too many requests in a short time. Please wait a little and try again."),
    500: ("Something went wrong", "The error has been logged. Please try again in a moment."),
}


def _render(code: int, description: str | None = None):
    title, message = MESSAGES.get(code, ("Error", "Something went wrong."))
    template = "errors/_error.html" if wants_fragment() else "errors/page.html"
    return render_template(
        template, code=code, title=title, message=description or message
    ), code


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _rate_limited(exc: RateLimitExceeded):
    """The 429 page or fragment: which limit was met (when the view says) and how long to wait."""
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time())) if current else 60
    default = MESSAGES[429][1]
    what = exc.description if exc.limit.error_message else default
    body, code = _render(429, f"{what} Please wait {_wait_words(wait)} and try again.")
    return body, code, {"Retry-After": str(wait)}


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if isinstance(exc, RateLimitExceeded):
            return _rate_limited(exc)
        # Werkzeug's stock descriptions are fine for 400s caused by CSRF and bad forms.
        description = exc.description if exc.code == 400 else None
        response = _render(exc.code, description)
        headers = exc.get_headers()
        retry_after = dict(headers).get("Retry-After")
        if retry_after:
            return response[0], response[1], {"Retry-After": retry_after}
        return response

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        db.session.rollback()
        return _render(500)
