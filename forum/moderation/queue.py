"""The moderators' queue: open reports grouped by item, urgent first, then the most reported
and the oldest; each item with its text, its thread, the reports and its author's history.

A page of the queue costs a fixed number of queries whatever it holds: one for the page of
reported items, then one each for their reports, comments, questions, authors, the authors'
comment and removal counts, and their bans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from sqlalchemy import case, func, or_, select

from forum.extensions import db
from forum.models.comments import Comment
from forum.models.diseases import Disease
from forum.models.moderation import COMMENT, QUESTION, Ban, Report
from forum.models.questions import Question
from forum.models.users import User
from forum.moderation.bans import active_bans_by_user
from forum.moderation.rules import (
    AUTO_HIDDEN,
    HIDE_REASONS,
    REPORT_REASONS,
    URGENT_REASON,
    acting_against_problem,
    removal_notice,
)

HELD_SHOWN = 50


@dataclass
class AuthorHistory:
    """What a moderator wants to know about an item's author before deciding."""

    user: User
    url: str
    comment_count: int
    removed_count: int
    ban: Ban | None
    # Why the current moderator may not act against this author (an administrator), or None.
    protected: str | None


@dataclass
class ReportLine:
    key: str
    reason: str
    note: str
    created_at: datetime
    urgent: bool


@dataclass
class QueueItem:
    """One reported (or looked-up) comment or question as the queue shows it."""

    kind: str
    id: int
    body_html: str  # a comment's sanitized text; "" for a question
    title: str  # a question's title, or the title of the comment's question
    prompt: str
    item_url: str
    question_id: int
    question_url: str
    disease_name: str
    created_at: datetime
    hidden_notice: str | None
    auto_hidden: bool
    held: bool
    locked_at: datetime | None
    author: AuthorHistory | None
    guest_name: str | None
    reports: list[ReportLine] = field(default_factory=list)
    # A one-off message about what an action just did, and the errors of a refused form.
    message: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def dom_id(self) -> str:
        return f"mod-{self.kind}-{self.id}"

    @property
    def urgent(self) -> bool:
        return any(r.urgent for r in self.reports)

    @property
    def suggested_reason(self) -> str:
        """The public reason the hide form offers first: what most reporters chose, when it is
        a reason a moderator can give ("" leaves the moderator to choose)."""
        keys = [r.key for r in self.reports if r.key in HIDE_REASONS and r.key != "other"]
        return max(keys, key=keys.count) if keys else ""

    @property
    def author_name(self) -> str:
        if self.author:
            return self.author.user.username
        return self.guest_name or "[deleted member]"


