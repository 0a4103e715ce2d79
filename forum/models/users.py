"""Member accounts."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from forum import names
from forum.extensions import db
from forum.models.base import utcnow

ROLES = ("member", "moderator", "admin")
# Who may send the member a contact request.
CONTACT_POLICIES = {
    "communities": "Members of the communities I joined by name",
    "anyone": "Any member",
    "nobody": "Nobody",
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'moderator', 'admin')", name="role"),
        CheckConstraint(
            "contact_policy IN ('communities', 'anyone', 'nobody')", name="contact_policy"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased username: uniqueness regardless of case, on every database.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    # The name's confusable skeleton (forum.names): a new username or a guest's name that looks
    # the same is refused. Set with the username; not unique, as older names may share one.
    name_key: Mapped[str | None] = mapped_column(String(names.KEY_MAX), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    # Set when the member opened the signed link sent to `email`; cleared when it changes.
    # No email but the verification itself goes to an address until then.
    email_verified_at: Mapped[datetime | None]
    contact_policy: Mapped[str] = mapped_column(
        String(12), default="communities", server_default="communities"
    )
    # When the last daily digest of notifications was queued for the member.
    digest_sent_at: Mapped[datetime | None]
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Flask-Login's alternative id, the same for all of the member's logins: rotating it makes
    # every session cookie of theirs useless at once (password change).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)

    @validates("username")
    def _set_name_key(self, _key: str, username: str) -> str:
        self.name_key = names.name_key(username)
        return username

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        """Invalidate every session signed with the old token (password change)."""
        self.session_token = new_session_token()

    @property
    def email_verified(self) -> bool:
        return bool(self.email and self.email_verified_at)

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class LoginSession(db.Model):
    """One login in one browser: logging out deletes it, which ends that browser's session only.

    Its id travels in the signed session cookie next to the member's session token; a cookie
    whose login is gone (logged out, or older than the session lifetime) logs nobody in.
    """

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_session_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
