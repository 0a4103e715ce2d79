"""Contact by consent: requests between members, and blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

REQUEST_STATES = ("open", "accepted", "declined")


class ContactRequest(db.Model):
    """One member asking another for a conversation, with a short note.

    "declined" is stored as such; the sender is only ever shown "not accepted".
    """

    __tablename__ = "contact_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'declined')", name="status"),
        Index("ix_contact_requests_pair", "sender_id", "recipient_id", "created_at"),
        Index("ix_contact_requests_recipient_status", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Both sides go with their account (the note is the sender's text, the request the pair's).
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    note_md: Mapped[str] = mapped_column(Text, default="")
    note_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class Block(db.Model):
    """`blocker_id` blocked `blocked_id`: no requests or messages either way; never told."""

    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id", name="uq_blocks_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
