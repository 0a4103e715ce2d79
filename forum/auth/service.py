"""Accounts: usernames, creating an account, checking a password at login, changing it."""

from __future__ import annotations

import hashlib
import re

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from forum import names
from forum.auth.passwords import (
    UNUSABLE,
    burn_verify_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from forum.auth.sessions import end_all_logins
from forum.extensions import db
from forum.mail.service import absolute_url, queue_mail
from forum.models import (
    User,
)
from forum.models.users import ROLES

USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,30}")
USERNAME_RULES = "3 to 30 characters: letters, digits, underscore, hyphen and dot."


class UsernameTaken(ValueError):
    """Another account already has this username, or one that looks the same (forum.names)."""


RESERVED_USERNAME = "That name is reserved for the site and its staff. Choose another."


def normalize_username(username: str) -> str:
    """The key a username is unique under: trimmed and lower-cased."""
    return username.strip().lower()


def username_problem(username: str) -> str | None:
    """Why `username` cannot be used for a new account, or None when the shape is fine."""
    if not USERNAME_RE.fullmatch(username):
        return f"Usernames are {USERNAME_RULES}"
    return None


def signup_name_problem(username: str) -> str | None:
    """Why a visitor may not sign up as `username` (beyond its shape), or None.

    Only sign-up refuses reserved names: an operator may still create an "admin" account
    (flask create-admin)."""
    if names.is_reserved(username):
        return RESERVED_USERNAME
    return None


def name_in_use(name: str) -> bool:
    """True when a member's name looks the same as `name` (same confusable key)."""
    stmt = select(User.id).where(User.name_key.in_(names.name_keys(name))).limit(1)
    return db.session.scalar(stmt) is not None


def user_by_username(username: str) -> User | None:
    """The account with this username, whatever its case, or None."""
    key = normalize_username(username)
    return db.session.scalar(select(User).where(User.username_key == key))


def create_user(
    username: str, password: str, email: str | None = None, role: str = "member"
) -> User:
    """Add a new account and flush it; raises UsernameTaken when the name is in use."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if user_by_username(username) is not None or name_in_use(username):
        raise UsernameTaken(username)
    user = User(
        username=username,
        username_key=normalize_username(username),
        email=email or None,
        password_hash=hash_password(password),
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The account when the username and password match, else None (which one was wrong is not
    told). Re-hashes the password when the hashing parameters have changed since it was set."""
    user = user_by_username(username)
    if user is None or user.password_hash == UNUSABLE:
        # As slow as a real check: a quick "no" would tell that the name is free (or a demo).
        burn_verify_time(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every login of the member, in every browser.

    The caller starts a new session for the browser that made the change. Not committed.
    """
    user.password_hash = hash_password(new_password)
    end_all_logins(user)


# -- password reset by email ---------------------------------------------------------------------

RESET_SALT = "password-reset"
RESET_MAX_AGE = 3600


def _password_fingerprint(user: User) -> str:
    # Any change of the password (the reset itself included) changes the hash and with it
    # this fingerprint: a reset link works once.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    """A signed link token that resets this member's current password, valid for an hour."""
    serializer = URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)
    return serializer.dumps({"u": user.id, "p": _password_fingerprint(user)})


def user_for_reset(token: str) -> User | None:
    """The member a reset token is for, while it is under an hour old and still unused."""
    serializer = URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)
    try:
        data = serializer.loads(token, max_age=RESET_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or user.password_hash == UNUSABLE:
        return None
    return user if data.get("p") == _password_fingerprint(user) else None


def request_password_reset(email: str) -> int:
    """Email a reset link to each account with this verified address; gives how many.

    The caller answers the same whatever this gives. Not committed.
    """
    address = (email or "").strip().lower()
    if not address:
        return 0
    users = db.session.scalars(
        select(User).where(func.lower(User.email) == address, User.email_verified_at.is_not(None))
    ).all()
    for user in users:
        queue_mail(
            user,
            "password_reset",
            "Reset your RareCircle password",
            "password_reset",
            reset_url=absolute_url("auth.reset_password", token=reset_token(user)),
        )
    return len(users)
