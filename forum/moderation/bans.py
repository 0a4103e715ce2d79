"""Bans: whether a member is banned and why, and the refusal of what a banned member may not do.

A banned member can log in and read. Every endpoint in REFUSED_WHILE_BANNED answers them 403
with the reason and the end of the ban (a page, or for htmx a fragment in the alert region).
A ban ends by itself: it is active only while `ends_at` lies ahead, so nothing has to run when
it expires. Other features add what a banned member may not do with `refuse_while_banned`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, has_request_context, render_template, request
from flask_login import current_user
from sqlalchemy import or_, select

from forum import htmx
from forum.extensions import db
from forum.models.base import utcnow
from forum.models.moderation import Ban
from forum.models.users import User
from forum.templating import exact_time

# How long a moderator may ban for: key -> (the words, the length; None until lifted).
BAN_LENGTHS = {
    "day": ("for a day", timedelta(days=1)),
    "week": ("for a week", timedelta(weeks=1)),
    "lifted": ("until lifted", None),
}

# Endpoint -> the methods refused to a banned member: posting, voting, reporting, asking and
# joining the map. (Leaving the map, deleting their own comments or account stay open.)
REFUSED_WHILE_BANNED: dict[str, frozenset[str]] = {
    "comments.create": frozenset({"POST"}),
    "comments.reply": frozenset({"GET"}),
    "comments.edit": frozenset({"GET"}),
    "comments.update": frozenset({"POST"}),
    "questions.vote": frozenset({"POST"}),
    "questions.ask": frozenset({"GET", "POST"}),
    "maps.join": frozenset({"GET", "POST"}),
    "maps.edit": frozenset({"POST"}),
    "moderation.report": frozenset({"GET", "POST"}),
    "contacts.ask": frozenset({"GET", "POST"}),
    "contacts.accept": frozenset({"POST"}),
    "messages.send": frozenset({"POST"}),
}


_KEPT = "forum.active_bans"


def active_ban(user) -> Ban | None:
    """The member's ban in force now (the one ending last), or None. Visitors: None.

    Asked once per member and request: the page and the checks before it share the answer.
    """
    if user is None or not getattr(user, "is_authenticated", True) or user.id is None:
        return None
    if not has_request_context():
        return _read_active_ban(user.id)
    # Kept in the request's own environ: it lives exactly as long as the request.
    known = request.environ.setdefault(_KEPT, {})
    if user.id not in known:
        known[user.id] = _read_active_ban(user.id)
    return known[user.id]


def forget_active_bans() -> None:
    """Drop the answers kept for this request (a ban was just given or lifted)."""
    if has_request_context():
        request.environ.pop(_KEPT, None)


def _read_active_ban(user_id: int) -> Ban | None:
    now = utcnow()
    stmt = (
        select(Ban)
        .where(
            Ban.user_id == user_id,
            Ban.lifted_at.is_(None),
            or_(Ban.ends_at.is_(None), Ban.ends_at > now),
        )
        # A ban until lifted outlasts any other.
        .order_by(Ban.ends_at.is_(None).desc(), Ban.ends_at.desc())
    )
    return db.session.scalar(stmt.limit(1))


def ban_until_words(ban: Ban) -> str:
    """'until March 4, 2026, 14:05 UTC', or 'until a moderator lifts it'."""
    if ban.ends_at is None:
        return "until a moderator lifts it"
    return f"until {exact_time(ban.ends_at)}"


def ban_message(ban: Ban) -> str:
    """What a banned member reads at each refused action: why, and until when."""
    return (
        f"Your account is banned {ban_until_words(ban)}. Reason: {ban.reason} "
        "You can still log in and read, but not post, vote, report, ask, join a map or "
        "send messages."
    )


def ban_problem(user) -> str | None:
    """Why `user` may not post right now (their ban, with reason and end), or None."""
    ban = active_ban(user)
    return ban_message(ban) if ban else None


def active_bans_by_user(user_ids) -> dict[int, Ban]:
    """The ban in force for each of these members who has one, in one query."""
    ids = list(user_ids)
    if not ids:
        return {}
    now = utcnow()
    stmt = select(Ban).where(
        Ban.user_id.in_(ids),
        Ban.lifted_at.is_(None),
        or_(Ban.ends_at.is_(None), Ban.ends_at > now),
    )
    result: dict[int, Ban] = {}
    for ban in db.session.scalars(stmt):
        current = result.get(ban.user_id)
        if current is None or _outlasts(ban, current):
            result[ban.user_id] = ban
    return result


def active_bans() -> list[tuple[Ban, User]]:
    """Every ban in force with its member, the newest first (the moderators' list)."""
    now = utcnow()
    stmt = (
        select(Ban, User)
        .join(User, User.id == Ban.user_id)
        .where(Ban.lifted_at.is_(None), or_(Ban.ends_at.is_(None), Ban.ends_at > now))
        .order_by(Ban.created_at.desc(), Ban.id.desc())
    )
    return [(ban, user) for ban, user in db.session.execute(stmt)]


def _outlasts(ban: Ban, other: Ban) -> bool:
    if other.ends_at is None:
        return False
    return ban.ends_at is None or ban.ends_at > other.ends_at


def refuse_while_banned(endpoint: str, methods=("POST",)) -> None:
    """Refuse `endpoint` (for these methods) to banned members, e.g. sending a message."""
    REFUSED_WHILE_BANNED[endpoint] = frozenset(REFUSED_WHILE_BANNED.get(endpoint, ())) | set(
        methods
    )


def banned_response(message: str):
    """The 403 a banned member gets: the error page, or for htmx a fragment in the alert region
    (the form that was sent keeps its text)."""
    context = {"code": 403, "title": "Your account is banned", "message": message}
    if htmx.wants_fragment():
        headers = {"HX-Retarget": "#htmx-alerts", "HX-Reswap": "innerHTML"}
        return render_template("errors/_error.html", **context), 403, headers
    return render_template("errors/page.html", **context), 403


def _refuse_banned_members():
    methods = REFUSED_WHILE_BANNED.get(request.endpoint or "")
    if not methods or request.method not in methods or not current_user.is_authenticated:
        return None
    problem = ban_problem(current_user)
    return banned_response(problem) if problem else None


def register(app: Flask) -> None:
    """Install the check that refuses banned members before any refused view runs."""
    app.before_request(_refuse_banned_members)
