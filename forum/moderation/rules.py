"""The rules of moderation that other features ask about: who may act on whom, whether a
discussion takes new comments, the reasons people choose, and the limit on links.

Nothing here writes; forum.moderation.service does the writing.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.markdown import render_comment
from forum.models.base import utcnow
from forum.models.comments import Comment
from forum.models.questions import Question
from forum.models.users import User

# What a member may choose when reporting: key -> the words the form shows.
REPORT_REASONS = {
    "spam": "Spam or advertising",
    "harassment": "Harassment or abuse",
    "misinformation": "Medical misinformation",
    "personal_info": "Personal information shared",
    "self_harm": "Self-harm or crisis",
    "other": "Something else",
}
# The reason that makes a report urgent: listed first in the queue, marked for moderators.
URGENT_REASON = "self_harm"
NOTE_MAX = 500

# What a moderator may give as the public reason for hiding: key -> the words everyone reads.
HIDE_REASONS = {
    "spam": "spam",
    "harassment": "harassment",
    "misinformation": "medical misinformation",
    "personal_info": "personal information shared",
    "self_harm": "for the safety of the person who wrote it",
    "off_topic": "off topic",
    "other": "other",
}
REASON_DETAIL_MAX = 200
BAN_REASON_MAX = 300

AUTO_HIDDEN = "hidden after several members reported it, until a moderator reviews it"

# Members younger than this, or without one comment still shown, may put one link in a comment.
NEW_MEMBER_AGE = timedelta(days=1)
NEW_MEMBER_LINKS = 1
_ANCHOR = re.compile(r"<a\s[^>]*>.*?</a>", re.S)
_BARE_ADDRESS = re.compile(r"(?i)\b(?:https?://|www\.)")


def is_moderator(user) -> bool:
    """True for a logged-in moderator or administrator (anyone else, visitors too: False)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_moderator)


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def acting_against_problem(actor: User, target: User | None) -> str | None:
    """Why `actor` may not act against `target` (the author of an item, or a member to ban).

    A moderator cannot act against an administrator; nobody acts against themselves.
    """
    if target is None:
        return None
    if target.id == actor.id:
        return "You cannot moderate your own account or content; ask another moderator."
    if target.is_admin and not actor.is_admin:
        return "Moderators cannot act against an administrator."
    return None


def removal_notice(reason: str | None) -> str:
    """The words shown in place of hidden content: "Removed by a moderator: spam"."""
    if reason == AUTO_HIDDEN:
        return f"{AUTO_HIDDEN.capitalize()}."
    return f"Removed by a moderator: {reason or 'no reason given'}."


def hide_reason_text(key: str, detail: str = "") -> str:
    """The public reason from the chosen key and the moderator's optional words."""
    detail = " ".join(detail.split())
    if key == "other":
        return detail
    label = HIDE_REASONS[key]
    return f"{label} ({detail})" if detail else label


def discussion_problem(question: Question) -> str | None:
    """Why the question takes no new comment or reply (hidden or locked), or None."""
    if question.hidden_at is not None:
        return "This question has been removed by a moderator, so it takes no new comments."
    if question.locked_at is not None:
        return "This discussion is locked: it takes no new comments or replies."
    return None


def count_links(body: str) -> int:
    """How many links a comment's Markdown holds: its links once rendered, plus web addresses
    written out as plain text (a reader can still copy those)."""
    html = render_comment(body)
    anchors = len(_ANCHOR.findall(html))
    return anchors + len(_BARE_ADDRESS.findall(_ANCHOR.sub("", html)))


def is_new_member(user: User) -> bool:
    """True while a member is under a day old or has no comment shown to others yet."""
    if utcnow() - user.created_at < NEW_MEMBER_AGE:
        return True
    shown = select(Comment.id).where(
        Comment.author_id == user.id,
        Comment.deleted_at.is_(None),
        Comment.hidden_at.is_(None),
        Comment.held_at.is_(None),
    )
    return db.session.scalar(shown.limit(1)) is None


def link_problem(user: User | None, body: str) -> str | None:
    """Why a comment holds too many links for its poster (a new member or a guest), or None."""
    links = count_links(body)
    if links <= NEW_MEMBER_LINKS:
        return None
    if user is not None and (user.is_moderator or not is_new_member(user)):
        return None
    who = "Guests" if user is None else "New members"
    return (
        f"{who} can put at most {NEW_MEMBER_LINKS} link in a comment; this one has {links}. "
        "This keeps spam out while nobody is watching."
    )
