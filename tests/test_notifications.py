"""Notifications: which events write one, the header's polled count (304 when unchanged),
the list that marks read and leads to the place, and per-event email settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification, NotificationSetting, OutboxMessage
from forum.models.base import utcnow
from forum.notifications.service import notify, queue_digests
from tests.conftest import HTMX, login
from tests.connect_factories import verify
from tests.factories import make_comment, make_question, make_user


def _notifications(user):
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def _outbox():
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def thread(app):
    asker = make_user("asker")
    writer = make_user("writer")
    question = make_question(title="Does it itch at night?", author_id=asker.id)
    comment = make_comment(question, writer, "It does for me.")
    return asker, writer, question, comment


def test_a_reply_notifies_the_comment_author_and_the_question_author(client, thread):
    asker, writer, question, comment = thread
    replier = make_user("replier")
    login(client, replier)
    response = client.post(
        f"/questions/{question.id}/comments", data={"body": "Same here.", "parent_id": comment.id}
    )
    assert response.status_code == 303
    [reply] = _notifications(writer)
    assert reply.event == "reply" and reply.summary == "Does it itch at night?"
    assert reply.url.startswith("/comments/") and reply.actor_id == replier.id
    [on_question] = _notifications(asker)
    assert on_question.event == "question_comment"


def test_nobody_is_told_of_their_own_words_or_twice(client, thread):
    asker, writer, question, comment = thread
    login(client, writer)
    client.post(f"/questions/{question.id}/comments", data={"body": "Adding to my own."})
    assert _notifications(writer) == []
    assert len(_notifications(asker)) == 1
    # The asker replying to the writer: the writer once, the asker not at all.
    login(client, asker)
    client.post(
        f"/questions/{question.id}/comments", data={"body": "Thanks.", "parent_id": comment.id}
    )
    assert [n.event for n in _notifications(writer)] == ["reply"]
    assert len(_notifications(asker)) == 1


def test_a_guest_reply_notifies_with_someone(client, thread):
    _, writer, question, comment = thread
    client.post(
        f"/questions/{question.id}/comments",
        data={"body": "Guest words.", "parent_id": comment.id, "guest_name": "Gail"},
    )
    login(client, writer)
    assert "Someone replied to your comment" in client.get("/notifications").get_data(as_text=True)


def test_the_header_shows_the_unread_count(client, thread):
    asker, *_ = thread
    login(client, asker)
    assert "badge-unread" not in client.get("/").get_data(as_text=True)
    notify(asker.id, "moderation", "/", summary="A moderator hid your comment")
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'id="notification-count"' in html and ">1<" in html
    assert 'hx-trigger="every 60s"' in html


def test_the_polled_count_answers_304_until_something_changes(client, thread):
    asker, *_ = thread
    login(client, asker)
    first = client.get("/notifications/count", headers=HTMX)
    assert first.status_code == 200 and "<html" not in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    again = client.get("/notifications/count", headers={**HTMX, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    notify(asker.id, "moderation", "/", summary="A moderator hid your comment")
    db.session.commit()
    changed = client.get("/notifications/count", headers={**HTMX, "If-None-Match": etag})
    assert changed.status_code == 200 and ">1<" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_the_count_of_one_member_never_answers_304_for_another(app, client, thread):
    asker, writer, *_ = thread
    login(client, asker)
    etag = client.get("/notifications/count").headers["ETag"]
    other = app.test_client()
    login(other, writer)
    assert other.get("/notifications/count", headers={"If-None-Match": etag}).status_code == 200


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_opening_a_notification_marks_it_read_and_leads_to_the_place(client, thread, htmx):
    asker, *_ = thread
    n = notify(asker.id, "message", "/messages/7", actor=make_user("someone"))
    db.session.commit()
    login(client, asker)
    page = client.get("/notifications").get_data(as_text=True)
    assert "New private message from someone" in page and "Unread" in page
    response = client.post(f"/notifications/{n.id}/open", headers=HTMX if htmx else {})
    if htmx:
        assert (response.status_code, response.headers["HX-Redirect"]) == (204, "/messages/7")
    else:
        assert (response.status_code, response.headers["Location"]) == (303, "/messages/7")
    assert _notifications(asker)[0].read_at is not None


def test_another_members_notification_cannot_be_opened(client, thread):
    asker, writer, *_ = thread
    n = notify(asker.id, "moderation", "/", summary="x")
    db.session.commit()
    login(client, writer)
    assert client.post(f"/notifications/{n.id}/open").status_code == 404
    assert _notifications(asker)[0].read_at is None


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_mark_all_read(client, thread, htmx):
    asker, *_ = thread
    for _ in range(3):
        notify(asker.id, "moderation", "/", summary="x")
    db.session.commit()
    login(client, asker)
    response = client.post("/notifications/read", headers=HTMX if htmx else {})
    assert response.status_code == (204 if htmx else 303)
    assert all(n.read_at for n in _notifications(asker))


def test_a_notification_is_written_in_the_events_transaction(client, thread):
    """A refused comment leaves no notification behind."""
    asker, writer, question, _ = thread
    login(client, writer)
    client.post(f"/questions/{question.id}/comments", data={"body": "   "})
    assert _notifications(asker) == []


def test_notify_refuses_an_unknown_event(app):
    with pytest.raises(ValueError):
        notify(1, "birthday", "/")


# -- email settings -------------------------------------------------------------------------


def test_settings_page_saves_each_events_delivery(client, thread):
    asker, *_ = thread
    login(client, asker)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "A reply to your comment" in page and "In a daily digest" in page
    data = {
        "reply": "off",
        "question_comment": "immediately",
        "contact_request": "daily",
        "request_accepted": "off",
        "message": "immediately",
        "moderation": "daily",
    }
    assert client.post("/notifications/settings", data=data).status_code == 303
    rows = db.session.scalars(
        select(NotificationSetting).where(NotificationSetting.user_id == asker.id)
    ).all()
    assert {r.event: r.delivery for r in rows} == data
    assert client.post("/notifications/settings", data={"reply": "hourly"}).status_code == 422


def test_no_email_without_a_verified_address(thread):
    asker, *_ = thread
    asker.email = "asker@example.org"
    db.session.commit()
    notify(asker.id, "contact_request", "/contacts", actor=make_user("x"))
    db.session.commit()
    assert _outbox() == []


def test_immediately_queues_an_email_in_the_same_transaction(thread):
    asker, *_ = thread
    verify(asker)
    notify(asker.id, "contact_request", "/contacts", actor=make_user("friendly"))
    db.session.rollback()  # the event did not happen: neither did its email
    assert _outbox() == []
    notify(asker.id, "contact_request", "/contacts", actor=make_user("friendly2"))
    db.session.commit()
    [mail] = _outbox()
    assert mail.subject == "friendly2 would like to connect with you"
    assert mail.to_address == "asker@example.org"


def test_off_sends_nothing_and_daily_waits_for_the_digest(thread):
    asker, *_ = thread
    verify(asker)
    db.session.add(NotificationSetting(user_id=asker.id, event="reply", delivery="off"))
    db.session.commit()
    notify(asker.id, "reply", "/c/1", summary="Q one")
    notify(asker.id, "question_comment", "/c/2", summary="Q two")  # daily by default
    notify(asker.id, "question_comment", "/c/3", summary="Q three")
    db.session.commit()
    assert _outbox() == []
    assert queue_digests() == 1
    [digest] = _outbox()
    assert "2 new notifications" in digest.subject
    assert "Q two" in digest.text_body and "Q three" in digest.text_body
    assert "Q one" not in digest.text_body
    # Nothing more until a day has passed since the last digest.
    notify(asker.id, "question_comment", "/c/4", summary="Q four")
    db.session.commit()
    assert queue_digests() == 0
    assert queue_digests(now=utcnow() + timedelta(days=1, minutes=1)) == 1
    assert "Q four" in _outbox()[-1].text_body
