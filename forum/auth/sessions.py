"""Login sessions on the server: one row per login and browser, so each can be ended alone.

A session cookie names two things: the member's session token (the same for all their logins;
rotating it ends them all, as a password change does) and the id of this login. Logging out
deletes this login's row, so a copy of the cookie kept from before is useless, while the member's
other browsers stay logged in.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, exists, select

from forum.extensions import db
from forum.models import LoginSession, User
from forum.models.base import utcnow

# The session key that holds the id of this browser's login.
LOGIN_ID_KEY = "_login_id"


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


def load_user(session_token: str) -> User | None:
    """Flask-Login's loader: the member whose token the cookie holds, if its login still lasts."""
    return logged_in_member(
        session_token, session.get(LOGIN_ID_KEY), current_app.permanent_session_lifetime
    )


def start_session(user: User) -> None:
    """Log `user` in on a brand-new session: nothing from before the login carries over.

    Any login this browser had before ends on the server too. Commits.
    """
    end_login(session.get(LOGIN_ID_KEY))
    login_id = open_login(user, current_app.permanent_session_lifetime)
    db.session.commit()
    session.clear()
    login_user(user)
    session[LOGIN_ID_KEY] = login_id
    session.permanent = True


def end_session() -> None:
    """Log this browser out; a kept copy of its cookie is useless, other browsers stay in."""
    if current_user.is_authenticated:
        end_login(session.get(LOGIN_ID_KEY))
        db.session.commit()
    logout_user()
    session.clear()
