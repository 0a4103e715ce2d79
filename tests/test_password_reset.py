"""Password reset by email: the same answer for every address, a link valid for an hour and
once, rate-limited, and a reset ends every other login."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from forum.auth.service import reset_token
from forum.extensions import db
from forum.models import OutboxMessage, User
from tests.conftest import HTMX, login
from tests.connect_factories import verify
from tests.factories import PASSWORD, make_user

NEW = "plum tree under snow"


def _outbox():
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage)))


def test_the_login_page_offers_forgot_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html and "Forgot password?" in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_same_answer_whether_or_not_the_address_exists(client, app, htmx):
    verify(make_user("mira"), "mira@example.org")
    make_user("unverified", email="unverified@example.org")
    headers = HTMX if htmx else {}
    answers = {
        address: client.post("/password/forgot", data={"email": address}, headers=headers)
        for address in ("mira@example.org", "nobody@example.org", "unverified@example.org")
    }
    statuses = {r.status_code for r in answers.values()}
    assert statuses == {200}
    texts = {
        r.get_data(as_text=True).split("<main")[1].split("</main>")[0] for r in answers.values()
    }
    assert len(texts) == 1
    # Only the confirmed address gets a link.
    [mail] = _outbox()
    assert mail.to_address == "mira@example.org" and mail.kind == "password_reset"


def test_the_address_is_matched_whatever_its_case(client):
    verify(make_user("mira"), "Mira@Example.org")
    client.post("/password/forgot", data={"email": "mira@example.ORG"})
    assert len(_outbox()) == 1


def test_a_bad_address_is_a_form_error(client):
    assert client.post("/password/forgot", data={"email": "not an address"}).status_code == 422


def test_the_link_sets_a_new_password_once_and_ends_every_other_login(app, client):
    mira = verify(make_user("mira"))
    elsewhere = app.test_client()
    login(elsewhere, mira)
    assert elsewhere.get("/account").status_code == 200
    client.post("/password/forgot", data={"email": mira.email})
    [mail] = _outbox()
    path = "/password/reset/" + mail.text_body.split("/password/reset/")[1].split()[0]

    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    response = client.post(path, data={"new_password": NEW})
    assert response.status_code == 303
    db.session.rollback()
    assert client.get("/account").status_code == 200  # this browser is logged in
    assert elsewhere.get("/account").status_code in (302, 303)  # the other is not
    # Used once: the same link does nothing any more.
    assert client.post(path, data={"new_password": "another fine passphrase"}).status_code == 404
    assert (
        app.test_client().post("/login", data={"username": "mira", "password": NEW}).status_code
        == 303
    )


def test_a_weak_new_password_is_refused(client):
    mira = verify(make_user("mira"))
    response = client.post(f"/password/reset/{reset_token(mira)}", data={"new_password": "short"})
    assert response.status_code == 422
    db.session.rollback()
    assert client.post("/login", data={"username": "mira", "password": PASSWORD}).status_code == 303


def test_the_link_expires_after_an_hour(client, monkeypatch):
    mira = verify(make_user("mira"))
    real_time = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real_time() - 3601)
    token = reset_token(mira)
    monkeypatch.setattr("itsdangerous.timed.time.time", real_time)
    assert client.get(f"/password/reset/{token}").status_code == 404
    assert client.post(f"/password/reset/{token}", data={"new_password": NEW}).status_code == 404
    db.session.rollback()
    assert db.session.get(User, mira.id).password_hash == mira.password_hash


def test_requests_are_rate_limited(app, client):
    app.config["RATELIMIT_PASSWORD_RESET"] = "2 per hour"
    for _ in range(2):
        assert client.post("/password/forgot", data={"email": "a@example.org"}).status_code == 200
    response = client.post("/password/forgot", data={"email": "a@example.org"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
