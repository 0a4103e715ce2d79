"""Profiles, password change, data export and account deletion."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.auth.passwords import verify_password
from forum.extensions import db
from forum.members.service import delete_account
from forum.models import (
    Comment,
    CommentRevision,
    Disease,
    LoginSession,
    MapEntry,
    Question,
    User,
    Vote,
)
from forum.models.base import utcnow
from tests.conftest import login
from tests.factories import PASSWORD
from tests.test_auth import client_with, log_in, login_count, session_of

BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
NEW_PASSWORD = "plum tree under snow"


def make_comment(question, author=None, body="A comment.", age=timedelta(0), **fields):
    comment = Comment(
        question_id=question.id,
        author_id=author.id if author else None,
        body_md=body,
        body_html=f"<p>{body}</p>",
        created_at=utcnow() - age,
        **fields,
    )
    db.session.add(comment)
    db.session.flush()
    comment.root_id = comment.id
    question.comment_count += 1
    db.session.commit()
    return comment


def vote(question, user):
    db.session.add(Vote(question_id=question.id, user_id=user.id))
    question.vote_count += 1
    db.session.commit()


def page_text(client, url) -> str:
    return client.get(url).get_data(as_text=True)


def is_logged_in(client) -> bool:
    return "Signed in as" in page_text(client, "/")


# --- profile -------------------------------------------------------------------------------


def test_profile_shows_role_joined_date_and_public_communities(client, make):
    member = make.make_user("Lena_K", role="moderator")
    public = make.make_disease("Alkaptonuria", synonyms=[])
    hidden = make.make_disease("Fibrodysplasia ossificans progressiva", synonyms=[])
    make.make_map_entry(public, member)
    make.make_map_entry(hidden, member, anonymous=True)
    login(client, make.make_user("another_member"))

    response = client.get("/members/lena_k")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Lena_K" in html and 'class="role-badge role-moderator"' in html
    assert f'Joined <time datetime="{member.created_at:%Y-%m-%dT%H:%M:%SZ}"' in html
    assert "Alkaptonuria" in html
    assert "Fibrodysplasia" not in html  # joined anonymously: not told to others


def test_own_profile_lists_anonymous_communities_too(member_client, member, make):
    make.make_map_entry(make.make_disease("Alkaptonuria", synonyms=[]), member, anonymous=True)
    assert "Alkaptonuria" in page_text(member_client, "/members/mira_member")


def test_profile_of_unknown_member_is_404(client):
    assert client.get("/members/nobody").status_code == 404


def test_profile_lists_questions_newest_first_paginated(client, app, member, make):
    app.config["QUESTIONS_PER_PAGE"] = 2
    disease = make.make_disease()
    for n, days in ((1, 3), (2, 2), (3, 1)):
        make.make_question(
            disease, f"Question {n} about it?", age=timedelta(days=days), author_id=member.id
        )
    make.make_question(disease, "Someone else's question?")

    first = page_text(client, "/members/mira_member")
    second = page_text(client, "/members/mira_member?page=2")

    assert first.index("Question 3") < first.index("Question 2")
    assert "Question 1" not in first and "Page 1 of 2" in first
    assert "Question 1" in second
    assert "Someone else" not in first + second


def test_profile_lists_visible_comments_newest_first(client, member, make):
    question = make.make_question()
    make_comment(question, member, "Older words", age=timedelta(days=2))
    make_comment(question, member, "Newer words", age=timedelta(days=1))
    make_comment(question, member, "Removed words", deleted_at=utcnow())
    make_comment(question, member, "Hidden words", hidden_at=utcnow())

    html = page_text(client, "/members/mira_member?tab=comments")

    assert html.index("Newer words") < html.index("Older words")
    assert "Removed words" not in html and "Hidden words" not in html
    assert question.title in html


# --- password change -----------------------------------------------------------------------


def test_change_password_logs_out_other_sessions_but_not_this_one(app, member_client, member):
    other_device = app.test_client()
    login(other_device, member)
    assert is_logged_in(other_device)

    response = member_client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    db.session.expire_all()
    assert verify_password(db.session.get(User, member.id).password_hash, NEW_PASSWORD)
    assert is_logged_in(member_client)
    assert not is_logged_in(other_device)


def test_change_password_ends_every_other_login_but_keeps_this_browser(app, client, member):
    laptop, phone = client, app.test_client()
    log_in(laptop)
    log_in(phone)
    laptop_before = session_of(laptop)

    laptop.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert is_logged_in(laptop)
    assert not is_logged_in(phone)
    # The laptop carries on with a new session; a copy of its old cookie is dead too.
    assert session_of(laptop)["_login_id"] != laptop_before["_login_id"]
    assert not is_logged_in(client_with(app, laptop_before))
    assert login_count() == 1
    # The new password works from another browser; the old one does not.
    old_password = {"username": "mira_member", "password": PASSWORD}
    assert app.test_client().post("/login", data=old_password).status_code == 422
    log_in(app.test_client(), password=NEW_PASSWORD)


def test_change_password_with_htmx(member_client, member):
    response = member_client.post(
        "/account/password",
        headers=BOOSTED,
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/account"
    db.session.expire_all()
    assert verify_password(db.session.get(User, member.id).password_hash, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("not my password", NEW_PASSWORD, "not your current password"),
        (PASSWORD, "short", "at least 10 characters"),
        (PASSWORD, "iloveyou12", "most common"),
        (PASSWORD, "Mira_Member", "must not be your username"),
    ],
)
def test_change_password_refusals_change_nothing(member_client, member, current, new, message):
    response = member_client.post(
        "/account/password", data={"current_password": current, "new_password": new}
    )

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert verify_password(db.session.get(User, member.id).password_hash, PASSWORD)


def test_change_password_error_with_htmx_is_swappable(member_client):
    response = member_client.post(
        "/account/password",
        headers=BOOSTED,
        data={"current_password": "wrong", "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "not your current password" in response.get_data(as_text=True)


# --- email ---------------------------------------------------------------------------------


def test_account_page_shows_the_email_form_filled_in(member_client, member):
    member.email = "mira@example.org"
    db.session.commit()
    html = page_text(member_client, "/account")
    assert '<label for="email"' in html
    assert 'value="mira@example.org"' in html


@pytest.mark.parametrize(
    ("before", "sent", "after"),
    [
        (None, " mira@example.org ", "mira@example.org"),
        ("old@example.org", "new@example.org", "new@example.org"),
        ("old@example.org", "", None),
    ],
)
def test_member_can_add_change_and_remove_their_email(member_client, member, before, sent, after):
    member.email = before
    db.session.commit()

    response = member_client.post("/account/email", data={"email": sent})

    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    db.session.expire_all()
    assert db.session.get(User, member.id).email == after


def test_change_email_with_htmx(member_client, member):
    response = member_client.post(
        "/account/email", data={"email": "mira@example.org"}, headers=BOOSTED
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/account"
    db.session.expire_all()
    assert db.session.get(User, member.id).email == "mira@example.org"


@pytest.mark.parametrize("headers", [{}, BOOSTED])
def test_a_malformed_email_is_refused_and_changes_nothing(member_client, member, headers):
    member.email = "old@example.org"
    db.session.commit()

    response = member_client.post(
        "/account/email", data={"email": "mira at example"}, headers=headers
    )

    assert response.status_code == (200 if headers else 422)
    html = response.get_data(as_text=True)
    assert "That is not an email address." in html
    assert 'value="mira at example"' in html  # what was typed comes back to be fixed
    assert response.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.get(User, member.id).email == "old@example.org"


def test_a_refused_account_form_keeps_the_account_address_in_the_location_bar(member_client):
    response = member_client.post("/account/delete", data={"password": "wrong"}, headers=BOOSTED)
    assert response.status_code == 200
    # /account/delete answers only POST: reloading it would fail.
    assert response.headers["HX-Push-Url"] == "/account"


# --- export --------------------------------------------------------------------------------


def test_export_holds_everything_about_the_member_and_nothing_else(member_client, member, make):
    member.email = "mira@example.org"
    db.session.commit()
    disease = make.make_disease()
    asked = make.make_question(disease, "What helps the itching?", author_id=member.id)
    voted = make.make_question(disease, "Is it hereditary?")
    vote(voted, member)
    vote(voted, make.make_user("someone"))
    make.make_map_entry(disease, member, country="DE", region="Bavaria", since_year=2019)
    mine = make_comment(voted, member, "My own experience")
    make_comment(voted, make.make_user("stranger"), "Not mine")

    response = member_client.get("/account/export")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert 'filename="rarecircle-mira_member.json"' in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["username"] == "mira_member"
    assert data["profile"]["email"] == "mira@example.org"
    assert data["profile"]["role"] == "member"
    assert [v["question_id"] for v in data["votes"]] == [voted.id]
    assert data["map_entries"][0]["country"] == "DE"
    assert data["map_entries"][0]["region"] == "Bavaria"
    assert [c["id"] for c in data["comments"]] == [mine.id]
    assert data["comments"][0]["body_markdown"] == "My own experience"
    assert [q["id"] for q in data["questions"]] == [asked.id]
    assert "Not mine" not in response.get_data(as_text=True)
    assert "password" not in response.get_data(as_text=True)
    assert member.session_token not in response.get_data(as_text=True)


def test_export_holds_earlier_versions_and_logins_but_no_secrets(client, member, make):
    log_in(client)
    question = make.make_question()
    mine = make_comment(question, member, "Second wording")
    db.session.add(CommentRevision(comment_id=mine.id, body_md="First wording"))
    db.session.commit()
    login_id = session_of(client)["_login_id"]

    response = client.get("/account/export")

    data = json.loads(response.get_data(as_text=True))
    assert data["comments"][0]["earlier_versions"][0]["body_markdown"] == "First wording"
    assert len(data["logins"]) == 1 and data["logins"][0]["started_at"]
    text = response.get_data(as_text=True)
    assert login_id not in text and member.session_token not in text
    assert member.password_hash not in text


def test_export_needs_login(client):
    response = client.get("/account/export")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


# --- deletion ------------------------------------------------------------------------------


@pytest.fixture
def busy_member(make, member):
    """`member` with votes, map entries, questions and comments, among other members' rows."""
    other = make.make_user("other_member")
    first = make.make_disease("Alkaptonuria", synonyms=[])
    second = make.make_disease("Scleromyxedema", synonyms=[])
    questions = [
        make.make_question(first, "First question?", votes=2),
        make.make_question(second, "Second question?", votes=1),
    ]
    own_question = make.make_question(first, "Asked by the member?", author_id=member.id)
    for question in questions:
        vote(question, member)
    vote(questions[0], other)
    make.make_map_entry(first, member)
    make.make_map_entry(second, member, anonymous=True)
    make.make_map_entry(first, other)
    comment = make_comment(questions[0], member, "Words to keep in the thread")
    reply = make_comment(questions[0], other, "A reply", parent_id=comment.id, depth=1)
    db.session.add(CommentRevision(comment_id=comment.id, body_md="I am Mira Jensen from Oslo"))
    others_comment = make_comment(questions[1], other, "Edited by the other member")
    db.session.add(CommentRevision(comment_id=others_comment.id, body_md="Other's first words"))
    taken_back = make_comment(
        questions[1], member, "My phone number is 555 0100", deleted_at=utcnow()
    )
    db.session.add_all([LoginSession(user_id=member.id), LoginSession(user_id=other.id)])
    member.email = "mira@example.org"
    db.session.commit()
    return {
        "taken_back": taken_back,
        "others_comment": others_comment,
        "other": other,
        "questions": questions,
        "own_question": own_question,
        "comment": comment,
        "reply": reply,
        "diseases": [first, second],
    }


