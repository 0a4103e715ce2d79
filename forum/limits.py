"""Who a rate limit counts: the keys shared by the limits on posting, voting and the map."""

from __future__ import annotations

from flask_limiter.util import get_remote_address
from flask_login import current_user


def member_or_address() -> str:
    """The logged-in member (whatever address they come from), else the client address.

    The address is the socket's peer, or X-Forwarded-For only when PROXY_FIX trusts a proxy.
    """
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()
