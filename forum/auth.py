"""Sign-up, login and logout. (Placeholder: the accounts issue builds the real flows.)"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from forum.extensions import db
from forum.htmx import is_htmx
from forum.models import User

bp = Blueprint("auth", __name__)


def load_user(session_token: str) -> User | None:
    """Flask-Login's loader: the session cookie holds the member's rotating session token."""
    return db.session.scalar(select(User).where(User.session_token == session_token))


def unauthorized():
    """Send a logged-out visitor to the login page and back; htmx gets an HX-Redirect."""
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        return "", 401, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.get("/login")
def login():
    """Show the login page."""
    return render_template("auth/login.html")