def check_counts_match_rows():
    for question in db.session.scalars(select(Question)):
        true_votes = db.session.scalar(
            select(func.count()).select_from(Vote).where(Vote.question_id == question.id)
        )
        assert question.vote_count == true_votes, question.title
    for disease in db.session.scalars(select(Disease)):
        true_members = db.session.scalar(
            select(func.count()).select_from(MapEntry).where(MapEntry.disease_id == disease.id)
        )
        assert disease.member_count == true_members, disease.name


def test_delete_account_service_removes_what_identifies_the_member(app, member, busy_member):
    member_id = member.id
    check_counts_match_rows()

    delete_account(member)
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(User, member_id) is None
    assert (
        db.session.scalar(select(func.count()).select_from(Vote).where(Vote.user_id == member_id))
        == 0
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(MapEntry).where(MapEntry.user_id == member_id)
        )
        == 0
    )
    comment = db.session.get(Comment, busy_member["comment"].id)
    assert comment.author_id is None and comment.guest_name is None
    assert comment.body_md == "Words to keep in the thread"
    assert db.session.get(Comment, busy_member["reply"].id).parent_id == comment.id
    assert db.session.get(Question, busy_member["own_question"].id).author_id is None
    first, second = busy_member["questions"]
    assert (first.vote_count, second.vote_count) == (3, 1)
    assert [d.member_count for d in busy_member["diseases"]] == [1, 0]
    check_counts_match_rows()
    # Other members' rows are untouched.
    assert db.session.get(User, busy_member["other"].id) is not None
    # Nothing that was theirs is left in any table: no login, no earlier wording, no text they
    # had taken back; the other member's rows stay.
    assert db.session.scalars(select(LoginSession.user_id)).all() == [busy_member["other"].id]
    assert db.session.scalars(select(CommentRevision.body_md)).all() == ["Other's first words"]
    taken_back = db.session.get(Comment, busy_member["taken_back"].id)
    assert taken_back.author_id is None and taken_back.body_md == taken_back.body_html == ""
    assert db.session.get(Comment, busy_member["others_comment"].id).body_md != ""
    assert_nothing_names(member_id, "mira_member", "mira@example.org", "Mira Jensen", "555 0100")


