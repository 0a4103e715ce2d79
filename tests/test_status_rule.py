"""One status rule for every form: refused 422, conflict 409, page and htmx alike.

Each form of the site is posted with an error three ways (a plain post, an htmx fragment
request, a boosted htmx request): the status is the same each time, nothing is stored, htmx
gets what it swaps (the form fragment where the form has one, else the page), and a response
that may be a fragment says so in Vary. Rate limits (429 with Retry-After) are checked for
every limited action in tests/test_security_audit.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.htmx import HTMX_HEADERS
from tests.conftest import login
from tests.factories import PASSWORD, make_comment

WAYS = {
    "plain": {},
    "htmx": {"HX-Request": "true"},
    "boosted": {"HX-Request": "true", "HX-Boosted": "true"},
}
NEW_PASSWORD = "plum tree under snow"
MAP_ENTRY = {"role": "patient", "country": "FR", "region": "Lyon", "visibility": "named"}


@dataclass(frozen=True)
class Case:
    """A form posted with an error: where, what, the status it must answer, and whether an
    htmx (not boosted) request gets the form alone."""

    url: str
    data: dict
    status: int
    fragment: bool
    text: str  # what the answer must say


@pytest.fixture
def places(make, member, disease, question):
    """Where the forms are: the question with a comment of the member's, and a second disease
    whose map the member is on."""
    comment = make_comment(question, member, "My words.")
    other = make.make_disease("Alkaptonuria", synonyms=())
    make.make_map_entry(other, member, "DE")
    return {"disease": disease, "question": question, "comment": comment, "other": other}


def _cases(w) -> dict[str, Case]:
    d, q, c, other = w["disease"], w["question"], w["comment"], w["other"]
    ask = f"/diseases/{d.slug}/questions/ask"
    return {
        "login": Case(
            "/login", {"username": "mira_member", "password": "wrong"}, 422, False, "do not match"
        ),
        "signup": Case(
            "/signup", {"username": "ro", "password": NEW_PASSWORD}, 422, False, "3 to 30"
        ),
        "ask": Case(ask, {"title": "Too short"}, 422, True, 'class="error"'),
        "ask-duplicate": Case(ask, {"title": "is it HEREDITARY"}, 409, True, "already been asked"),
        "map-join": Case(
            f"/diseases/{d.slug}/map/join",
            MAP_ENTRY | {"country": "ZZ"},
            422,
            True,
            "We do not know a country",
        ),
        "map-join-again": Case(
            f"/diseases/{other.slug}/map/join", MAP_ENTRY, 409, True, "already on this map"
        ),
        "map-entry": Case(
            f"/diseases/{other.slug}/map/entry",
            MAP_ENTRY | {"region": "x" * 81},
            422,
            True,
            "80 characters",
        ),
        "comment": Case(
            f"/questions/{q.id}/comments", {"body": "  "}, 422, True, "Write something"
        ),
        "reply": Case(
            f"/questions/{q.id}/comments",
            {"body": "", "parent_id": str(c.id)},
            422,
            True,
            "Write something",
        ),
        "reply-to-nothing": Case(
            f"/questions/{q.id}/comments",
            {"body": "Kept text", "parent_id": "999999"},
            422,
            True,
            "does not exist",
        ),
        "comment-edit": Case(f"/comments/{c.id}/edit", {"body": ""}, 422, True, "Write something"),
        "account-password": Case(
            "/account/password",
            {"current_password": "wrong", "new_password": NEW_PASSWORD},
            422,
            False,
            "not your current password",
        ),
        "account-email": Case("/account/email", {"email": "mira at home"}, 422, False, "email"),
        "account-delete": Case("/account/delete", {"password": "wrong"}, 422, False, "not your"),
    }


FORMS = [
    "login", "signup", "ask", "ask-duplicate", "map-join", "map-join-again", "map-entry",
    "comment", "reply", "reply-to-nothing", "comment-edit", "account-password", "account-email",
    "account-delete",
]  # fmt: skip
VISITOR_FORMS = {"login", "signup"}


def row_counts() -> dict[str, int]:
    db.session.rollback()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_every_form_is_in_the_table(places):
    assert set(FORMS) == set(_cases(places))


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("form", FORMS)
def test_a_refused_form_answers_the_same_status_to_pages_and_htmx(
    client, member, places, form, way
):
    case = _cases(places)[form]
    if form not in VISITOR_FORMS:
        login(client, member)
    before = row_counts()

    response = client.post(case.url, data=case.data, headers=WAYS[way])

    html = response.get_data(as_text=True)
    assert response.status_code == case.status, html[:300]
    assert case.text in html
    if way == "htmx" and case.fragment:
        assert "<html" not in html and "<form" in html
    else:
        assert "<html" in html
    if case.fragment:
        assert set(HTMX_HEADERS) <= set(response.vary), response.vary
    assert row_counts() == before


def test_a_correct_login_still_works_after_a_refused_one(client, member, places):
    """The refusals above are real refusals, not a broken form: the right password logs in."""
    assert client.post("/login", data={"username": "mira_member", "password": "x"}).status_code == (
        422
    )
    response = client.post("/login", data={"username": "mira_member", "password": PASSWORD})
    assert response.status_code == 303


@pytest.mark.parametrize("way", WAYS)
def test_voting_on_ones_own_question_is_forbidden_to_pages_and_htmx(client, make, places, way):
    author = make.make_user("asker")
    question = make.make_question(places["disease"], "Can diet help?", author_id=author.id)
    login(client, author)
    before = row_counts()

    response = client.post(
        f"/diseases/scleromyxedema/questions/{question.slug}/vote", headers=WAYS[way]
    )

    assert response.status_code == 403
    assert "You asked this" in response.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.parametrize(
    "path",
    [
        "/diseases/scleromyxedema/questions/ask",
        "/diseases/scleromyxedema/map/join",
        "/diseases/alkaptonuria/map/entry",
        "/?q=scler",
        "/diseases/scleromyxedema/map/countries/FR",
    ],
)
@pytest.mark.parametrize("way", WAYS)
def test_form_pages_that_may_be_fragments_vary_on_every_htmx_header(
    client, member, places, path, way
):
    login(client, member)
    response = client.get(path, headers=WAYS[way])
    assert response.status_code == 200
    assert set(HTMX_HEADERS) <= set(response.vary)
    assert ("<html" in response.get_data(as_text=True)) == (way != "htmx")
