"""The public moderation log: every hide, restore, lock, unlock, ban and unban, newest first.

Each line says when, which moderator (or the members' reports, for an automatic hide), the
reason and a link to the item. It never names who reported, and never quotes hidden text: a
comment is named by its discussion, a hidden question only by its disease, and a removed
private message only as "a private message" (no link, no sender, no conversation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import select

from forum.extensions import db
from forum.models.comments import Comment
from forum.models.diseases import Disease
from forum.models.moderation import COMMENT, MEMBER, MESSAGE, QUESTION, ModerationAction
from forum.models.questions import Question
from forum.models.users import User

PUBLIC_ACTIONS = ("hide", "restore", "lock", "unlock", "ban", "unban")
VERBS = {
    ("hide", COMMENT): "Hid a comment",
    ("hide", QUESTION): "Hid a question",
    ("hide", MESSAGE): "Removed a private message",
    ("restore", COMMENT): "Restored a comment",
    ("restore", QUESTION): "Restored a question",
    ("lock", QUESTION): "Locked a discussion",
    ("unlock", QUESTION): "Unlocked a discussion",
    ("ban", MEMBER): "Banned a member",
    ("unban", MEMBER): "Lifted a ban",
}


@dataclass
class LogLine:
    id: int
    created_at: datetime
    verb: str
    by: str
    by_url: str | None
    reason: str
    detail: str
    item_label: str
    item_url: str | None


def log_page(page: int, per_page: int):
    """One page of the public log: (the Flask-SQLAlchemy Pagination, its lines)."""
    stmt = (
        select(ModerationAction)
        .where(ModerationAction.action.in_(PUBLIC_ACTIONS))
        .order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
    )
    pagination = db.paginate(stmt, page=page, per_page=per_page, max_per_page=100)
    return pagination, log_lines(pagination.items)


def log_lines(entries: list[ModerationAction]) -> list[LogLine]:
    """The entries as the public reads them, in three queries whatever their number."""
    user_ids = {e.moderator_id for e in entries if e.moderator_id}
    user_ids |= {e.target_id for e in entries if e.target_type == MEMBER}
    users = _by_id(select(User).where(User.id.in_(user_ids)), user_ids)
    comment_ids = {e.target_id for e in entries if e.target_type == COMMENT}
    comments = {}
    if comment_ids:
        stmt = select(Comment.id, Comment.question_id).where(Comment.id.in_(comment_ids))
        comments = dict(db.session.execute(stmt).all())
    question_ids = set(comments.values()) | {
        e.target_id for e in entries if e.target_type == QUESTION
    }
    questions = {}
    if question_ids:
        stmt = (
            select(Question, Disease)
            .join(Disease, Disease.id == Question.disease_id)
            .where(Question.id.in_(question_ids))
        )
        questions = {q.id: (q, d) for q, d in db.session.execute(stmt)}
    return [_line(e, users, comments, questions) for e in entries]


def _by_id(stmt, ids) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(stmt)}


def _line(entry: ModerationAction, users, comments, questions) -> LogLine:
    moderator = users.get(entry.moderator_id) if entry.moderator_id else None
    if entry.automatic:
        by, by_url = "Members' reports (automatic)", None
    elif moderator is not None:
        by, by_url = moderator.username, url_for("members.show", username=moderator.username)
    else:
        by, by_url = "A former moderator", None
    label, url = _item(entry, users, comments, questions)
    return LogLine(
        id=entry.id,
        created_at=entry.created_at,
        verb=VERBS.get((entry.action, entry.target_type), entry.action),
        by=by,
        by_url=by_url,
        reason=entry.reason,
        detail=entry.detail,
        item_label=label,
        item_url=url,
    )


def _question_words(question: Question, disease: Disease) -> str:
    # A hidden question's title is its hidden text: name its community only.
    if question.hidden_at is not None:
        return f"a question in {disease.name}"
    return f"“{question.title}”"


def _item(entry: ModerationAction, users, comments, questions) -> tuple[str, str | None]:
    if entry.target_type == MESSAGE:
        return "a private message", None
    if entry.target_type == MEMBER:
        member = users.get(entry.target_id)
        if member is None:
            return "a deleted account", None
        return member.username, url_for("members.show", username=member.username)
    if entry.target_type == COMMENT:
        found = questions.get(comments.get(entry.target_id))
        if found is None:
            return "a comment since deleted", None
        url = url_for("comments.show", comment_id=entry.target_id)
        return f"a comment on {_question_words(*found)}", f"{url}#comment-{entry.target_id}"
    found = questions.get(entry.target_id)
    if found is None:
        return "a question since deleted", None
    question, disease = found
    url = url_for("questions.show", slug=disease.slug, question_slug=question.slug)
    return _question_words(question, disease), url
