"""Email: signed links, the outbox (written with the event), and queueing what a member is sent.

Nothing here talks SMTP: forum.mail.delivery sends what the outbox holds. Every email but the
address verification itself goes only to a verified address, carries a one-click unsubscribe
link, and has a plain-text and an HTML part.
"""

from __future__ import annotations

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select

from forum.extensions import db
from forum.models import OutboxMessage, User
from forum.models.base import utcnow
from forum.models.notifications import EVENTS

VERIFY_SALT = "email-verification"
UNSUBSCRIBE_SALT = "unsubscribe"
VERIFY_MAX_AGE = 7 * 24 * 3600
# An unsubscribe link names one kind of email, or every kind.
ALL_EVENTS = "all"


# -- links ------------------------------------------------------------------------------------


def absolute_url(endpoint: str, **values) -> str:
    """A link for an email: SITE_URL plus the endpoint's path (works outside a request)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["SITE_URL"].rstrip("/") + adapter.build(endpoint, values)


def _timed(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)


def verification_token(user: User) -> str:
    """A signed token naming the member and the address to confirm (valid for a week)."""
    return _timed(VERIFY_SALT).dumps({"u": user.id, "e": user.email})


def user_for_verification(token: str) -> User | None:
    """The member whose current address the token confirms, or None (bad, old, or changed)."""
    try:
        data = _timed(VERIFY_SALT).loads(token, max_age=VERIFY_MAX_AGE)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.email or user.email != data.get("e"):
        return None
    return user


def confirm_email(user: User) -> bool:
    """Mark the member's address verified; False when it already was. Not committed."""
    if user.email_verified_at is not None:
        return False
    user.email_verified_at = utcnow()
    return True


def unsubscribe_token(user_id: int, event: str) -> str:
    """A signed token that stops one kind of email (or ALL_EVENTS) for a member, no login.

    It never expires: an unsubscribe link in an old email must keep working.
    """
    return URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT).dumps(
        {"u": user_id, "e": event}
    )


def read_unsubscribe_token(token: str) -> tuple[User, str] | None:
    """(member, event) from an unsubscribe token, or None when it is not one of ours."""
    try:
        data = URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    event = data.get("e")
    if event != ALL_EVENTS and event not in EVENTS:
        return None
    user = db.session.get(User, data["u"])
    return (user, event) if user is not None else None


# -- the outbox --------------------------------------------------------------------------------


def queue_mail(
    user: User,
    kind: str,
    subject: str,
    template: str,
    unsubscribe_event: str = ALL_EVENTS,
    **context,
) -> OutboxMessage | None:
    """Put an email to `user` in the outbox, in the caller's transaction; None if none may go.

    Only the address verification goes to an address not yet verified. `template` names
    templates/mail/email/<template>.txt and .html; both get `context`, the member, the subject and
    the unsubscribe link. Not committed.
    """
    if not user.email or (kind != "verify" and not user.email_verified):
        return None
    unsubscribe_url = absolute_url(
        "mail.unsubscribe", token=unsubscribe_token(user.id, unsubscribe_event)
    )
    context.update(
        user=user,
        subject=subject,
        unsubscribe_url=unsubscribe_url,
        unsubscribe_all=unsubscribe_event == ALL_EVENTS,
        site_url=current_app.config["SITE_URL"].rstrip("/"),
        settings_url=absolute_url("notifications.settings"),
    )
    message = OutboxMessage(
        user_id=user.id,
        kind=kind,
        to_address=user.email,
        subject=subject,
        text_body=render_template(f"mail/email/{template}.txt", **context),
        html_body=render_template(f"mail/email/{template}.html", **context),
        headers={
            # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the URL.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def queue_verification(user: User) -> OutboxMessage | None:
    """Send the link that confirms the member's address (the one email an unverified address
    gets). Not committed."""
    if not user.email or user.email_verified_at is not None:
        return None
    return queue_mail(
        user,
        "verify",
        "Confirm your email address for RareCircle",
        "verify",
        verify_url=absolute_url("mail.verify", token=verification_token(user)),
    )


def set_email(user: User, email: str | None) -> bool:
    """Set the member's address; a new address must be verified again (a link is queued).

    Gives True when the address changed. Not committed.
    """
    email = email.strip() if email and email.strip() else None
    if email == user.email:
        return False
    user.email = email
    user.email_verified_at = None
    if email:
        queue_verification(user)
    return True


def failed_mail(limit: int = 200) -> list[OutboxMessage]:
    """Mail given up on, newest first (for the admins' page)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def waiting_mail(limit: int = 200) -> list[OutboxMessage]:
    """Mail not sent yet (some being retried), oldest first (for the admins' page)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending")
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
