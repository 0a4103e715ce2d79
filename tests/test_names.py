"""Names that pass for someone else are refused: guest display names and new usernames are
compared by their confusable skeleton (Unicode TR39) with members' names and a reserved list;
bidi controls are removed from names, titles and regions (comment text keeps them)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum import names
from forum.extensions import db
from forum.models import Comment, MapEntry, Question, User

NEW_PASSWORD = "plum tree under snow"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE

LOOKALIKES_OF_ALICE = [
    "alic\u0435_a",  # Cyrillic ie
    "\u0430lice_a",  # Cyrillic a
    "alice_a\ufe0f",  # a variation selector
    "alice_a\U000e0100",  # a supplementary variation selector
    "ali\u0301ce_a",  # a combining acute accent
    "alic\u0301e_a\u0308",  # combining marks
    "al\u0131ce_a",  # dotless i
    "a1ice_a",  # digit one for l
    "AIice_a",  # capital I for l
    "ALICE_A",
    "\uff41lice_a",  # fullwidth a
    "alice\u200b_a",  # zero-width space
]
RESERVED = [
    "admin",
    "Admin",
    "ADMIN",
    "\u0410dmin",  # Cyrillic capital A
    "adm1n",
    "administrator",
    "moderator",
    "Mоderator",  # Cyrillic o
    "rarecircle",
    "RareCircle",
    "rare_circle",
    "staff",
    "support",
    "system",
    "root",
    "deleted",
]
GUEST_ONLY_RESERVED = ["RareCircle Team", "The Moderator", "[deleted member]", "Rare Circle"]
ORDINARY = ["Maria", "Jos\u00e9", "\u674e\u5c0f\u9f99", "Admiral", "modest_mouse", "badminton"]


@pytest.fixture
def alice(make):
    return make.make_user("alice_a")


@pytest.fixture
def question(make):
    return make.make_question(make.make_disease(), "Is it hereditary?")


def comment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Comment))


def _guest_post(client, question, name: str):
    return client.post(
        f"/questions/{question.id}/comments", data={"body": "Hello there.", "guest_name": name}
    )


@pytest.mark.parametrize("name", LOOKALIKES_OF_ALICE)
def test_a_guest_name_that_looks_like_a_members_is_refused(client, alice, question, name):
    response = _guest_post(client, question, name)
    assert response.status_code == 422
    assert "A member already uses that name" in response.get_data(as_text=True)
    assert comment_count() == 0


@pytest.mark.parametrize("name", RESERVED + GUEST_ONLY_RESERVED)
def test_a_guest_name_of_the_site_or_its_staff_is_refused(client, alice, question, name):
    response = _guest_post(client, question, name)
    assert response.status_code == 422
    assert "reserved" in response.get_data(as_text=True)
    assert comment_count() == 0


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_guest_names_are_welcome(client, alice, question, name):
    assert _guest_post(client, question, name).status_code == 303
    assert db.session.scalar(select(Comment.guest_name)) == name


def _signup(client, username: str):
    return client.post("/signup", data={"username": username, "password": NEW_PASSWORD})


@pytest.mark.parametrize("username", [n for n in LOOKALIKES_OF_ALICE if n.isascii()])
def test_a_username_that_looks_like_a_members_is_refused(client, alice, username):
    response = _signup(client, username)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("username", [n for n in RESERVED if n.isascii()])
def test_a_reserved_username_is_refused_at_sign_up(client, username):
    response = _signup(client, username)
    assert response.status_code == 422
    assert "reserved" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("username", ["alice_b", "malice_a", "modest_mouse", "admiral"])
def test_usernames_that_only_resemble_are_welcome(client, alice, username):
    assert _signup(client, username).status_code == 303


def test_every_member_has_a_name_key(alice):
    assert alice.name_key == names.name_key("alice_a") == "alice_a"
    assert names.name_keys("AIice_a") & {alice.name_key}


def test_a_question_title_and_prompt_lose_bidi_controls(member_client, question):
    response = member_client.post(
        "/diseases/scleromyxedema/questions/ask",
        data={"title": f"Is it{RLO} painful at night?", "prompt": f"sleep{RLO}\u2066 and pain"},
    )
    assert response.status_code == 303
    asked = db.session.scalar(select(Question).order_by(Question.id.desc()).limit(1))
    assert asked.title == "Is it painful at night?"
    assert asked.prompt == "sleep and pain"


def test_a_map_region_loses_bidi_controls(member_client, question):
    response = member_client.post(
        "/diseases/scleromyxedema/map/join",
        data={
            "role": "patient",
            "country": "France",
            "region": f"Ly{RLO}on",
            "visibility": "named",
        },
    )
    assert response.status_code == 303
    assert db.session.scalar(select(MapEntry.region)) == "Lyon"


def test_comment_text_keeps_bidi_controls_shown_with_dir_auto(member_client, question):
    response = member_client.post(
        f"/questions/{question.id}/comments", data={"body": f"Hebrew {RLO}text"}
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Comment.body_md)) == f"Hebrew {RLO}text"
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<div class="comment-body" dir="auto"' in page
    assert RLO in page
