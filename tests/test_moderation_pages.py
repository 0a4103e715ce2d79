"""What people see of moderation: hidden comments in place, hidden questions, locked threads,
and guests' comments waiting for review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.comments.service import true_comment_count
from forum.extensions import db
from forum.models import Comment, Question
from forum.models.base import utcnow
from tests.conftest import HTMX
from tests.factories import make_comment
from tests.moderation_world import (
    World,
    article,
    as_user,
    build_world,
    fresh,
    text_of,
)


@pytest.fixture
def world(app) -> World:
    return build_world()


def hide(client, world, kind, item_id, reason="misinformation"):
    as_user(client, world.mona)
    response = client.post(f"/moderation/items/{kind}/{item_id}/hide", data={"reason": reason})
    assert response.status_code == 303, text_of(response)
    client.get("/logout")


def log_out(client):
    with client.session_transaction() as session:
        session.clear()


# -- a hidden comment ----------------------------------------------------------------------------


def test_a_hidden_comment_shows_the_notice_in_its_place_and_keeps_its_replies(client, world):
    hide(client, world, "comment", world.top.id)
    log_out(client)

    html = text_of(client.get(world.question_path))

    top = article(html, world.top.id)
    assert "Removed by a moderator: medical misinformation." in top
    assert "Alice thinks" not in html
    assert "Bob agrees with Alice." in article(html, world.reply.id)
    assert html.index(f'id="comment-{world.top.id}"') < html.index(f'id="comment-{world.reply.id}"')
    # The count is true: the hidden comment is not counted, its reply is.
    shown = fresh(Question, world.question.id).comment_count
    assert shown == true_comment_count(world.question.id) == 3
    assert "3 comments" in html


def test_a_hidden_comment_without_replies_still_shows_its_notice(client, world):
    lone = make_comment(world.question, world.dave, "Buy cheap pills here.")
    hide(client, world, "comment", lone.id, "spam")
    log_out(client)
    html = text_of(client.get(world.question_path))
    assert "Removed by a moderator: spam." in article(html, lone.id)
    assert "cheap pills" not in html


def test_the_author_sees_their_own_hidden_text_with_the_notice(client, world):
    hide(client, world, "comment", world.top.id)
    as_user(client, world.alice)
    top = article(text_of(client.get(world.question_path)), world.top.id)
    assert "Alice thinks it is not inherited." in top
    assert "Removed by a moderator: medical misinformation." in top
    assert "Only you and the moderators see this text." in top
    assert "Restore" not in top and ">Reply<" not in top


def test_moderators_see_the_hidden_text_with_a_restore_button(client, world):
    hide(client, world, "comment", world.top.id)
    as_user(client, world.mona)
    top = article(text_of(client.get(world.question_path)), world.top.id)
    assert "Alice thinks it is not inherited." in top
    assert "Removed by a moderator" in top
    assert f'action="/moderation/items/comment/{world.top.id}/restore"' in top


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_nobody_replies_to_a_hidden_comment(client, world, htmx):
    hide(client, world, "comment", world.top.id)
    as_user(client, world.dave)
    response = client.post(
        f"/questions/{world.question.id}/comments",
        data={"body": "A reply.", "parent_id": str(world.top.id)},
        headers=HTMX if htmx else {},
    )
    assert "has been removed" in text_of(response)
    assert db.session.scalar(select(Comment).where(Comment.body_md == "A reply.")) is None


def test_the_permalink_and_profile_of_a_hidden_comment_hide_its_text(client, world):
    hide(client, world, "comment", world.top.id)
    log_out(client)
    assert "Alice thinks" not in text_of(client.get(f"/comments/{world.top.id}"))
    assert "Alice thinks" not in text_of(client.get("/members/alice_a?tab=comments"))
    fragment = text_of(client.get(f"/comments/{world.top.id}", headers=HTMX))
    assert "Removed by a moderator" in fragment and "Alice thinks" not in fragment


# -- a hidden question ---------------------------------------------------------------------------


def test_a_hidden_question_disappears_from_lists_and_its_page_says_why(client, world):
    hide(client, world, "question", world.question.id, "off_topic")
    log_out(client)
    slug = world.disease.slug
    for url in (f"/diseases/{slug}", f"/diseases/{slug}/questions", "/members/carol_c"):
        assert "Is scleromyxedema hereditary?" not in text_of(client.get(url)), url

    page = client.get(world.question_path)
    html = text_of(page)
    assert page.status_code == 200
    assert "This question has been removed" in html
    assert "Removed by a moderator: off topic." in html
    assert "Is scleromyxedema hereditary?" not in html and "Alice thinks" not in html
    assert 'name="robots" content="noindex"' in html


def test_the_author_and_moderators_still_see_a_hidden_question_with_its_notice(client, world):
    hide(client, world, "question", world.question.id, "off_topic")
    for user in (world.carol, world.mona):
        as_user(client, user)
        html = text_of(client.get(world.question_path))
        assert "Is scleromyxedema hereditary?" in html
        assert "Removed by a moderator: off topic." in html


def test_a_hidden_question_takes_no_votes_or_comments(client, world):
    hide(client, world, "question", world.question.id)
    as_user(client, world.dave)
    vote = client.post(f"{world.question_path}/vote", headers=HTMX)
    assert "removed this question" in text_of(vote)
    assert fresh(Question, world.question.id).vote_count == 0
    post = client.post(f"/questions/{world.question.id}/comments", data={"body": "Hello?"})
    assert post.status_code == 422 and "This question has been removed" in text_of(post)
    assert db.session.scalar(select(Comment).where(Comment.body_md == "Hello?")) is None


# -- a locked thread ------------------------------------------------------------------------------


def lock(client, world):
    as_user(client, world.mona)
    assert client.post(f"/moderation/questions/{world.question.id}/lock").status_code == 303


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_a_locked_thread_says_since_when_and_offers_no_form_or_reply(client, world, who):
    lock(client, world)
    log_out(client)
    as_user(client, world.dave if who == "member" else None)
    html = text_of(client.get(world.question_path))
    assert "This discussion was locked by a moderator on" in html
    assert "UTC" in html
    assert 'id="comment-form"' not in html
    assert "/reply" not in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("parent", [False, True], ids=["comment", "reply"])
def test_a_locked_thread_refuses_new_comments_and_replies(client, world, htmx, parent):
    lock(client, world)
    as_user(client, world.dave)
    data = {"body": "Too late?"}
    if parent:
        data["parent_id"] = str(world.top.id)
    response = client.post(
        f"/questions/{world.question.id}/comments", data=data, headers=HTMX if htmx else {}
    )
    assert "locked" in text_of(response)
    assert "Too late?" in text_of(response)  # the text is kept for the writer
    assert db.session.scalar(select(Comment).where(Comment.body_md == "Too late?")) is None
    reply_form = client.get(f"/comments/{world.top.id}/reply")
    assert reply_form.status_code == 404


def test_unlocking_opens_the_thread_again(client, world):
    lock(client, world)
    client.post(f"/moderation/questions/{world.question.id}/unlock")
    as_user(client, world.dave)
    assert 'id="comment-form"' in text_of(client.get(world.question_path))
    post = client.post(f"/questions/{world.question.id}/comments", data={"body": "Open again."})
    assert post.status_code == 303


def test_moderators_lock_from_the_question_page(client, world):
    as_user(client, world.mona)
    html = text_of(client.get(world.question_path))
    assert f'action="/moderation/questions/{world.question.id}/lock"' in html
    response = client.post(
        f"/moderation/questions/{world.question.id}/lock",
        headers={"Referer": f"http://localhost{world.question_path}"},
    )
    assert response.headers["Location"] == world.question_path
    html = text_of(client.get(world.question_path))
    assert f'action="/moderation/questions/{world.question.id}/unlock"' in html


# -- guests' comments awaiting review -------------------------------------------------------------


@pytest.fixture
def guest_moderation(app):
    app.config["GUEST_MODERATION"] = True


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_guests_comment_waits_for_review_and_the_guest_sees_awaiting_review(
    app, client, world, guest_moderation, htmx
):
    count = fresh(Question, world.question.id).comment_count
    response = client.post(
        f"/questions/{world.question.id}/comments",
        data={"body": "A guest asks kindly.", "guest_name": "Gail"},
        headers=HTMX if htmx else {},
    )
    comment = db.session.scalar(select(Comment).where(Comment.guest_name == "Gail"))
    assert comment.held_at is not None
    assert fresh(Question, world.question.id).comment_count == count
    if htmx:
        assert "Awaiting review" in text_of(response) and "A guest asks kindly." in text_of(
            response
        )
    # The guest (same browser session) sees it, marked; nobody else does.
    html = text_of(client.get(world.question_path))
    assert "A guest asks kindly." in article(html, comment.id)
    assert "Awaiting review" in article(html, comment.id)
    other = app.test_client()
    assert "A guest asks kindly." not in text_of(other.get(world.question_path))
    as_user(other, world.dave)
    assert "A guest asks kindly." not in text_of(other.get(world.question_path))


def test_members_comments_are_not_held(client, world, guest_moderation):
    as_user(client, world.dave)
    client.post(f"/questions/{world.question.id}/comments", data={"body": "Member here."})
    comment = db.session.scalar(select(Comment).where(Comment.body_md == "Member here."))
    assert comment.held_at is None


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_approving_publishes_and_counts_the_comment_rejecting_deletes_it(
    app, client, world, guest_moderation, htmx
):
    held = [make_comment(world.question, guest_name=n, held_at=utcnow()) for n in ("Gus", "Gia")]
    count = fresh(Question, world.question.id).comment_count
    as_user(client, world.mona)
    queue = text_of(client.get("/moderation"))
    assert f'id="held-{held[0].id}"' in queue and f'id="held-{held[1].id}"' in queue

    headers = HTMX if htmx else {}
    ok = client.post(f"/moderation/comments/{held[0].id}/approve", headers=headers)
    no = client.post(f"/moderation/comments/{held[1].id}/reject", headers=headers)
    assert ok.status_code == no.status_code == (200 if htmx else 303)

    assert fresh(Comment, held[0].id).held_at is None
    assert fresh(Comment, held[1].id).deleted_at is not None
    assert fresh(Question, world.question.id).comment_count == count + 1
    visitor = app.test_client()
    html = text_of(visitor.get(world.question_path))
    assert f'id="comment-{held[0].id}"' in html and f'id="comment-{held[1].id}"' not in html
    again = client.post(f"/moderation/comments/{held[1].id}/approve", headers=headers)
    assert again.status_code == 409
