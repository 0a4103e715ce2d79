"""Login sessions on the server: one row per login and browser, so each can be ended alone.

A session cookie names two things: the member's session token (the same for all their logins;
rotating it ends them all, as a password change does) and the id of this login. Logging out
deletes this login's row, so a copy of the cookie kept from before is useless, while the member's
other browsers stay logged in.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, select

from forum.extensions import db
from forum.models import LoginSession, User
from forum.models.base import utcnow


def open_login(user: User, lifetime: timedelta) -> str:
    """Record a new login of `user` and give back its id; logins older than `lifetime` go."""
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < utcnow() - lifetime))
    login = LoginSession(user_id=user.id)
    db.session.add(login)
    db.session.flush()
    return login.id


def end_login(login_id: str | None) -> None:
    """End one login: a cookie that names it logs nobody in any more. Not committed."""
    if login_id:
        db.session.execute(delete(LoginSession).where(LoginSession.id == login_id))


def end_all_logins(user: User) -> None:
    """End every login of `user`, in every browser. Not committed."""
    user.rotate_session_token()
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def logged_in_member(session_token: str, login_id: str | None, lifetime: timedelta) -> User | None:
    """The member a session cookie logs in, or None when its login has ended or expired.

    One query, run on every request of a logged-in member. A login lasts `lifetime` from the
    moment the member logged in, however often the cookie is renewed.
    """
    if not login_id:
        # Every login records its id in the cookie; a cookie without one logs nobody in.
        return None
    stmt = select(User).where(
        User.session_token == session_token,
        exists().where(
            LoginSession.id == login_id,
            LoginSession.user_id == User.id,
            LoginSession.created_at >= utcnow() - lifetime,
        ),
    )
    return db.session.scalar(stmt)