def reported_targets(page: int, per_page: int) -> tuple[list[tuple[str, int]], bool]:
    """One page of items with open reports, urgent ones first, then by number of reports,
    then the longest waiting; gives (kind, id) pairs and whether another page follows."""
    urgent = func.max(case((Report.reason == URGENT_REASON, 1), else_=0))
    stmt = (
        select(Report.target_type, Report.target_id)
        .where(Report.resolved_at.is_(None), Report.target_type.in_((COMMENT, QUESTION)))
        .group_by(Report.target_type, Report.target_id)
        .order_by(
            urgent.desc(),
            func.count(Report.id).desc(),
            func.min(Report.created_at),
            Report.target_type,
            Report.target_id,
        )
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    rows = [(kind, item_id) for kind, item_id in db.session.execute(stmt)]
    return rows[:per_page], len(rows) > per_page


def open_report_total() -> int:
    """How many items have open reports (for the queue's heading)."""
    stmt = select(func.count()).select_from(
        select(Report.target_type, Report.target_id)
        .where(Report.resolved_at.is_(None))
        .group_by(Report.target_type, Report.target_id)
        .subquery()
    )
    return db.session.scalar(stmt) or 0


def queue_items(targets: list[tuple[str, int]], moderator: User) -> list[QueueItem]:
    """The items named by `targets`, in that order (gone ones left out), fully loaded."""
    comment_ids = [i for kind, i in targets if kind == COMMENT]
    question_ids = [i for kind, i in targets if kind == QUESTION]
    items: dict[tuple[str, int], QueueItem] = {}
    author_ids: dict[tuple[str, int], int | None] = {}

    if comment_ids:
        stmt = (
            select(Comment, Question, Disease.slug, Disease.name)
            .join(Question, Question.id == Comment.question_id)
            .join(Disease, Disease.id == Question.disease_id)
            .where(Comment.id.in_(comment_ids), Comment.deleted_at.is_(None))
        )
        for comment, question, slug, disease_name in db.session.execute(stmt):
            items[(COMMENT, comment.id)] = _comment_item(comment, question, slug, disease_name)
            author_ids[(COMMENT, comment.id)] = comment.author_id
    if question_ids:
        stmt = (
            select(Question, Disease.slug, Disease.name)
            .join(Disease, Disease.id == Question.disease_id)
            .where(Question.id.in_(question_ids))
        )
        for question, slug, disease_name in db.session.execute(stmt):
            items[(QUESTION, question.id)] = _question_item(question, slug, disease_name)
            author_ids[(QUESTION, question.id)] = question.author_id

    _attach_reports(items, comment_ids, question_ids)
    histories = _histories({i for i in author_ids.values() if i}, moderator)
    for key, item in items.items():
        item.author = histories.get(author_ids[key])
    return [items[key] for key in targets if key in items]


def _question_url(question: Question, disease_slug: str, **anchor) -> str:
    return url_for("questions.show", slug=disease_slug, question_slug=question.slug, **anchor)


def _comment_item(comment: Comment, question: Question, slug: str, disease: str) -> QueueItem:
    return QueueItem(
        kind=COMMENT,
        id=comment.id,
        body_html=comment.body_html,
        title=question.title,
        prompt="",
        item_url=url_for("comments.show", comment_id=comment.id, _anchor=f"comment-{comment.id}"),
        question_id=question.id,
        question_url=_question_url(question, slug),
        disease_name=disease,
        created_at=comment.created_at,
        hidden_notice=removal_notice(comment.hidden_reason) if comment.hidden_at else None,
        auto_hidden=comment.hidden_at is not None and comment.hidden_reason == AUTO_HIDDEN,
        held=comment.held_at is not None,
        locked_at=question.locked_at,
        author=None,
        guest_name=comment.guest_name,
    )


def _question_item(question: Question, slug: str, disease: str) -> QueueItem:
    url = _question_url(question, slug)
    return QueueItem(
        kind=QUESTION,
        id=question.id,
        body_html="",
        title=question.title,
        prompt=question.prompt,
        item_url=url,
        question_id=question.id,
        question_url=url,
        disease_name=disease,
        created_at=question.created_at,
        hidden_notice=removal_notice(question.hidden_reason) if question.hidden_at else None,
        auto_hidden=question.hidden_at is not None and question.hidden_reason == AUTO_HIDDEN,
        held=False,
        locked_at=question.locked_at,
        author=None,
        guest_name=None,
    )


def _attach_reports(items, comment_ids: list[int], question_ids: list[int]) -> None:
    if not items:
        return
    stmt = (
        select(Report)
        .where(
            Report.resolved_at.is_(None),
            or_(
                (Report.target_type == COMMENT) & Report.target_id.in_(comment_ids or [-1]),
                (Report.target_type == QUESTION) & Report.target_id.in_(question_ids or [-1]),
            ),
        )
        .order_by(Report.created_at, Report.id)
    )
    for report in db.session.scalars(stmt):
        item = items.get((report.target_type, report.target_id))
        if item is not None:
            item.reports.append(
                ReportLine(
                    key=report.reason,
                    reason=REPORT_REASONS.get(report.reason, report.reason),
                    note=report.note,
                    created_at=report.created_at,
                    urgent=report.reason == URGENT_REASON,
                )
            )


def _histories(user_ids: set[int], moderator: User) -> dict[int, AuthorHistory]:
    """Each author's account, shown comments, removed items and ban, in four queries."""
    if not user_ids:
        return {}
    ids = sorted(user_ids)
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    shown = dict(
        db.session.execute(
            select(Comment.author_id, func.count(Comment.id))
            .where(
                Comment.author_id.in_(ids),
                Comment.deleted_at.is_(None),
                Comment.hidden_at.is_(None),
                Comment.held_at.is_(None),
            )
            .group_by(Comment.author_id)
        ).all()
    )
    removed_comments = select(Comment.author_id.label("author_id")).where(
        Comment.author_id.in_(ids), Comment.hidden_at.is_not(None), Comment.deleted_at.is_(None)
    )
    removed_questions = select(Question.author_id.label("author_id")).where(
        Question.author_id.in_(ids), Question.hidden_at.is_not(None)
    )
    removed_rows = removed_comments.union_all(removed_questions).subquery()
    removed = dict(
        db.session.execute(
            select(removed_rows.c.author_id, func.count()).group_by(removed_rows.c.author_id)
        ).all()
    )
    bans = active_bans_by_user(ids)
    return {
        user.id: AuthorHistory(
            user=user,
            url=url_for("members.show", username=user.username),
            comment_count=shown.get(user.id, 0),
            removed_count=removed.get(user.id, 0),
            ban=bans.get(user.id),
            protected=acting_against_problem(moderator, user),
        )
        for user in users
    }


@dataclass
class HeldComment:
    """A guest's comment awaiting review."""

    id: int
    guest_name: str
    body_html: str
    created_at: datetime
    question_title: str
    question_url: str

    @property
    def dom_id(self) -> str:
        return f"held-{self.id}"


def held_comments(limit: int = HELD_SHOWN) -> list[HeldComment]:
    """Guests' comments awaiting review, the longest waiting first (one query)."""
    stmt = (
        select(Comment, Question, Disease.slug)
        .join(Question, Question.id == Comment.question_id)
        .join(Disease, Disease.id == Question.disease_id)
        .where(Comment.held_at.is_not(None), Comment.deleted_at.is_(None))
        .order_by(Comment.held_at, Comment.id)
        .limit(limit)
    )
    return [
        HeldComment(
            id=comment.id,
            guest_name=comment.guest_name or "Guest",
            body_html=comment.body_html,
            created_at=comment.created_at,
            question_title=question.title,
            question_url=_question_url(question, slug),
        )
        for comment, question, slug in db.session.execute(stmt)
    ]
