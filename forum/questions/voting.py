"""Upvotes on questions: toggling a member's vote and the state each vote button shows."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_login import current_user
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from forum.extensions import db
from forum.models import Question, User, Vote
from forum.models.questions import voted_question_ids

OWN_QUESTION = "You asked this, so you cannot upvote it."
REMOVED_QUESTION = "A moderator removed this question, so it takes no votes."
TOO_FAST = "You are voting faster than anyone reads. Wait a minute, then try again."


class VoteRefused(Exception):
    """The member may not vote on this question; str(exc) says why."""


@dataclass(frozen=True)
class VoteResult:
    """What a toggle left behind: whether the member's vote stands, and the stored count."""

    voted: bool
    count: int


@dataclass(frozen=True)
class VoteState:
    """Everything a vote button shows, computed before the template sees it."""

    count: int
    voted: bool = False
    reason: str | None = None  # why the member cannot vote; the button is disabled
    message: str | None = None  # a one-off notice, e.g. the rate limit
    next: str = "/"  # where a plain form post returns to

    @property
    def can_vote(self) -> bool:
        return self.reason is None

    @property
    def unit(self) -> str:
        return "vote" if self.count == 1 else "votes"


def refusal(question: Question, user: User) -> str | None:
    """Why `user` may not upvote `question`, or None when they may."""
    if question.author_id is not None and question.author_id == user.id:
        return OWN_QUESTION
    if question.hidden_at is not None:
        return REMOVED_QUESTION
    return None


def toggle_vote(question: Question, user: User) -> VoteResult:
    """Add the member's upvote, or take it back if it exists; the caller commits.

    The vote row and questions.vote_count change in the same transaction, and the count
    changes by an UPDATE done in the database, so concurrent requests never lose a vote.
    The unique (question_id, user_id) constraint settles races between requests of the
    same member: a duplicate INSERT does nothing and the vote simply stands.
    """
    reason = refusal(question, user)
    if reason:
        raise VoteRefused(reason)
    votes = Vote.__table__
    removed = len(
        db.session.execute(
            delete(votes)
            .where(votes.c.question_id == question.id, votes.c.user_id == user.id)
            .returning(votes.c.id)
        ).all()
    )
    if removed:
        return VoteResult(voted=False, count=_add_to_count(question.id, -removed))
    # RETURNING, not rowcount: psycopg reports -1 rows for this INSERT.
    added = db.session.execute(_insert_vote_unless_present(question.id, user.id)).first()
    if added is not None:
        return VoteResult(voted=True, count=_add_to_count(question.id, 1))
    # Another request of the same member inserted the vote between our DELETE and INSERT.
    return VoteResult(voted=True, count=stored_count(question.id))


def _insert_vote_unless_present(question_id: int, user_id: int):
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Vote.__table__)
        .values(question_id=question_id, user_id=user_id)
        .on_conflict_do_nothing(index_elements=["question_id", "user_id"])
        .returning(Vote.__table__.c.id)
    )


def _add_to_count(question_id: int, delta: int) -> int:
    """Change the stored count in SQL (no read-modify-write) and return the new value."""
    stmt = (
        update(Question)
        .where(Question.id == question_id)
        .values(vote_count=Question.vote_count + delta)
        .returning(Question.vote_count)
    )
    return db.session.execute(stmt, execution_options={"synchronize_session": False}).scalar_one()


def stored_count(question_id: int) -> int:
    """The vote count stored on the question row."""
    return db.session.scalar(select(Question.vote_count).where(Question.id == question_id))


def vote_states(questions: list[Question], user, back: str) -> dict[int, VoteState]:
    """The vote button state of each question, keyed by id, from one query for the member.

    `user` may be anonymous (no query then); `back` is the page path a plain post returns to.
    """
    member = user if getattr(user, "is_authenticated", False) else None
    voted = voted_question_ids(member.id, [q.id for q in questions]) if member else set()
    return {
        q.id: VoteState(
            count=q.vote_count,
            voted=q.id in voted,
            reason=refusal(q, member) if member else None,
            next=f"{back}#question-{q.id}",
        )
        for q in questions
    }


def vote_states_for_page(questions: list[Question]) -> dict[int, VoteState]:
    """vote_states for the current request's member, returning to the current page."""
    return vote_states(questions, current_user, request.full_path.rstrip("?"))
