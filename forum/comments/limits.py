"""How fast comments may be posted and edited: per member for members, per address for guests
(stricter)."""

from __future__ import annotations

from flask_limiter.util import get_remote_address
from flask_login import current_user

from forum.extensions import limiter
from forum.limits import member_or_address, setting

TOO_FAST = "You are posting faster than this site allows. Wait a minute, then post again."


def _is_member() -> bool:
    return current_user.is_authenticated


def _is_guest() -> bool:
    return not current_user.is_authenticated


limit_members = limiter.shared_limit(
    setting("RATELIMIT_POST_MEMBER"),
    scope="comment-post-member",
    key_func=member_or_address,
    exempt_when=_is_guest,
    methods=["POST"],
)
limit_guests = limiter.shared_limit(
    setting("RATELIMIT_POST_GUEST"),
    scope="comment-post-guest",
    key_func=get_remote_address,
    exempt_when=_is_member,
    methods=["POST"],
)
