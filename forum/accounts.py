"""Member accounts: creating, authenticating, changing passwords, exporting and deleting."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from forum import pagecache
from forum.extensions import db
from forum.models import (
    Comment,
    CommentRevision,
    Disease,
    LoginSession,
    MapEntry,
    Question,
    User,
    Vote,
)
from forum.models.base import iso_utc
from forum.models.users import ROLES
from forum.passwords import (
    UNUSABLE,
    burn_verify_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from forum.sessions import end_all_logins

USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,30}")
USERNAME_RULES = "3 to 30 characters: letters, digits, underscore, hyphen and dot."


class UsernameTaken(ValueError):
    """Another account already has this username (compared regardless of case)."""


def normalize_username(username: str) -> str:
    """The key a username is unique under: trimmed and lower-cased."""
    return username.strip().lower()


def username_problem(username: str) -> str | None:
    """Why `username` cannot be used for a new account, or None when the shape is fine."""
    if not USERNAME_RE.fullmatch(username):
        return f"Usernames are {USERNAME_RULES}"
    return None


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
    if user_by_username(username) is not None:
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


def change_email(user: User, email: str | None) -> None:
    """Set the member's private email address, or remove it when `email` is empty."""
    user.email = email.strip() if email and email.strip() else None


def delete_account(user: User) -> None:
    """Remove a member and what identifies them, keeping the counts on other rows in step.

    Votes, map entries and logins go (their questions' and diseases' counts drop by one each).
    Comments stay in their threads without an author and questions without an author; the
    earlier versions of their comments go, and so does the text of comments they had deleted
    themselves, as either may hold what they chose to take back. Not committed.
    """
    uid = user.id
    own_comments = select(Comment.id).where(Comment.author_id == uid).scalar_subquery()
    db.session.execute(
        delete(CommentRevision)
        .where(CommentRevision.comment_id.in_(own_comments))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Comment)
        .where(Comment.author_id == uid, Comment.deleted_at.is_not(None))
        .values(body_md="", body_html="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == uid))
    voted = select(Vote.question_id).where(Vote.user_id == uid).scalar_subquery()
    db.session.execute(
        update(Question)
        .where(Question.id.in_(voted))
        .values(vote_count=Question.vote_count - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(Vote).where(Vote.user_id == uid))
    joined = select(MapEntry.disease_id).where(MapEntry.user_id == uid).scalar_subquery()
    db.session.execute(
        update(Disease)
        .where(Disease.id.in_(joined))
        .values(member_count=Disease.member_count - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(MapEntry).where(MapEntry.user_id == uid))
    db.session.execute(
        update(Comment)
        .where(Comment.author_id == uid)
        .values(author_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Question)
        .where(Question.author_id == uid)
        .values(author_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.delete(user)
    db.session.flush()
    # Their name, votes and map entry leave pages of every disease.
    pagecache.invalidate_site()
    # Rows already loaded in this session may hold the old counts and authors.
    db.session.expire_all()


def export_account(user: User) -> dict:
    """Everything the site holds about `user`, as plain JSON-ready data."""
    votes = db.session.execute(
        select(Vote.created_at, Question.id, Question.title, Disease.slug)
        .join(Question, Question.id == Vote.question_id)
        .join(Disease, Disease.id == Question.disease_id)
        .where(Vote.user_id == user.id)
        .order_by(Vote.created_at, Vote.id)
    )
    entries = db.session.execute(
        select(MapEntry, Disease.slug)
        .join(Disease, Disease.id == MapEntry.disease_id)
        .where(MapEntry.user_id == user.id)
        .order_by(MapEntry.created_at, MapEntry.id)
    )
    comments = list(
        db.session.scalars(
            select(Comment)
            .where(Comment.author_id == user.id)
            .order_by(Comment.created_at, Comment.id)
        )
    )
    revisions: dict[int, list[dict]] = {}
    if comments:
        for revision in db.session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id.in_([c.id for c in comments]))
            .order_by(CommentRevision.created_at, CommentRevision.id)
        ):
            revisions.setdefault(revision.comment_id, []).append(
                {"body_markdown": revision.body_md, "created_at": iso_utc(revision.created_at)}
            )
    questions = db.session.execute(
        select(Question, Disease.slug)
        .join(Disease, Disease.id == Question.disease_id)
        .where(Question.author_id == user.id)
        .order_by(Question.created_at, Question.id)
    )
    logins = db.session.scalars(
        select(LoginSession.created_at)
        .where(LoginSession.user_id == user.id)
        .order_by(LoginSession.created_at)
    )
    return {
        "profile": {
            "username": user.username,
            "email": user.email,
            "role": user.role,
            "joined_at": iso_utc(user.created_at),
        },
        # When each browser that is still logged in logged in; the ids stay secret.
        "logins": [{"started_at": iso_utc(started)} for started in logins],
        "votes": [
            {
                "question_id": qid,
                "question_title": title,
                "disease": slug,
                "voted_at": iso_utc(created_at),
            }
            for created_at, qid, title, slug in votes
        ],
        "map_entries": [
            {
                "disease": slug,
                "role": entry.role,
                "country": entry.country,
                "region": entry.region,
                "since_year": entry.since_year,
                "anonymous": entry.anonymous,
                "created_at": iso_utc(entry.created_at),
                "updated_at": iso_utc(entry.updated_at),
            }
            for entry, slug in entries
        ],
        "comments": [
            {
                "id": c.id,
                "question_id": c.question_id,
                "parent_id": c.parent_id,
                "body_markdown": c.body_md,
                "created_at": iso_utc(c.created_at),
                "edited_at": iso_utc(c.edited_at),
                "deleted_at": iso_utc(c.deleted_at),
                "earlier_versions": revisions.get(c.id, []),
            }
            for c in comments
        ],
        "questions": [
            {
                "id": q.id,
                "disease": slug,
                "title": q.title,
                "body_markdown": q.body_md,
                "created_at": iso_utc(q.created_at),
            }
            for q, slug in questions
        ],
    }


def member_communities(user: User, include_anonymous: bool) -> list[Disease]:
    """The diseases whose map `user` joined, by name; anonymous entries only when asked."""
    stmt = (
        select(Disease)
        .join(MapEntry, MapEntry.disease_id == Disease.id)
        .where(MapEntry.user_id == user.id)
        .order_by(Disease.name, Disease.id)
    )
    if not include_anonymous:
        stmt = stmt.where(MapEntry.anonymous.is_(False))
    return list(db.session.scalars(stmt))


def member_questions(user: User):
    """A select of the questions `user` asked, newest first."""
    return (
        select(Question)
        .where(Question.author_id == user.id)
        .order_by(Question.created_at.desc(), Question.id.desc())
    )


def member_comments(user: User):
    """A select of `user`'s visible comments (not deleted or hidden), newest first."""
    return (
        select(Comment)
        .where(
            Comment.author_id == user.id, Comment.deleted_at.is_(None), Comment.hidden_at.is_(None)
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )


def questions_by_id(ids: list[int]) -> dict[int, Question]:
    """The questions with these ids, their diseases loaded, keyed by id."""
    if not ids:
        return {}
    stmt = select(Question).options(joinedload(Question.disease)).where(Question.id.in_(ids))
    return {q.id: q for q in db.session.scalars(stmt)}
