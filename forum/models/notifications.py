"""What a member is told about: notifications, and how each kind may reach them by email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

# The events that notify, with how the settings page names them.
EVENTS = {
    "reply": "A reply to your comment",
    "question_comment": "A comment on your question",
    "contact_request": "A contact request",
    "request_accepted": "Your contact request was accepted",
    "message": "A new private message",
    "moderation": "A moderator's action on your content",
}
DELIVERIES = {
    "immediately": "Email me at once",
    "daily": "In a daily digest",
    "off": "No email",
}
# Without a setting of the member's own: people-to-person events at once, the rest daily.
DEFAULT_DELIVERY = {
    "reply": "daily",
    "question_comment": "daily",
    "contact_request": "immediately",
    "request_accepted": "immediately",
    "message": "immediately",
    "moderation": "immediately",
}
# What became of a notification's email: none due, waiting for the digest, or queued.
EMAIL_STATES = ("none", "digest", "queued")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at", "id"),
        Index("ix_notifications_email_state", "email_state", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(30))
    # Who caused it (NULL for a moderator's action, or once they deleted their account).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A path on this site: where the notification leads.
    url: Mapped[str] = mapped_column(String(500))
    # Public words only (a question's title): never the text of a private message.
    summary: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    email_state: Mapped[str] = mapped_column(String(10), default="none")


class NotificationSetting(db.Model):
    """A member's choice for one event; without a row the event's default applies."""

    __tablename__ = "notification_settings"
    __table_args__ = (
        UniqueConstraint("user_id", "event", name="uq_notification_settings_user_event"),
        CheckConstraint("delivery IN ('immediately', 'daily', 'off')", name="delivery"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(30))
    delivery: Mapped[str] = mapped_column(String(12))
