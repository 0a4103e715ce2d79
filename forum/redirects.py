"""What several features need about requests: the safe `next`, the referring page, and
sending a visitor to log in and back."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import current_app, make_response, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from forum.htmx import is_htmx, vary_on_htmx

# Why a visitor is asked to log in: the login page says "Log in to <reason>." Keys travel in
# the login URL (`why=ask`); only these sentences are ever shown, never text from the URL.
LOGIN_REASONS = {
    "ask": "ask a question",
    "join": "join this community",
    "map-entry": "change your entry on the map",
    "vote": "upvote questions",
    "comment": "comment",
    "reply": "reply",
    "edit": "edit your comment",
    "delete": "delete your comment",
    "account": "see your account",
}
# The reason for each endpoint that needs an account (members.* is about the account).
_ENDPOINT_REASONS = {
    "questions.ask": "ask",
    "questions.vote": "vote",
    "maps.join": "join",
    "maps.edit": "map-entry",
    "maps.leave": "map-entry",
    "comments.create": "comment",
    "comments.reply": "reply",
    "comments.edit": "edit",
    "comments.update": "edit",
    "comments.confirm_delete": "delete",
    "comments.delete": "delete",
}


def safe_next(url: str | None) -> str | None:
    """`url` when it is a path on this site to return to after login, else None.

    Only a path starting with exactly one "/" passes. Anything a browser could read as another
    host is refused: absolute and scheme-relative URLs, backslashes (browsers treat them as "/"),
    whitespace and control characters (browsers drop tabs and newlines inside URLs), and the same
    tricks hidden behind percent-encoding.
    """
    if not url or not isinstance(url, str) or len(url) > 2000:
        return None
    # As sent: no whitespace at all. Decoded ("/%2F%2Fevil", "/%252F..."): no control characters.
    if not _is_local_path(url, refused_categories="CZ"):
        return None
    candidate = url
    for _ in range(3):
        decoded = unquote(candidate)
        if decoded == candidate:
            return url
        if not _is_local_path(decoded, refused_categories="C"):
            return None
        candidate = decoded
    return None


def _is_local_path(url: str, refused_categories: str) -> bool:
    if not url.startswith("/") or url.startswith(("//", "/\\")) or "\\" in url:
        return False
    # C: control and invisible format characters; Z: spaces and line separators.
    if any(unicodedata.category(ch)[0] in refused_categories for ch in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def referring_page() -> str | None:
    """The path and query of the page this request came from (htmx's HX-Current-URL, else the
    Referer) when that page is on this site and safe to return to, else None."""
    parts = urlsplit(request.headers.get("HX-Current-URL") or request.referrer or "")
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def login_reason(why: str | None) -> str | None:
    """The sentence for a `why` key of the login URL ("ask a question"), None if unknown."""
    return LOGIN_REASONS.get(why or "")


def login_url(next_url: str | None, why: str | None = None) -> str:
    """The login page, coming back to `next_url` afterwards and saying why an account is needed."""
    return url_for(
        "auth.login", next=safe_next(next_url) or "/", why=why if login_reason(why) else None
    )


def _answers_get(path: str) -> bool:
    """True when `path` is also a page (the form a POST came from: /ask, /join, /edit)."""
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:
        return False
    return True


def _return_path() -> str:
    """Where a visitor sent to log in should come back to: the page or form they wanted.

    A GET, htmx or not (a boosted click on "Ask a question"), wants its own URL: the form. A POST
    to a URL that is also a page (the ask or join form) wants that page; any other POST (a
    vote, a logout) came from a page and returns to it.
    """
    if request.method in ("GET", "HEAD"):
        return safe_next(request.full_path.rstrip("?")) or "/"
    if _answers_get(request.path):
        return safe_next(request.path) or "/"
    return referring_page() or "/"


def _reason_key() -> str | None:
    endpoint = request.endpoint or ""
    if endpoint.startswith("members."):
        return "account"
    return _ENDPOINT_REASONS.get(endpoint)


def unauthorized(next_url: str | None = None, why: str | None = None):
    """Send a logged-out visitor to the login page, saying why, and back to what they wanted.

    Flask-Login calls it without arguments (the return path and the reason come from the
    request); a view may name both. htmx gets an HX-Redirect, so the whole page goes to login.
    """
    target = login_url(next_url or _return_path(), why or _reason_key())
    if is_htmx():
        return vary_on_htmx(make_response("", 401, {"HX-Redirect": target}))
    return vary_on_htmx(redirect(target, 303))


def go_to(target: str, status: int = 303):
    """Leave for `target` after a change of who is logged in: a full page load, even for htmx.

    A full load matters: the page's CSRF token for htmx (on <body>) belongs to the old session.
    """
    if is_htmx():
        return vary_on_htmx(make_response("", 204, {"HX-Redirect": target}))
    return vary_on_htmx(redirect(target, status))
