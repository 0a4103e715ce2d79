"""Accounts: usernames, creating an account, checking a password at login, changing it."""

from __future__ import annotations

import re

from sqlalchemy import select

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
