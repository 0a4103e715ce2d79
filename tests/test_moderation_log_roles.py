"""The public moderation log, roles (command line and page), the demo moderator, and the spam
defences that work without a moderator watching."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.markdown import render_comment
from forum.models import Comment, ModerationAction, User
from forum.models.base import utcnow
from forum.seed import DEMO_MODERATOR
from tests.conftest import HTMX
from tests.factories import make_comment
from tests.moderation_world import World, as_user, build_world, fresh, log_entries, text_of

CONTENT = Path(__file__).resolve().parents[1] / "content"


@pytest.fixture
def world(app) -> World:
    return build_world()


# -- the public log ------------------------------------------------------------------------------


def _do_everything(client, world):
    as_user(client, world.dave)
    client.post(
        f"/moderation/report/comment/{world.top.id}",
        data={"reason": "harassment", "note": "dave's secret note"},
    )
    as_user(client, world.mona)
    for url, data in (
        (f"/moderation/items/comment/{world.top.id}/hide", {"reason": "harassment"}),
        (f"/moderation/items/comment/{world.top.id}/restore", {}),
        (f"/moderation/questions/{world.question.id}/lock", {}),
        (f"/moderation/questions/{world.question.id}/unlock", {}),
        (f"/moderation/members/{world.bob.id}/ban", {"length": "week", "reason": "Insults."}),
        (f"/moderation/members/{world.bob.id}/unban", {}),
        (f"/moderation/items/comment/{world.reply.id}/hide", {"reason": "spam"}),
    ):
        assert client.post(url, data=data).status_code == 303, url
    client.get("/logout")
    with client.session_transaction() as session:
        session.clear()


def test_the_log_is_public_and_lists_every_public_action(client, world):
    _do_everything(client, world)

    response = client.get("/moderation/log")

    html = text_of(response)
    assert response.status_code == 200
    for words in (
        "Hid a comment", "Restored a comment", "Locked a discussion", "Unlocked a discussion",
        "Banned a member", "Lifted a ban",
    ):  # fmt: skip
        assert words in html, words
    assert "Reason: harassment" in html and "Reason: Insults." in html and "for a week" in html
    assert '<a href="/members/mona_mod">mona_mod</a>' in html
    assert f'href="/comments/{world.reply.id}#comment-{world.reply.id}"' in html
    assert "a comment on “Is scleromyxedema hereditary?”" in html
    # Never the reporters, their notes, or hidden text; dismissals and reports are not listed.
    assert "dave_d" not in html and "secret note" not in html
    assert "Bob agrees with Alice." not in html


def test_the_newest_entry_comes_first_and_the_log_is_paginated(app, client, world):
    now = utcnow()
    for n in range(35):
        db.session.add(
            ModerationAction(
                action="lock",
                moderator_id=world.mona.id,
                target_type="question",
                target_id=world.question.id,
                reason=f"entry {n:02d}",
                created_at=now + timedelta(seconds=n),
            )
        )
    db.session.commit()
    first = text_of(client.get("/moderation/log"))
    assert first.index("entry 34") < first.index("entry 33")
    assert "entry 04" not in first and "Page 1 of 2" in first
    second = text_of(client.get("/moderation/log?page=2"))
    assert "entry 04" in second and "entry 05" not in second
    assert client.get("/moderation/log?page=9").status_code == 404


def test_a_hidden_questions_title_stays_out_of_the_log(client, world):
    as_user(client, world.mona)
    client.post(f"/moderation/items/question/{world.question.id}/hide", data={"reason": "spam"})
    html = text_of(client.get("/moderation/log"))
    assert "Hid a question" in html and "a question in Scleromyxedema" in html
    assert "Is scleromyxedema hereditary?" not in html


def test_an_automatic_hide_names_the_members_reports_not_a_moderator(app, client, world):
    app.config["REPORTS_TO_HIDE"] = 1
    as_user(client, world.dave)
    client.post(f"/moderation/report/comment/{world.top.id}", data={"reason": "spam"})
    html = unescape(text_of(client.get("/moderation/log")))
    assert "Members' reports (automatic)" in html and "dave_d" not in html.split("<main")[1]


def test_the_log_page_costs_the_same_queries_whatever_it_lists(client, world, count_queries):
    _do_everything(client, world)
    with count_queries() as few:
        client.get("/moderation/log")
    for n in range(10):
        comment = make_comment(world.question, world.dave, f"Spam {n}")
        as_user(client, world.mona)
        client.post(f"/moderation/items/comment/{comment.id}/hide", data={"reason": "spam"})
    client.get("/logout")
    with client.session_transaction() as session:
        session.clear()
    with count_queries() as many:
        client.get("/moderation/log")
    assert many.count == few.count


# -- roles ---------------------------------------------------------------------------------------


def test_set_role_on_the_command_line(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-role", "Dave_D", "moderator"])
    assert result.exit_code == 0, result.output
    assert "dave_d is now moderator" in result.output
    assert fresh(User, world.dave.id).role == "moderator"
    assert log_entries("role")[-1].detail == "member -> moderator"
    assert runner.invoke(args=["set-role", "nobody_here", "admin"]).exit_code != 0
    assert runner.invoke(args=["set-role", "dave_d", "emperor"]).exit_code != 0
    again = runner.invoke(args=["set-role", "dave_d", "moderator"])
    assert "already moderator" in again.output


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_an_admin_appoints_a_moderator_from_the_roles_page(client, world, htmx):
    as_user(client, world.ada)
    page = text_of(client.get("/moderation/roles"))
    assert "mona_mod" in page and 'name="username"' in page

    response = client.post(
        "/moderation/roles",
        data={"username": "dave_d", "role": "moderator"},
        headers=HTMX if htmx else {},
    )

    assert response.status_code == (200 if htmx else 303)
    assert fresh(User, world.dave.id).role == "moderator"
    if htmx:
        assert "dave_d is now a moderator." in text_of(response)
        assert "<html" not in text_of(response)
    as_user(client, world.dave)
    assert client.get("/moderation").status_code == 200


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"username": "nobody_here", "role": "moderator"}, 422, "no member called"),
        ({"username": "", "role": "moderator"}, 422, "Write the member"),
        ({"username": "dave_d", "role": "emperor"}, 422, "Not a valid choice"),
        ({"username": "ada_admin", "role": "member"}, 409, "your own role"),
    ],
)
def test_the_roles_form_refuses_what_it_cannot_do(client, world, data, status, message):
    as_user(client, world.ada)
    response = client.post("/moderation/roles", data=data)
    assert response.status_code == status
    assert message in text_of(response)
    assert fresh(User, world.ada.id).role == "admin"


def test_moderators_see_the_moderation_link_members_do_not(client, world):
    as_user(client, world.dave)
    assert 'href="/moderation"' not in text_of(client.get("/"))
    as_user(client, world.mona)
    assert 'href="/moderation"' in text_of(client.get("/"))


# -- the demo moderator --------------------------------------------------------------------------


def test_seed_creates_the_demo_moderator_and_prints_its_password_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "--content", str(CONTENT)])
    assert first.exit_code == 0, first.output
    match = re.search(rf"username {DEMO_MODERATOR}, password (\S+) ", first.output)
    assert match, first.output
    moderator = db.session.scalar(select(User).where(User.username_key == DEMO_MODERATOR))
    assert moderator.role == "moderator"

    from forum.auth.service import authenticate

    assert authenticate(DEMO_MODERATOR, match.group(1)) is not None
    second = runner.invoke(args=["seed", "--content", str(CONTENT)])
    assert second.exit_code == 0
    assert "password" not in second.output


# -- spam defences -------------------------------------------------------------------------------


def test_links_in_member_content_are_marked_nofollow_ugc_noopener():
    html = render_comment("See [the trial](https://example.org/trial).")
    assert re.search(r'<a href="https://example.org/trial" rel="nofollow ugc noopener">', html)


def _post(client, question, body, **extra):
    return client.post(f"/questions/{question.id}/comments", data={"body": body, **extra})


TWO_LINKS = "Read https://one.example and [this](https://two.example)."


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_new_member_may_post_one_link_but_not_two(client, world, make, htmx):
    newcomer = make.make_user("new_nina")
    as_user(client, newcomer)
    headers = HTMX if htmx else {}
    refused = client.post(
        f"/questions/{world.question.id}/comments", data={"body": TWO_LINKS}, headers=headers
    )
    assert "at most 1 link" in text_of(refused)
    assert refused.status_code == 422 or htmx
    assert "one.example" in text_of(refused)  # the text is kept
    one = client.post(
        f"/questions/{world.question.id}/comments",
        data={"body": "Only https://one.example here."},
        headers=headers,
    )
    assert one.status_code in (200, 303)


def test_an_old_member_without_a_shown_comment_is_still_new(client, world, make):
    quiet = make.make_user("quiet_quentin", created_at=utcnow() - timedelta(days=30))
    as_user(client, quiet)
    assert "at most 1 link" in text_of(_post(client, world.question, TWO_LINKS))


def test_an_established_member_may_post_several_links(client, world):
    world.alice.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    as_user(client, world.alice)  # she has a comment shown, and is three days old
    assert _post(client, world.question, TWO_LINKS).status_code == 303


def test_guests_may_post_one_link_at_most(client, world):
    response = _post(client, world.question, TWO_LINKS, guest_name="Gail")
    assert response.status_code == 422 and "Guests can put at most 1 link" in text_of(response)
    assert db.session.scalar(select(Comment).where(Comment.guest_name == "Gail")) is None
