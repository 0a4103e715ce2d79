"""Upvotes on questions: setting a member's vote as they asked, and what each vote button shows."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_login import current_user
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from forum import pagecache
from forum.extensions import db
from forum.models import Question, User, Vote
from forum.models.questions import voted_question_ids

OWN_QUESTION = "You asked this, so you cannot upvote it."
VOTER_GONE = "This account no longer exists, so the vote was not counted."
REMOVED_QUESTION = "A moderator removed this question, so it takes no votes."
TOO_FAST = "You are voting faster than anyone reads. Wait a minute, then try again."


class VoteRefused(Exception):
    """The member may not vote on this question; str(exc) says why."""


class QuestionGone(Exception):
    """The question was deleted while the vote was on its way."""


@dataclass(frozen=True)
class VoteResult:
    """What a vote request left behind: whether the member's vote stands, and the stored count."""

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


def set_vote(question: Question, user: User, wanted: bool) -> VoteResult:
    """Make the member's upvote stand (`wanted`) or not, whatever it was; the caller commits.

    The request says what the member clicked ("up" or "down"), so a second tab showing a stale
    button never takes back a vote the member meant to add: asking twice for the same state
    changes nothing. Gives the true state and the stored count.

    The vote row and questions.vote_count change in the same transaction, and the count
    changes by an UPDATE done in the database, so concurrent requests never lose a vote.
    The unique (question_id, user_id) constraint settles races between requests of the
    same member: a duplicate INSERT does nothing and the vote simply stands.
    """
    reason = refusal(question, user)
    if reason:
        raise VoteRefused(reason)
    lock_voter_and_question(question.id, user.id)
    pagecache.invalidate_disease(question.disease_id)
    if not wanted:
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
        return VoteResult(voted=False, count=stored_count(question.id))
    # RETURNING, not rowcount: psycopg reports -1 rows for this INSERT.
    added = db.session.execute(_insert_vote_unless_present(question.id, user.id)).first()
    if added is not None:
        return VoteResult(voted=True, count=_add_to_count(question.id, 1))
    # The vote was already there (another tab, or a double click): it stands, counted once.
    return VoteResult(voted=True, count=stored_count(question.id))


def wanted_vote(value: str | None) -> bool:
    """The state a vote form asks for: False for "down" (take the vote back), else True.

    A post without the field (a page cached from before the field existed) upvotes, as its
    button said: never a toggle.
    """
    return value != "down"


def lock_voter_and_question(question_id: int, user_id: int) -> None:
    """Hold the voter's and the question's rows against deletion until the vote commits.

    Call it before reading or writing any vote. FOR KEY SHARE lets votes run side by side (and
    change the question's count) but makes account deletion and question deletion, which lock
    the row for update, wait for the vote; a vote that comes second waits for them and then
    finds the row gone. Either way each sees what the other did, so counts stay equal to rows
    and no vote fails on a foreign key (a 500). SQLite needs no row locks: a writing request
    holds the database's write lock from BEGIN, and the reads below then see any deletion.
    Raises VoteRefused when the account is gone, QuestionGone when the question is.
    """
    voter = db.session.scalar(
        select(User.id).where(User.id == user_id).with_for_update(read=True, key_share=True)
    )
    if voter is None:
        raise VoteRefused(VOTER_GONE)
    found = db.session.scalar(
        select(Question.id)
        .where(Question.id == question_id)
        .with_for_update(read=True, key_share=True)
    )
    if found is None:
        raise QuestionGone(question_id)


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
