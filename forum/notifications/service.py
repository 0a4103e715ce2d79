"""Notifications: written in the event's own transaction, read on /notifications, and sent by
email at once or in a daily digest as the member chose.

Other features call `notify(...)`; moderation calls it with event "moderation".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.mail.service import absolute_url, queue_mail
from forum.models import Notification, NotificationSetting, User
from forum.models.base import utcnow
from forum.models.notifications import DEFAULT_DELIVERY, DELIVERIES, EVENTS

DIGEST_EVERY = timedelta(days=1)
SHOWN = 100


def describe(event: str, actor: str | None, summary: str) -> str:
    """The sentence a notification reads as, on the page and in email (public words only)."""
    who = actor or "Someone"
    if event == "reply":
        return f"{who} replied to your comment on “{summary}”"
    if event == "question_comment":
        return f"{who} commented on your question “{summary}”"
    if event == "contact_request":
        return f"{who} would like to connect with you"
    if event == "request_accepted":
        return f"{who} accepted your contact request"
    if event == "message":
        return f"New private message from {who}"
    return summary or "A moderator acted on your content"


def delivery_for(user_id: int, event: str) -> str:
    """How the member wants this event by email: "immediately", "daily" or "off"."""
    chosen = db.session.scalar(
        select(NotificationSetting.delivery).where(
            NotificationSetting.user_id == user_id, NotificationSetting.event == event
        )
    )
    return chosen or DEFAULT_DELIVERY[event]


def path_for(endpoint: str, anchor: str | None = None, **values) -> str:
    """The site path of `endpoint`, built from the url_map, so services write notifications
    outside a request too (the CLI, tests, a worker)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return f"{path}#{anchor}" if anchor else path


def notify(
    user_id: int,
    event: str,
    url: str,
    actor: User | None = None,
    summary: str = "",
) -> Notification:
    """Tell member `user_id` about `event`, leading to the path `url`.

    Written in the caller's transaction, with the email when the member wants one at once
    (only ever to a verified address) or marked for their daily digest. `summary` must hold
    public words only (a question's title): never a private message's text. Not committed.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    notification = Notification(
        user_id=user_id,
        event=event,
        actor_id=actor.id if actor else None,
        url=url,
        summary=summary[:300],
    )
    db.session.add(notification)
    user = db.session.get(User, user_id)
    if user is not None and user.email_verified:
        delivery = delivery_for(user_id, event)
        if delivery == "immediately":
            text = describe(event, actor.username if actor else None, summary)
            queue_mail(
                user,
                f"notify:{event}",
                _subject(text),
                "notification",
                unsubscribe_event=event,
                text=text,
                link=absolute_url("notifications.index"),
            )
            notification.email_state = "queued"
        elif delivery == "daily":
            notification.email_state = "digest"
    return notification


def _subject(text: str) -> str:
    return text if len(text) <= 120 else text[:119] + "…"


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationRow:
    id: int
    text: str
    url: str
    created_at: datetime
    unread: bool


def unread_state(user_id: int) -> tuple[int, int]:
    """(unread count, newest unread id): one query; the header's count and its ETag."""
    count, newest = db.session.execute(
        select(func.count(Notification.id), func.max(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
    ).one()
    return count or 0, newest or 0


def recent(user_id: int, limit: int = SHOWN) -> list[NotificationRow]:
    """The member's latest notifications, newest first, with who caused each (one query)."""
    actor = aliased(User)
    rows = db.session.execute(
        select(Notification, actor.username)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [
        NotificationRow(
            n.id,
            describe(n.event, name or _gone(n), n.summary),
            n.url,
            n.created_at,
            n.read_at is None,
        )
        for n, name in rows
    ]


def _gone(notification: Notification) -> str | None:
    # A member-to-member event whose member has since deleted their account.
    if notification.event in ("contact_request", "request_accepted", "message"):
        return "[deleted member]"
    return None


def open_notification(user_id: int, notification_id: int) -> str | None:
    """Mark one of the member's notifications read; gives where it leads (None if not theirs).

    Not committed."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return None
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification.url


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the member read; gives how many. Not committed."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# -- settings -----------------------------------------------------------------------------------


def settings_for(user_id: int) -> dict[str, str]:
    """Every event's email delivery for the member, defaults filled in."""
    chosen = dict(
        db.session.execute(
            select(NotificationSetting.event, NotificationSetting.delivery).where(
                NotificationSetting.user_id == user_id
            )
        ).all()
    )
    return {event: chosen.get(event, DEFAULT_DELIVERY[event]) for event in EVENTS}


def save_setting(user_id: int, event: str, delivery: str) -> None:
    """Set how one event reaches the member by email. Not committed."""
    if event not in EVENTS or delivery not in DELIVERIES:
        raise ValueError(f"unknown event or delivery: {event!r}, {delivery!r}")
    row = db.session.scalar(
        select(NotificationSetting).where(
            NotificationSetting.user_id == user_id, NotificationSetting.event == event
        )
    )
    if row is None:
        db.session.add(NotificationSetting(user_id=user_id, event=event, delivery=delivery))
    else:
        row.delivery = delivery
    if delivery == "off":
        # Nothing already waiting for a digest goes out either.
        db.session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.event == event,
                Notification.email_state == "digest",
            )
            .values(email_state="none")
            .execution_options(synchronize_session=False)
        )


def save_settings(user_id: int, deliveries: dict[str, str]) -> None:
    """Set several events at once. Not committed."""
    for event, delivery in deliveries.items():
        save_setting(user_id, event, delivery)


# -- the daily digest ----------------------------------------------------------------------------


def queue_digests(now: datetime | None = None) -> int:
    """Queue one digest email for each member with waiting notifications whose last digest is
    a day old or more; gives how many. Commits (the delivery worker calls it each round)."""
    now = now or utcnow()
    due_users = db.session.scalars(
        select(User)
        .where(
            User.id.in_(select(Notification.user_id).where(Notification.email_state == "digest")),
            (User.digest_sent_at.is_(None)) | (User.digest_sent_at <= now - DIGEST_EVERY),
        )
        .order_by(User.id)
    ).all()
    queued = 0
    for user in due_users:
        rows = recent_digest_rows(user.id)
        if user.email_verified and rows:
            queue_mail(
                user,
                "digest",
                f"Your RareCircle digest: {len(rows)} new notification"
                + ("s" if len(rows) != 1 else ""),
                "digest",
                items=rows,
                link=absolute_url("notifications.index"),
            )
            queued += 1
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.email_state == "digest")
            .values(email_state="queued")
            .execution_options(synchronize_session=False)
        )
        user.digest_sent_at = now
    db.session.commit()
    return queued


def recent_digest_rows(user_id: int) -> list[str]:
    """The sentences of the member's notifications waiting for the digest, oldest first."""
    actor = aliased(User)
    rows = db.session.execute(
        select(Notification, actor.username)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .where(Notification.user_id == user_id, Notification.email_state == "digest")
        .order_by(Notification.id)
        .limit(SHOWN)
    )
    return [describe(n.event, name or _gone(n), n.summary) for n, name in rows]
