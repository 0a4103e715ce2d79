"""What several features need about requests: the safe `next`, the referring page, and
sending a visitor to log in and back."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import redirect, request, url_for

from forum.htmx import is_htmx


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


def _return_path() -> str:
    """Where a visitor sent to log in should come back to: the page they were looking at."""
    if request.method == "GET" and not is_htmx():
        return safe_next(request.full_path.rstrip("?")) or "/"
    # An htmx or form POST (a vote, a join) came from a page: return to that page, not the POST.
    return referring_page() or "/"


def unauthorized():
    """Send a logged-out visitor to the login page and back; htmx gets an HX-Redirect."""
    target = url_for("auth.login", next=_return_path())
    if is_htmx():
        return "", 401, {"HX-Redirect": target}
    return redirect(target, 303)


def go_to(target: str, status: int = 303):
    """Leave for `target` after a change of who is logged in: a full page load, even for htmx.

    A full load matters: the page's CSRF token for htmx (on <body>) belongs to the old session.
    """
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, status)
