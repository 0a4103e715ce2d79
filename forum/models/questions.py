"""Questions asked about a disease, and members' upvotes on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Select,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import utcnow
from forum.models.diseases import Disease
from forum.models.users import User


class Question(db.Model):
    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("disease_id", "slug", name="uq_questions_disease_slug"),
        UniqueConstraint("disease_id", "title_key", name="uq_questions_disease_title_key"),
        Index("ix_questions_ranking", "disease_id", "vote_count", "created_at", "id"),
        CheckConstraint("vote_count >= 0", name="vote_count_not_negative"),
        CheckConstraint("comment_count >= 0", name="comment_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    disease_id: Mapped[int] = mapped_column(ForeignKey("diseases.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(220))
    title: Mapped[str] = mapped_column(String(220))
    # Normalized title (lower case, letters and digits only): refuses near-duplicate questions.
    title_key: Mapped[str] = mapped_column(String(220))
    prompt: Mapped[str] = mapped_column(String(300), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitized once when saved; pages never render Markdown.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Credits of an article shipped with the site (front matter in content/): who wrote it and
    # when it was last checked against current knowledge. None for questions members ask.
    article_author: Mapped[str | None] = mapped_column(String(120))
    article_reviewed_on: Mapped[date | None]
    # Indexed: profiles list a member's questions, account deletion clears them.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Kept in step with the vote and comment rows in the same transaction.
    vote_count: Mapped[int] = mapped_column(default=0, server_default="0")
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Moderation: a hidden question leaves every list; a locked one takes no new comments.
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(300))
    locked_at: Mapped[datetime | None]
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # Loaded on purpose only (members' profiles join it); never per row by accident.
    disease: Mapped[Disease] = relationship(lazy="raise")
    author: Mapped[User | None] = relationship(lazy="raise", foreign_keys=[author_id])

    def __repr__(self) -> str:
        return f"<Question {self.slug}>"


class Vote(db.Model):
    __tablename__ = "votes"
    # One vote per member per question, enforced by the database itself.
    __table_args__ = (UniqueConstraint("question_id", "user_id", name="uq_votes_question_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


SORTS = ("top", "new")


def ranked_questions(disease: Disease, sort: str = "top", exclude_id: int | None = None) -> Select:
    """A select of a disease's questions: by votes then newest ("top"), or newest first ("new").

    Hidden questions are never listed. The id is the last tie-breaker, so pagination never
    repeats or skips a question.
    """
    stmt = select(Question).where(Question.disease_id == disease.id, Question.hidden_at.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(Question.id != exclude_id)
    if sort == "new":
        return stmt.order_by(Question.created_at.desc(), Question.id.desc())
    return stmt.order_by(Question.vote_count.desc(), Question.created_at.desc(), Question.id.desc())


def top_questions(disease: Disease, limit: int, exclude_id: int | None = None) -> list[Question]:
    """The disease's best-ranked questions, at most `limit`."""
    return list(db.session.scalars(ranked_questions(disease, "top", exclude_id).limit(limit)))


def question_by_slug(disease: Disease, slug: str) -> Question | None:
    """The disease's question with this slug, or None."""
    stmt = select(Question).where(Question.disease_id == disease.id, Question.slug == slug)
    return db.session.scalar(stmt)


def voted_question_ids(user_id: int, question_ids: list[int]) -> set[int]:
    """Which of these questions the member has upvoted, in one query."""
    if not question_ids:
        return set()
    stmt = select(Vote.question_id).where(
        Vote.user_id == user_id, Vote.question_id.in_(question_ids)
    )
    return set(db.session.scalars(stmt))


def question_by_title_key(disease_id: int, key: str) -> Question | None:
    """The disease's question whose normalized title is `key`, or None."""
    stmt = select(Question).where(Question.disease_id == disease_id, Question.title_key == key)
    return db.session.scalar(stmt)


def slugs_like(disease_id: int, base: str) -> set[str]:
    """The disease's question slugs that are `base` or start with `base-`."""
    escaped = base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = select(Question.slug).where(
        Question.disease_id == disease_id,
        (Question.slug == base) | Question.slug.like(f"{escaped}-%", escape="\\"),
    )
    return set(db.session.scalars(stmt))
