"""Error pages: real HTML pages for browsers, small fragments for htmx."""

from __future__ import annotations

import contextlib
import logging
import math

from flask import Flask, g, make_response, render_template
from flask.globals import request_ctx
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from forum.extensions import db, login_manager
from forum.htmx import vary_on_htmx, wants_fragment
from forum.limits import retry_after
from forum.observability import exception_summary

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Reload the page and try again."),
    403: ("Not allowed", "You are not allowed to do that."),
    404: (
        "Page not found",
        "There is no page at this address. It may have moved or never existed.",
    ),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "What you sent is larger than this site accepts."),
    429: ("Slow down", "Too many requests in a short time. Please wait a little and try again."),
    500: ("Something went wrong", "The error has been logged. Please try again in a moment."),
    503: (
        "Temporarily unavailable",
        "The site cannot reach its stored posts right now. Please try again in a moment.",
    ),
}
# Seconds a client is asked to wait after a 503.
RETRY_AFTER_UNAVAILABLE = 10

UNSERVED_HOST_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Bad request</title>"
    "<h1>Bad request</h1><p>This site is not served at the address you used.</p></html>"
)

CSRF_MESSAGE = (
    "This form has expired or did not come from this site, so nothing was changed. "
    "Reload the page and try again."
)


def render_error(code: int, description: str | None = None, headers: dict | None = None):
    """The site's error page, or for an htmx fragment request the message in the alert region."""
    title, message = MESSAGES.get(code, ("Error", "Something went wrong."))
    headers = dict(headers or {})
    if request_ctx.url_adapter is None:
        # A Host that is not in TRUSTED_HOSTS: Flask refused it before routing, so no URL can
        # be built, and nothing of the request (its host least of all) goes into the answer.
        return UNSERVED_HOST_PAGE, code, headers
    context = {"code": code, "title": title, "message": description or message}
    if not wants_fragment():
        template = "errors/page.html"
    else:
        # The element that made the request keeps its place and whatever was typed into it;
        # the message goes to the page's alert region instead (base.html lets htmx swap 4xx/5xx).
        headers.update({"HX-Retarget": "#htmx-alerts", "HX-Reswap": "innerHTML"})
        template = "errors/_error.html"
    return vary_on_htmx(make_response(render_template(template, **context), code, headers))


def csrf_refused():
    """The answer to a post whose CSRF token is missing or wrong: 400, nothing changed."""
    return render_error(400, CSRF_MESSAGE)


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def rate_limited(exc: RateLimitExceeded):
    """The 429 page or fragment: which limit was met (when the view says) and how long to wait."""
    wait = retry_after()
    default = MESSAGES[429][1]
    what = exc.description if exc.limit.error_message else default
    message = f"{what} Please wait {_wait_words(wait)} and try again."
    return render_error(429, message, {"Retry-After": str(wait)})


def _error_kind(exc: BaseException) -> str:
    """ "NumericValueOutOfRange (SQLSTATE 22003)": what went wrong, without any value."""
    orig = getattr(exc, "orig", None) or exc
    sqlstate = getattr(orig, "sqlstate", None)
    return type(orig).__name__ + (f" (SQLSTATE {sqlstate})" if sqlstate else "")


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if isinstance(exc, RateLimitExceeded):
            return rate_limited(exc)
        if isinstance(exc, CSRFError):
            return csrf_refused()
        # Werkzeug's descriptions of other 400s say what was wrong with the request.
        description = exc.description if exc.code == 400 else None
        retry_after = dict(exc.get_headers()).get("Retry-After")
        return render_error(
            exc.code, description, {"Retry-After": retry_after} if retry_after else None
        )

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def value_out_of_range(exc):
        # A number from the request beyond what the database stores (?page=10**20): the
        # request is at fault, not the site, so 400 rather than 500.
        db.session.rollback()
        # The kind of error only: the database's own message may quote the value (PostgreSQL's
        # 'invalid input syntax for type integer: "..."'), and values are the member's data.
        log.warning("request refused, a value the database cannot take: %s", _error_kind(exc))
        return render_error(400)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def database_unavailable(exc):
        # The database is down, restarting or out of connections: say so at once with a 503
        # (load balancers and clients know to retry), and heal on the next request.
        with contextlib.suppress(Exception):  # the connection is gone: nothing to undo
            db.session.rollback()
        log.error("database unavailable: %s", exception_summary(exc))
        # The page's header must not ask the database who is logged in (a member loaded before
        # the failure is expired by the rollback, so reading their name would query too).
        g._login_user = login_manager.anonymous_user()
        return render_error(503, headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        db.session.rollback()
        return render_error(500)
