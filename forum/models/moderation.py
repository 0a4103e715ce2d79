"""Moderation: members' reports, bans, and the log of what moderators did.

A report and a log entry name their target by kind and id (`target_type`, `target_id`) rather
than by a foreign key per kind, so a new kind of content (private messages) can be reported
and logged without a change of schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

# Kinds of target a report or a log entry can name.
COMMENT = "comment"
QUESTION = "question"
MEMBER = "member"
# A private message: only ever logged (its reports are MessageReport rows), never linked to.
MESSAGE = "message"


class Report(db.Model):
    """One member's report of one item; open until a moderator resolves it."""

    __tablename__ = "reports"
    __table_args__ = (
        # One report per member per item, enforced by the database itself.
        UniqueConstraint(
            "target_type", "target_id", "reporter_id", name="uq_reports_target_reporter"
        ),
        Index("ix_reports_target", "target_type", "target_id"),
        Index("ix_reports_open", "resolved_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    # A reporter who deletes their account leaves the report behind, nameless.
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # "dismissed", "hidden" or "restored": what the moderator decided.
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ModerationAction(db.Model):
    """One entry of the moderation log: who did what to which item, when, and why."""

    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # hide, restore, lock, unlock, ban, unban (public); dismiss, approve, reject, role.
    action: Mapped[str] = mapped_column(String(20))
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # True for what the site did by itself (an item hidden after enough reports).
    automatic: Mapped[bool] = mapped_column(default=False)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    # The member the action concerns: the author of the item, or the member banned.
    target_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The public reason ("medical misinformation"), and a detail such as a ban's length.
    reason: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Ban(db.Model):
    """A member barred from posting until `ends_at` (None: until lifted), or until lifted."""

    __tablename__ = "bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None]
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def is_active(self, now: datetime) -> bool:
        return self.lifted_at is None and (self.ends_at is None or self.ends_at > now)
