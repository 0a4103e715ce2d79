"""Private conversations between two members, their messages, and reports of a message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow


class Conversation(db.Model):
    """The one conversation of a pair of members, opened when a contact request is accepted.

    The lower user id is always `member_a_id`, so a pair has exactly one row. A member who
    deletes their account leaves NULL in their place ("[deleted member]").
    """

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("member_a_id", "member_b_id", name="uq_conversations_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_a_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    member_b_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Changed with every message in the same transaction: the list sorts on it.
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)

    def other_id(self, user_id: int) -> int | None:
        """The id of the other member of the pair (None once they deleted their account)."""
        return self.member_b_id if self.member_a_id == user_id else self.member_a_id

    def has_member(self, user_id: int) -> bool:
        return user_id in (self.member_a_id, self.member_b_id)


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Sent while the other member had blocked the sender: kept from them, and nobody is told.
    withheld: Mapped[bool] = mapped_column(default=False)
    # Set when the sender deleted their account (the text is gone too) or a moderator removed
    # it (the text is kept, unseen): both members see "message removed".
    removed_at: Mapped[datetime | None]


class MessageReport(db.Model):
    """A member reported a message they received; only then may a moderator read it."""

    __tablename__ = "message_reports"
    __table_args__ = (
        UniqueConstraint("message_id", "reporter_id", name="uq_message_reports_message_reporter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
