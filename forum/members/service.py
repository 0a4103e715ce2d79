"""A member's own account: email, the JSON export, deletion, and what a profile lists."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from forum import pagecache
from forum.contacts.service import export_requests
from forum.extensions import db
from forum.mail.service import set_email
from forum.messages.service import export_messages, remove_member_messages
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
from forum.moderation.export import member_export as moderation_export


def change_email(user: User, email: str | None) -> bool:
    """Set the member's private email address, or remove it when `email` is empty.

    A new address is unverified and gets the confirmation link (in the same transaction).
    Gives True when the address changed. Not committed.
    """
    return set_email(user, email)


def delete_account(user: User) -> bool:
    """Remove a member and what identifies them, keeping the counts on other rows in step.

    Votes, map entries and logins go (their questions' and diseases' counts drop by one each).
    Comments stay in their threads without an author and questions without an author; the
    earlier versions of their comments go, and so does the text of comments they had deleted
    themselves, as either may hold what they chose to take back. Not committed.

    The member's row is locked for update first: a vote or map join of theirs still in
    progress (which holds the row with FOR KEY SHARE) commits before the rows are counted
    here, and one that comes later waits and then finds the account gone. False when the
    account was already deleted (by another request of the member's): nothing changes.
    """
    uid = user.id
    locked = db.session.scalar(select(User.id).where(User.id == uid).with_for_update())
    if locked is None:
        db.session.expunge(user)
        return False
    # Their messages lose text and sender; requests, blocks, notifications, settings and
    # mail not yet sent go with the account (ON DELETE CASCADE).
    remove_member_messages(uid)
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
    # Each count drops by exactly the rows this statement deleted (one vote per question, one
    # entry per map), the counted rows locked in id order so two deletions never deadlock.
    voted = db.session.scalars(delete(Vote).where(Vote.user_id == uid).returning(Vote.question_id))
    _drop_counts(Question, Question.vote_count, sorted(set(voted)))
    joined = db.session.scalars(
        delete(MapEntry).where(MapEntry.user_id == uid).returning(MapEntry.disease_id)
    )
    _drop_counts(Disease, Disease.member_count, sorted(set(joined)))
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
    return True


def _drop_counts(model, counter, ids: list[int]) -> None:
    """Take one off `counter` on each row of `model` with these ids (locked in id order)."""
    if not ids:
        return
    db.session.execute(
        select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update(key_share=True)
    )
    db.session.execute(
        update(model)
        .where(model.id.in_(ids))
        .values({counter: counter - 1})
        .execution_options(synchronize_session=False)
    )


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
            "email_verified_at": iso_utc(user.email_verified_at),
            "contact_requests_from": user.contact_policy,
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
        # Reports the member filed and bans they received (forum.moderation).
        **moderation_export(user),
        "contact_requests": export_requests(user),
        "messages": export_messages(user.id),
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
    """A select of the questions `user` asked and still shown (not hidden), newest first."""
    return (
        select(Question)
        .where(Question.author_id == user.id, Question.hidden_at.is_(None))
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
