"""Bans: a banned member reads but cannot post, vote, report, ask or join a map, is told why
and until when each time, and the ban ends by itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Ban, Comment, MapEntry, Question, Report, Vote
from forum.models.base import utcnow
from forum.moderation.service import active_ban, ban_problem
from tests.conftest import HTMX
from tests.moderation_world import World, as_user, build_world, text_of


@pytest.fixture
def world(app) -> World:
    return build_world()


def ban(world, member, days: int | None = 7, reason="Posting advertisements.", **fields):
    ends = utcnow() + timedelta(days=days) if days is not None else None
    row = Ban(user_id=member.id, moderator_id=world.mona.id, reason=reason, ends_at=ends, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def rows(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def refused_actions(w):
    """Everything a banned member may not do: (name, method, url, data, rows it would add)."""
    q = w.question_path
    d = w.disease.slug
    return [
        ("comment", "POST", f"/questions/{w.question.id}/comments", {"body": "Hi"}, Comment),
        ("reply form", "GET", f"/comments/{w.top.id}/reply", None, None),
        ("vote", "POST", f"{q}/vote", {}, Vote),
        ("ask form", "GET", f"/diseases/{d}/questions/ask", None, None),
        (
            "ask",
            "POST",
            f"/diseases/{d}/questions/ask",
            {"title": "Does it ever go away?"},
            Question,
        ),
        ("join form", "GET", f"/diseases/{d}/map/join", None, None),
        (
            "join",
            "POST",
            f"/diseases/{d}/map/join",
            {"role": "patient", "country": "France", "visibility": "named"},
            MapEntry,
        ),
        ("report form", "GET", f"/moderation/report/comment/{w.top.id}", None, None),
        ("report", "POST", f"/moderation/report/comment/{w.top.id}", {"reason": "spam"}, Report),
    ]


ACTIONS = ["comment", "reply form", "vote", "ask form", "ask", "join form", "join",
           "report form", "report"]  # fmt: skip


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("action", ACTIONS)
def test_a_banned_member_is_refused_with_the_reason_and_the_end(client, world, action, htmx):
    ban(world, world.dave)
    as_user(client, world.dave)
    name, method, url, data, model = next(a for a in refused_actions(world) if a[0] == action)
    before = rows(model) if model else None

    response = client.open(url, method=method, data=data, headers=HTMX if htmx else {})

    html = text_of(response)
    assert response.status_code == 403
    assert "Your account is banned until" in html and "UTC" in html
    assert "Posting advertisements." in html
    if htmx:
        assert "<html" not in html and response.headers["HX-Retarget"] == "#htmx-alerts"
    else:
        assert "<html" in html
    if model:
        assert rows(model) == before


def test_a_ban_until_lifted_says_so(client, world):
    ban(world, world.dave, days=None)
    as_user(client, world.dave)
    response = client.post(f"/questions/{world.question.id}/comments", data={"body": "Hi"})
    assert "banned until a moderator lifts it" in text_of(response)


def test_a_banned_member_still_logs_in_and_reads(client, world):
    ban(world, world.dave)
    as_user(client, world.dave)
    for url in (world.question_path, f"/diseases/{world.disease.slug}", "/account"):
        assert client.get(url).status_code == 200, url
    html = text_of(client.get(world.question_path))
    # The comment box says why instead of offering a form, and no reply links are offered.
    assert 'id="comment-form"' not in html
    assert "Your account is banned until" in html
    assert f"/comments/{world.top.id}/reply" not in html


def test_a_ban_ends_by_itself(client, world):
    row = ban(world, world.dave)
    as_user(client, world.dave)
    assert (
        client.post(f"/questions/{world.question.id}/comments", data={"body": "Hi"}).status_code
        == 403
    )
    row.ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert (
        client.post(f"/questions/{world.question.id}/comments", data={"body": "Hi"}).status_code
        == 303
    )


def test_a_lifted_ban_no_longer_applies(client, world):
    ban(world, world.dave, lifted_at=utcnow())
    as_user(client, world.dave)
    assert (
        client.post(f"/questions/{world.question.id}/comments", data={"body": "Hi"}).status_code
        == 303
    )


def test_the_ban_check_other_features_call(app, world):
    """Messages (issue 14) will ask these two functions before sending."""
    assert active_ban(world.dave) is None and ban_problem(world.dave) is None
    row = ban(world, world.dave, days=1)
    assert active_ban(world.dave).id == row.id
    assert "Posting advertisements." in ban_problem(world.dave)
    assert "until" in ban_problem(world.dave)
    longest = ban(world, world.dave, days=None, reason="For good.")
    assert active_ban(world.dave).id == longest.id


def test_other_features_can_refuse_more_endpoints_to_banned_members(app, client, world):
    from forum.moderation import bans

    bans.refuse_while_banned("members.email")
    try:
        ban(world, world.dave)
        as_user(client, world.dave)
        assert client.post("/account/email", data={"email": "d@example.org"}).status_code == 403
    finally:
        bans.REFUSED_WHILE_BANNED.pop("members.email")


def test_leaving_the_map_and_deleting_own_comments_stay_open(client, world, make):
    make.make_map_entry(world.disease, world.alice)
    ban(world, world.alice)
    as_user(client, world.alice)
    assert client.post(f"/diseases/{world.disease.slug}/map/leave").status_code == 303
    response = client.post(f"/comments/{world.top.id}/delete", data={"confirm": "yes"})
    assert response.status_code == 303
