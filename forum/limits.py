"""Who a rate limit counts: the keys shared by the limits on posting, voting and the map."""

from __future__ import annotations

import time

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from forum.extensions import limiter


def member_or_address() -> str:
    """The logged-in member (whatever address they come from), else the client address.

    The address is the socket's peer, or X-Forwarded-For only when PROXY_FIX trusts a proxy.
    """
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()


def setting(name: str):
    """A limit read from the app's config when a request is checked, so an operator's (or a
    test's) setting always applies: `limiter.limit(setting("RATELIMIT_VOTE"))`."""
    return lambda: current_app.config[name]


def only_when_done(response) -> bool:
    """For `deduct_when`: count a request only when it succeeded (a redirect, plain or htmx),
    so someone correcting a form error is not held back."""
    return response.status_code == 303 or "HX-Redirect" in response.headers


def retry_after() -> int:
    """Seconds until the limit this request met lets it through again (at least 1), for the
    Retry-After header of every 429 the site answers."""
    current = limiter.current_limit
    return max(1, int(current.reset_at - time.time())) if current else 60
