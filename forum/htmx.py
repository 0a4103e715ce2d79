"""Telling an htmx fragment request from a full-page request."""

from __future__ import annotations

from flask import Response, request

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
    """Mark a response whose body depends on HX-Request, so caches keep both versions."""
    response.vary.add("HX-Request")
    return response


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
        not is_htmx()
        or response.status_code in (204, 304)
        or response.mimetype in SWAPPABLE
        or "HX-Redirect" in response.headers
        or 300 <= response.status_code < 400
    ):
        return response
    refused = Response(status=204)
    refused.headers["Vary"] = "HX-Request"
    for name in ("Cache-Control", "Pragma"):
        if name in response.headers:
            refused.headers[name] = response.headers[name]
    if request.method in ("GET", "HEAD"):
        refused.headers["HX-Redirect"] = request.full_path.rstrip("?")
    response.close()
    return refused
