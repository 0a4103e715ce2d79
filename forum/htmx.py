"""Telling an htmx fragment request from a full-page request, and saying so to caches."""

from __future__ import annotations

import functools

from flask import Response, make_response, request

# Every request header a fragment-or-page answer depends on (see wants_fragment).
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")

# What htmx may swap into a page: HTML, and nothing else.
SWAPPABLE = frozenset({"text/html"})


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


def refuse_non_html(response: Response) -> Response:
    """After every request: an htmx request answered with something that is not HTML (the JSON
    export, /healthz, an SVG or any file) gets no body at all.

    htmx would swap whatever comes back into the page, JSON included, and process any markup
    in it: a question title inside the export once became a live form that posted as the
    member. htmx's config cannot filter by content type, and HX-Reswap: none is not enough
    (htmx 2 still performs the out-of-band swaps and takes the <title> of a response swapped
    with "none"). So the body goes: a GET answers 204 with HX-Redirect to the same address, and
    the browser loads it for real (a download, or the document on its own); anything else
    answers 204, which the page's htmx config never swaps.
    """
    if (
        response.status_code in (204, 304)
        or response.mimetype in SWAPPABLE
        or "HX-Redirect" in response.headers
        or 300 <= response.status_code < 400
    ):
        return response
    # The answer depends on the htmx headers from here on: a cache must keep both versions.
    vary_on_htmx(response)
    if not is_htmx():
        return response
    refused = vary_on_htmx(Response(status=204))
    for name in ("Cache-Control", "Pragma"):
        if name in response.headers:
            refused.headers[name] = response.headers[name]
    if request.method in ("GET", "HEAD"):
        refused.headers["HX-Redirect"] = request.full_path.rstrip("?")
    response.close()
    return refused
