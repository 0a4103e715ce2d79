"""Telling an htmx fragment request from a full-page request."""

from __future__ import annotations

from flask import Response, request


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
