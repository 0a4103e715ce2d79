"""Email that arrives: a real SMTP server (aiosmtpd on 127.0.0.1) receives what
`flask deliver` sends from the outbox; verification, unsubscribe, retries, the log fallback,
and several workers without a double send on PostgreSQL."""

from __future__ import annotations

import email
import logging
import socket
import threading
from datetime import timedelta
from email import policy
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.mail.delivery import backoff, deliver_due
from forum.models import NotificationSetting, OutboxMessage, User
from forum.models.base import utcnow
from forum.notifications.service import notify
from tests.conftest import login, make_test_app
from tests.connect_factories import make_conversation, verify
from tests.factories import PASSWORD, make_user


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What the test SMTP server received: parsed messages and their envelopes."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(parsed)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@pytest.fixture
def smtp(app):
    """A real SMTP server on a free 127.0.0.1 port for this test; the app sends to it."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_TIMEOUT=5)
    yield inbox
    controller.stop()


def deliver(app) -> str:
    """Run `flask deliver --once` as an operator would; gives what it printed."""
    result = app.test_cli_runner().invoke(args=["deliver", "--once"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result.output


def _outbox():
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _link(message, start: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return next(word for word in text.split() if start in word)


def _path(url: str) -> str:
    """The path of an absolute link from an email, for the test client."""
    return urlsplit(url).path


# -- verification -------------------------------------------------------------------------------


def test_a_new_address_gets_its_confirmation_and_nothing_else_until_confirmed(app, client, smtp):
    member = make_user("mira")
    login(client, member)
    response = client.post("/account/email", data={"email": "mira@example.org"})
    assert response.status_code == 303
    notify(member.id, "contact_request", "/contacts", actor=make_user("x"))
    db.session.commit()
    assert "Delivered 1" in deliver(app)

    [message] = smtp.messages
    assert smtp.recipients == [["mira@example.org"]]
    assert message["Subject"] == "Confirm your email address for RareCircle"
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None
    link = _link(message, "/email/verify/")

    # Opening the link shows a button; only the button confirms.
    page = client.get(_path(link))
    assert page.status_code == 200 and "Confirm my email address" in page.get_data(as_text=True)
    assert db.session.get(User, member.id).email_verified_at is None
    confirmed = client.post(_path(link))
    assert confirmed.status_code == 200
    db.session.rollback()
    assert db.session.get(User, member.id).email_verified_at is not None


def test_a_verification_link_for_an_older_address_does_nothing(app, client, smtp):
    member = make_user("mira")
    login(client, member)
    client.post("/account/email", data={"email": "old@example.org"})
    deliver(app)
    old_link = _link(smtp.messages[0], "/email/verify/")
    client.post("/account/email", data={"email": "new@example.org"})
    assert client.post(_path(old_link)).status_code == 404
    db.session.rollback()
    assert db.session.get(User, member.id).email_verified_at is None


def test_resend_the_confirmation(app, client, smtp):
    member = make_user("mira", email="mira@example.org")
    login(client, member)
    assert client.post("/account/email/verification").status_code == 303
    deliver(app)
    assert [m["Subject"] for m in smtp.messages] == ["Confirm your email address for RareCircle"]
    assert "Send the confirmation link again" in client.get("/account").get_data(as_text=True)


# -- what every email carries ------------------------------------------------------------------


def test_a_message_email_says_there_is_one_and_never_its_text(app, client, smtp):
    mira, noor = make_user("mira"), verify(make_user("noor"))
    conversation = make_conversation(mira, noor, (noor, "Hi"))
    login(client, mira)
    client.post(f"/messages/{conversation.id}", data={"body": "My private diagnosis details."})
    deliver(app)
    [message] = smtp.messages
    assert message["Subject"] == "New private message from mira"
    whole = message.as_string()
    assert "diagnosis" not in whole
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "New private message from mira" in text and "New private message from mira" in html
    assert (
        message["List-Unsubscribe"].startswith("<http")
        and "/unsubscribe/" in message["List-Unsubscribe"]
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in text and "/unsubscribe/" in html


def test_one_click_unsubscribe_needs_no_login_and_no_form_token(app, smtp):
    noor = verify(make_user("noor"))
    notify(noor.id, "contact_request", "/contacts", actor=make_user("x"))
    db.session.commit()
    deliver(app)
    url = smtp.messages[0]["List-Unsubscribe"].strip("<>")
    mail_client = app.test_client()  # no session, no cookie, like a mail provider
    assert mail_client.get(_path(url)).status_code == 200
    assert not db.session.scalars(select(NotificationSetting)).all()  # GET changes nothing
    response = mail_client.post(_path(url), data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert response.status_code == 200
    db.session.rollback()
    [setting] = db.session.scalars(select(NotificationSetting)).all()
    assert (setting.user_id, setting.event, setting.delivery) == (noor.id, "contact_request", "off")
    notify(noor.id, "contact_request", "/contacts", actor=make_user("y"))
    db.session.commit()
    deliver(app)
    assert len(smtp.messages) == 1


def test_the_verification_email_unsubscribes_from_everything(app, client, smtp):
    member = make_user("mira")
    login(client, member)
    client.post("/account/email", data={"email": "mira@example.org"})
    deliver(app)
    url = smtp.messages[0]["List-Unsubscribe"].strip("<>")
    app.test_client().post(_path(url), csrf=False)
    db.session.rollback()
    rows = db.session.scalars(select(NotificationSetting)).all()
    assert len(rows) == 6 and {r.delivery for r in rows} == {"off"}


def test_the_digest_goes_out_with_the_worker(app, smtp):
    member = verify(make_user("mira"))
    notify(member.id, "reply", "/c/1", summary="Is it hereditary?")
    db.session.commit()
    deliver(app)
    [message] = smtp.messages
    assert "digest" in message["Subject"]
    assert "Is it hereditary?" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_sent_email_keeps_no_copy_of_its_body(app, smtp):
    verify(make_user("mira"))
    member = db.session.scalar(select(User))
    notify(member.id, "moderation", "/", summary="A moderator hid your comment")
    db.session.commit()
    deliver(app)
    [row] = _outbox()
    assert (row.status, row.attempts, row.text_body, row.html_body) == ("sent", 1, "", "")
    assert row.sent_at is not None


# -- failures ----------------------------------------------------------------------------------


def test_a_failure_is_retried_with_backoff_then_given_up_after_a_day(app, client):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port(), MAIL_TIMEOUT=2)
    member = verify(make_user("mira"))
    notify(member.id, "moderation", "/", summary="A moderator hid your comment")
    db.session.commit()
    assert "to retry 1" in deliver(app)
    [row] = _outbox()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert "to retry 0" in deliver(app)  # not due yet: nothing tried

    row.next_attempt_at = utcnow()
    row.created_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    assert "given up 1" in deliver(app)
    [row] = _outbox()
    assert (row.status, row.attempts) == ("failed", 2)

    admin = make_user("ada", role="admin")
    login(client, make_user("plain_member"))
    assert client.get("/admin/mail").status_code == 403
    login(client, admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "mira@example.org" in page and "ConnectionRefusedError" in page


def test_backoff_grows_and_stops_at_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(20) == timedelta(hours=1)


def test_without_mail_server_the_email_is_written_to_the_log(app, client, caplog):
    assert app.config["MAIL_SERVER"] is None
    member = make_user("mira")
    login(client, member)
    client.post("/account/email", data={"email": "mira@example.org"})
    with caplog.at_level(logging.INFO, logger="forum.mail"):
        output = deliver(app)
    assert "written to this log" in output
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "forum.mail")
    assert "To: mira@example.org" in logged and "/email/verify/" in logged
    assert _outbox()[0].status == "sent"


# -- several workers ----------------------------------------------------------------------------


def test_several_workers_never_send_a_message_twice(app, database_url, smtp):
    """On PostgreSQL each worker claims a row with FOR UPDATE SKIP LOCKED. (SQLite runs one
    worker: the README says so, and this test needs row locks.)"""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several workers need PostgreSQL's row locks; SQLite runs one worker")
    member = verify(make_user("mira"))
    for n in range(30):
        notify(member.id, "moderation", "/", summary=f"Action number {n}")
    db.session.commit()

    def worker(results):
        worker_app = make_test_app(
            database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=app.config["MAIL_PORT"]
        )
        with worker_app.app_context():
            results.append(deliver_due(limit=100).sent)
            db.session.remove()
            db.engine.dispose()

    results: list[int] = []
    threads = [threading.Thread(target=worker, args=(results,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(results) == 30
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == 30 and len(set(subjects)) == 30
    assert {row.status for row in _outbox()} == {"sent"}


def test_deleting_an_account_drops_its_unsent_mail(app, client, smtp):
    member = make_user("mira")
    login(client, member)
    client.post("/account/email", data={"email": "mira@example.org"})
    assert len(_outbox()) == 1
    client.post("/account/delete", data={"password": PASSWORD})
    assert _outbox() == []


def test_an_address_given_at_sign_up_gets_its_confirmation(app, client, smtp):
    response = client.post(
        "/signup",
        data={
            "username": "newcomer",
            "password": "a long enough passphrase",
            "email": "n@example.org",
        },
    )
    assert response.status_code == 303
    deliver(app)
    [message] = smtp.messages
    assert smtp.recipients == [["n@example.org"]]
    assert "/email/verify/" in message.get_body(preferencelist=("plain",)).get_content()
