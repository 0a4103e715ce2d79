"""Sending what the outbox holds: `flask --app forum deliver`.

Composing and sending use Python's own `email.message.EmailMessage` and `smtplib`: maintained
with CPython itself, no extra dependency, and exactly what Flask-Mail and Flask-Mailman wrap.

Several workers may run at once on PostgreSQL: each claims one due message with
`SELECT ... FOR UPDATE SKIP LOCKED` and holds that row lock while it sends, so no other worker
can take the same message. SQLite has no row locks: run ONE worker there.

A failure is retried with a growing wait (1, 2, 4 ... minutes, at most an hour) and given up
after a day; given-up mail shows on the admins' page /admin/mail.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from forum.extensions import db
from forum.models import OutboxMessage
from forum.models.base import utcnow

log = logging.getLogger("forum.mail")

GIVE_UP_AFTER = timedelta(days=1)
MAX_WAIT = timedelta(hours=1)


@dataclass(frozen=True)
class Outcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def compose(message: OutboxMessage) -> EmailMessage:
    """The email as it goes over the wire: text part, HTML alternative, unsubscribe headers."""
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}")
    # Marks it as sent by a program, so auto-responders do not answer it.
    email["Auto-Submitted"] = "auto-generated"
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


def backoff(attempts: int) -> timedelta:
    """How long to wait before try number `attempts + 1`: 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_WAIT)


class LogTransport:
    """Without MAIL_SERVER: each email is written to the log, so development needs no server."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, email: EmailMessage) -> None:
        text = email.get_body(preferencelist=("plain",))
        log.info(
            "email (MAIL_SERVER is not set, so it is logged instead of sent)\n"
            "To: %s\nSubject: %s\n\n%s",
            email["To"],
            email["Subject"],
            text.get_content() if text else "",
        )


class SmtpTransport:
    """One SMTP connection for a batch, from the MAIL_* settings (STARTTLS with MAIL_USE_TLS)."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        smtp = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"])
        if c["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if c["MAIL_USERNAME"]:
            smtp.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        return smtp

    def send(self, email: EmailMessage) -> None:
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(email)
        except smtplib.SMTPServerDisconnected:
            # The server closed an idle connection: one fresh connection, one more try.
            self.smtp = self._connect()
            self.smtp.send_message(email)

    def __exit__(self, *exc):
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
        return False


def transport():
    config = current_app.config
    return SmtpTransport(config) if config["MAIL_SERVER"] else LogTransport()


def claim_next() -> OutboxMessage | None:
    """The next due message, locked for this worker on PostgreSQL (others skip it)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return db.session.scalar(stmt)


def _success_values() -> dict:
    # A sent message's body (a password-reset link, say) has no further use: keep no copy.
    return {
        "status": "sent",
        "sent_at": utcnow(),
        "attempts": OutboxMessage.attempts + 1,
        "last_error": None,
        "text_body": "",
        "html_body": "",
    }


def _failure_values(message_id: int, created_at, attempts: int, error: Exception) -> dict:
    """What a failed try leaves on the row: the next try's time, or given up after a day."""
    now = utcnow()
    values = {"attempts": attempts + 1, "last_error": f"{type(error).__name__}: {error}"[:500]}
    if now - created_at >= GIVE_UP_AFTER:
        log.error("gave up on email %s after %s tries: %s", message_id, attempts + 1, error)
        values["status"] = "failed"
    else:
        log.warning("email %s not sent (try %s): %s", message_id, attempts + 1, error)
        values["next_attempt_at"] = now + backoff(attempts + 1)
    return values


def deliver_due(limit: int = 100) -> Outcome:
    """Send due messages (at most `limit`) until none is left, one transaction each."""
    sent = retried = failed = 0
    sqlite = db.engine.dialect.name == "sqlite"
    with transport() as sender:
        for _ in range(limit):
            message = claim_next()
            if message is None:
                db.session.rollback()
                break
            message_id, created_at, attempts = message.id, message.created_at, message.attempts
            email = compose(message)
            if sqlite:
                # SQLite: one worker, no row locks. End the read so the write below takes the
                # lock afresh (a read that turns into a write fails if another wrote between).
                db.session.rollback()
            try:
                sender.send(email)
            except (smtplib.SMTPException, OSError, ValueError) as error:
                values = _failure_values(message_id, created_at, attempts, error)
                if values.get("status") == "failed":
                    failed += 1
                else:
                    retried += 1
            else:
                values = _success_values()
                sent += 1
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            # On PostgreSQL the commit releases the row lock: by then the row says what happened.
            db.session.commit()
    return Outcome(sent, retried, failed)


def run_worker(once: bool, interval: float, before_each=None, should_stop=None) -> Outcome:
    """Deliver until stopped (Ctrl+C), or with `once` until nothing is due.

    `before_each` runs first in every round (the daily digests are queued there).
    """
    total = Outcome()
    while True:
        try:
            if before_each is not None:
                before_each()
            outcome = deliver_due()
        except OperationalError as error:
            # The database went away or (SQLite) stayed locked: try again next round.
            db.session.rollback()
            if once:
                raise
            log.warning("mail round skipped, the database is not available: %s", error)
            time.sleep(interval)
            continue
        total = Outcome(
            total.sent + outcome.sent,
            total.retried + outcome.retried,
            total.failed + outcome.failed,
        )
        if once:
            if outcome == Outcome():
                return total
            continue
        if should_stop is not None and should_stop():
            return total
        time.sleep(interval)
