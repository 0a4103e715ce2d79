"""Contact by consent: who sees a Connect button, requests, answers, limits and blocks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Block, ContactRequest, Conversation, Message, Notification
from forum.models.base import utcnow
from tests.conftest import HTMX, login
from tests.connect_factories import make_block, make_request
from tests.factories import make_disease, make_map_entry, make_user


@pytest.fixture
def people(app):
    """Mira and Noor both on the Scleromyxedema map by name; Otto on it anonymously."""
    disease = make_disease()
    mira = make_user("mira")
    noor = make_user("noor")
    otto = make_user("otto")
    make_map_entry(disease, mira, "FR")
    make_map_entry(disease, noor, "FR", region="Nantes")
    make_map_entry(disease, otto, "FR", anonymous=True)
    return disease, mira, noor, otto


def _requests():
    db.session.rollback()
    return list(db.session.scalars(select(ContactRequest).order_by(ContactRequest.id)))


def _client_for(app, user):
    """A separate browser for another member (no flash messages carried over)."""
    other = app.test_client()
    login(other, user)
    return other


def _connect_link(html: str, username: str) -> bool:
    return f'href="/members/{username}/connect"' in html


# -- who sees the Connect button ------------------------------------------------------------


def test_profile_shows_connect_to_a_member_of_a_shared_community(client, people):
    _, mira, noor, _ = people
    login(client, mira)
    assert _connect_link(client.get("/members/noor").get_data(as_text=True), "noor")


def test_visitors_and_the_member_themself_see_no_connect_button(client, people):
    _, mira, _, _ = people
    assert not _connect_link(client.get("/members/noor").get_data(as_text=True), "noor")
    login(client, mira)
    assert not _connect_link(client.get("/members/mira").get_data(as_text=True), "mira")


def test_no_shared_community_no_button_and_the_form_refuses(client, people):
    _, mira, _, _ = people
    stranger = make_user("stranger")
    login(client, stranger)
    assert not _connect_link(client.get("/members/mira").get_data(as_text=True), "mira")
    assert client.get("/members/mira/connect").status_code == 403
    assert client.post("/members/mira/connect", data={"note": "Hi"}).status_code == 403
    assert _requests() == []


def test_anonymous_entries_count_for_no_community_either_way(client, people):
    """Otto is on the map anonymously: neither his button nor his own asking reveals it."""
    _, mira, _, otto = people
    login(client, mira)
    assert not _connect_link(client.get("/members/otto").get_data(as_text=True), "otto")
    login(client, otto)
    assert not _connect_link(client.get("/members/mira").get_data(as_text=True), "mira")
    assert client.post("/members/mira/connect", data={"note": "Hi"}).status_code == 403


def test_anyone_and_nobody_policies(client, people):
    _, mira, noor, _ = people
    stranger = make_user("stranger")
    mira.contact_policy = "anyone"
    noor.contact_policy = "nobody"
    db.session.commit()
    login(client, stranger)
    assert _connect_link(client.get("/members/mira").get_data(as_text=True), "mira")
    login(client, mira)
    assert not _connect_link(client.get("/members/noor").get_data(as_text=True), "noor")


def test_the_map_list_shows_connect_only_where_allowed(client, people):
    disease, mira, noor, otto = people
    login(client, mira)
    for headers in ({}, HTMX):
        html = client.get(f"/diseases/{disease.slug}/map/countries/FR", headers=headers).get_data(
            as_text=True
        )
        assert _connect_link(html, "noor")
        assert not _connect_link(html, "mira")  # not to oneself
        assert "otto" not in html  # anonymous: neither listed nor linkable


def test_choosing_who_may_ask(client, people):
    _, mira, noor, _ = people
    login(client, noor)
    response = client.post("/contacts/policy", data={"policy": "nobody"})
    assert response.status_code == 303
    db.session.refresh(noor)
    assert noor.contact_policy == "nobody"
    assert client.post("/contacts/policy", data={"policy": "everyone!"}).status_code == 422
    login(client, mira)
    assert client.post("/members/noor/connect", data={"note": "Hi"}).status_code == 403


# -- requests ----------------------------------------------------------------------------------


def test_a_request_with_a_note_notifies_the_recipient(client, people):
    _, mira, noor, _ = people
    login(client, mira)
    response = client.post("/members/noor/connect", data={"note": "I am *also* in Lyon."})
    assert response.status_code == 303
    [request] = _requests()
    assert (request.sender_id, request.recipient_id, request.status) == (mira.id, noor.id, "open")
    assert "<em>also</em>" in request.note_html
    notification = db.session.scalar(select(Notification).where(Notification.user_id == noor.id))
    assert notification.event == "contact_request"
    assert notification.url == f"/contacts#request-{request.id}"
    # The button now says the request is waiting; a second request is a conflict.
    assert "Request sent" in client.get("/members/noor").get_data(as_text=True)
    assert client.post("/members/noor/connect", data={"note": "Again"}).status_code == 409
    assert len(_requests()) == 1


def test_a_note_over_500_characters_is_refused(client, people):
    _, mira, _, _ = people
    login(client, mira)
    response = client.post("/members/noor/connect", data={"note": "x" * 501})
    assert response.status_code == 422
    assert "x" * 501 in response.get_data(as_text=True)  # the text is kept
    assert _requests() == []


def test_the_recipient_sees_the_request_and_accepts_it(client, people):
    _, mira, noor, _ = people
    request = make_request(mira, noor, "Would you talk about treatment?")
    login(client, noor)
    page = client.get("/contacts").get_data(as_text=True)
    assert "Would you talk about treatment?" in page and "mira" in page
    response = client.post(f"/contacts/requests/{request.id}/accept")
    assert response.status_code == 303
    conversation = db.session.scalar(select(Conversation))
    assert response.headers["Location"] == f"/messages/{conversation.id}"
    [first] = db.session.scalars(select(Message)).all()
    assert (first.sender_id, first.body_md) == (mira.id, "Would you talk about treatment?")
    told = db.session.scalar(select(Notification).where(Notification.user_id == mira.id))
    assert told.event == "request_accepted"
    assert told.url == f"/messages/{conversation.id}"
    login(client, mira)
    assert "accepted" in client.get("/contacts").get_data(as_text=True)
    assert 'href="/messages/' in client.get("/members/noor").get_data(as_text=True)


def test_accept_with_htmx_redirects_to_the_conversation(client, people):
    _, mira, noor, _ = people
    request = make_request(mira, noor)
    login(client, noor)
    response = client.post(f"/contacts/requests/{request.id}/accept", headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/messages/")


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_declined_reads_not_accepted_to_the_sender(app, client, people, htmx):
    _, mira, noor, _ = people
    request = make_request(mira, noor)
    login(client, noor)
    response = client.post(f"/contacts/requests/{request.id}/decline", headers=HTMX if htmx else {})
    if htmx:
        assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
        assert f'id="request-{request.id}"' in response.get_data(as_text=True)
    else:
        assert response.status_code == 303
    assert _requests()[0].status == "declined"
    page = _client_for(app, mira).get("/contacts").get_data(as_text=True)
    assert "not accepted" in page and "declined" not in page.lower()
    assert not db.session.scalar(select(Notification).where(Notification.user_id == mira.id))


def test_a_declined_sender_may_ask_again_after_30_days(client, people):
    _, mira, noor, _ = people
    declined = make_request(mira, noor, status="declined", age=timedelta(days=29))
    login(client, mira)
    response = client.post("/members/noor/connect", data={"note": "Please?"})
    assert response.status_code == 409
    assert "not accepted" in response.get_data(as_text=True)
    declined.answered_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert client.post("/members/noor/connect", data={"note": "Please?"}).status_code == 303
    assert len(_requests()) == 2


def test_someone_elses_request_cannot_be_answered(client, people):
    _, mira, noor, otto = people
    request = make_request(mira, noor)
    login(client, otto)
    for action in ("accept", "decline", "block"):
        assert client.post(f"/contacts/requests/{request.id}/{action}").status_code == 404
    assert _requests()[0].status == "open"


def test_when_the_other_asked_first_answer_their_request(client, people):
    _, mira, noor, _ = people
    make_request(noor, mira)
    login(client, mira)
    response = client.post("/members/noor/connect", data={"note": "Hi"})
    assert response.status_code == 409
    assert len(_requests()) == 1


def test_at_most_five_requests_a_day(app, client, people):
    disease, mira, _, _ = people
    others = []
    for n in range(6):
        other = make_user(f"other{n}")
        make_map_entry(disease, other, "DE")
        others.append(other)
    login(client, mira)
    for other in others[:5]:
        assert (
            client.post(f"/members/{other.username}/connect", data={"note": "Hi"}).status_code
            == 303
        )
    response = client.post(f"/members/{others[5].username}/connect", data={"note": "Hi"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "5 contact requests a day" in response.get_data(as_text=True)
    assert len(_requests()) == 5


# -- blocks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_block_from_a_request_works_both_ways_and_is_not_told(app, client, people, htmx):
    _, mira, noor, _ = people
    request = make_request(mira, noor)
    login(client, noor)
    response = client.post(f"/contacts/requests/{request.id}/block", headers=HTMX if htmx else {})
    assert response.status_code == (200 if htmx else 303)
    assert db.session.scalar(select(Block)).blocked_id == mira.id
    assert not _connect_link(client.get("/members/mira").get_data(as_text=True), "mira")
    client = _client_for(app, mira)
    profile = client.get("/members/noor").get_data(as_text=True)
    assert not _connect_link(profile, "noor") and "block" not in profile.lower()
    page = client.get("/contacts").get_data(as_text=True)
    sent = page.split("Requests you sent")[1].split("Who may contact you")[0]
    assert "not accepted" in sent and "block" not in sent.lower()
    # Asking again reads exactly as "not taking requests".
    response = client.post("/members/noor/connect", data={"note": "Hello?"})
    assert response.status_code == 403
    assert "not taking contact requests" in response.get_data(as_text=True)
    assert not db.session.scalar(select(Notification).where(Notification.user_id == mira.id))


def test_the_blocker_can_unblock(client, people):
    _, mira, noor, _ = people
    make_block(noor, mira)
    login(client, noor)
    assert "mira" in client.get("/contacts").get_data(as_text=True)
    assert client.post(f"/contacts/blocked/{mira.id}/unblock").status_code == 303
    assert db.session.scalar(select(Block)) is None
    assert client.post(f"/contacts/blocked/{mira.id}/unblock").status_code == 404


def test_connect_buttons_on_a_long_map_list_cost_a_fixed_number_of_queries(
    client, people, count_queries
):
    disease, mira, _, _ = people
    login(client, mira)
    url = f"/diseases/{disease.slug}/map/countries/FR"

    def queries():
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    few = queries()
    for n in range(15):
        make_map_entry(disease, make_user(f"fr{n}"), "FR")
    assert queries() == few
