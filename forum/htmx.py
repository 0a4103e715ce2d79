"""Telling an htmx fragment request from a full-page request, and saying so to caches."""

from __future__ import annotations

import functools

from flask import Response, make_response, request

# Every request header a fragment-or-page answer depends on (see wants_fragment).
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page (not a boosted page load or restore)."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def vary_on_htmx(response: Response) -> Response:
    """Mark a response whose body depends on the htmx headers, so caches keep each version."""
    for header in HTMX_HEADERS:
        response.vary.add(header)
    return response


def may_answer_fragment(view):
    """Decorate a view that answers a page or a fragment: its every response gets the Vary."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return vary_on_htmx(make_response(view(*args, **kwargs)))

    return wrapper
