"""Guests' comments held for review (GUEST_MODERATION=true): the guest who wrote one still sees
it, marked "awaiting review". A guest has no account, so their browser session remembers which
held comments are theirs."""

from __future__ import annotations

from flask import current_app, session

SESSION_KEY = "held_comments"
# Enough for any honest guest; the list in the cookie stays small.
REMEMBERED = 20


def guests_are_held() -> bool:
    """True when guests' comments wait for a moderator before anyone else sees them."""
    return bool(current_app.config["GUEST_MODERATION"])


def remember_held_comment(comment_id: int) -> None:
    """Note in this browser's session that the held comment `comment_id` is the guest's own."""
    ids = [i for i in session.get(SESSION_KEY, []) if i != comment_id]
    session[SESSION_KEY] = [*ids, comment_id][-REMEMBERED:]


def held_comment_ids() -> frozenset[int]:
    """The held comments this browser's guest wrote."""
    return frozenset(i for i in session.get(SESSION_KEY, []) if isinstance(i, int))