def assert_nothing_names(member_id: int, *words: str) -> None:
    """No row of any table points at the member or holds one of `words`."""
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                if column in ("user_id", "author_id"):
                    assert value != member_id, (table.name, column)
                if isinstance(value, str):
                    for word in words:
                        assert word.lower() not in value.lower(), (table.name, column, value)


def test_delete_account_by_form_post(member_client, member, busy_member):
    member_id = member.id
    with member_client.session_transaction() as session:
        old_cookie = dict(session)

    response = member_client.post("/account/delete", data={"password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    db.session.expire_all()
    assert db.session.get(User, member_id) is None
    check_counts_match_rows()
    assert not is_logged_in(member_client)
    with member_client.session_transaction() as session:
        session.update(old_cookie)
    assert not is_logged_in(member_client)
    assert member_client.get("/members/mira_member").status_code == 404


def test_deleting_the_account_logs_out_every_browser(app, client, member):
    phone = app.test_client()
    log_in(client)
    log_in(phone)

    client.post("/account/delete", data={"password": PASSWORD})

    assert not is_logged_in(client) and not is_logged_in(phone)
    assert login_count() == 0


def test_delete_account_with_htmx(member_client, member):
    member_id = member.id
    response = member_client.post("/account/delete", data={"password": PASSWORD}, headers=BOOSTED)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"
    db.session.expire_all()
    assert db.session.get(User, member_id) is None


def test_delete_account_needs_the_password(member_client, member, busy_member):
    response = member_client.post("/account/delete", data={"password": "not my password"})

    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, member.id) is not None
    assert db.session.get(Comment, busy_member["comment"].id).author_id == member.id


def test_deleted_member_can_sign_up_again_under_the_same_name(member_client, client):
    member_client.post("/account/delete", data={"password": PASSWORD})
    response = client.post("/signup", data={"username": "mira_member", "password": NEW_PASSWORD})
    assert response.status_code == 303


def test_account_page_needs_login(client):
    response = client.get("/account")
    assert response.status_code == 303


def test_visitors_do_not_see_which_communities_a_member_joined(app, client, make):
    """A place in a disease community is health data: only members see it on a profile."""
    from tests.conftest import login

    disease = make.make_disease("Scleromyxedema")
    joined = make.make_user("open_olga")
    make.make_map_entry(disease, joined, country="FR")

    visitor_view = client.get("/members/open_olga").get_data(as_text=True)
    assert "Scleromyxedema" not in visitor_view
    assert "Log in</a> to see which communities" in visitor_view

    login(client, make.make_user("other_member"))
    member_view = client.get("/members/open_olga").get_data(as_text=True)
    assert "Scleromyxedema" in member_view
