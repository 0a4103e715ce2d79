"""Moderation in Chromium: a member reports a comment, a moderator hides it from the queue, the
thread shows the notice in its place with the replies intact, the public log lists it, and
restoring brings the text back."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from forum.extensions import db
from forum.models import User
from tests.e2e.conftest import assert_no_navigation, check_no_navigation, release_database, sign_in
from tests.factories import make_comment


@dataclass(frozen=True)
class Scene:
    path: str
    comment_id: int
    reply_id: int


@pytest.fixture
def scene(make):
    disease = make.make_disease("Scleromyxedema")
    question = make.make_question(disease, "Is there a natural treatment for scleromyxedema?")
    alice = make.make_user("alice_a")
    bob = make.make_user("bob_b")
    comment = make_comment(question, alice, "Stop your treatment and drink celery juice instead.")
    reply = make_comment(question, bob, "Please talk to your doctor first.", parent=comment)
    setup = Scene(f"/diseases/{disease.slug}/questions/{question.slug}", comment.id, reply.id)
    release_database()
    return setup


def test_report_hide_from_the_queue_notice_in_place_log_and_restore(
    app, browser, live_server, page, make, scene
):
    dave = make.make_user("dave_d")
    mona_id = make.make_user("mona_mod", role="moderator").id

    # A member reports the comment: the form opens under it, the thanks replace it in place.
    sign_in(page, app, dave)
    page.goto(scene.path)
    assert_no_navigation(page)
    comment = page.locator(f"#comment-{scene.comment_id}")
    comment.get_by_role("link", name="Report").click()
    page.get_by_label("Medical misinformation").check()
    page.get_by_label("Anything moderators should know").fill("Tells people to stop treatment.")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_text("Thank you. Moderators will look at it")).to_be_visible()
    assert check_no_navigation(page)

    # The moderator hides it from the queue, by htmx in place.
    moderator = browser.new_context(base_url=live_server)
    moderator.set_default_timeout(10_000)
    queue = moderator.new_page()
    sign_in(queue, app, db.session.get(User, mona_id))
    queue.goto("/moderation")
    card = queue.locator(f"#mod-comment-{scene.comment_id}")
    expect(card).to_contain_text("Medical misinformation")
    expect(card).to_contain_text("Tells people to stop treatment.")
    assert_no_navigation(queue)
    card.get_by_label("Public reason").select_option("misinformation")
    card.get_by_role("button", name="Hide", exact=True).click()
    expect(card).to_contain_text("Hidden: medical misinformation")
    assert check_no_navigation(queue)

    # The thread shows the notice where the comment was, with the reply intact under it.
    page.goto(scene.path)
    hidden = page.locator(f"#comment-{scene.comment_id}")
    expect(hidden).to_contain_text("Removed by a moderator: medical misinformation.")
    expect(hidden).not_to_contain_text("celery juice")
    expect(page.locator(f"#comment-{scene.reply_id}")).to_contain_text(
        "Please talk to your doctor first."
    )

    # The public log lists it, never naming who reported.
    page.goto("/moderation/log")
    expect(page.locator(".mod-log")).to_contain_text("Hid a comment")
    expect(page.locator(".mod-log")).to_contain_text("Reason: medical misinformation")
    expect(page.locator(".mod-log")).not_to_contain_text("dave_d")

    # The moderator restores it from the thread; the text is back in place.
    queue.goto(scene.path)
    assert_no_navigation(queue)
    in_thread = queue.locator(f"#comment-{scene.comment_id}")
    expect(in_thread).to_contain_text("celery juice")  # moderators see the hidden text
    in_thread.get_by_role("button", name="Restore").click()
    expect(queue.locator(f"#comment-{scene.comment_id}")).not_to_contain_text("Removed by")
    assert check_no_navigation(queue)
    moderator.close()

    page.goto(scene.path)
    expect(page.locator(f"#comment-{scene.comment_id}")).to_contain_text(
        "Stop your treatment and drink celery juice instead."
    )


def test_the_queue_works_without_javascript(app, page_nojs, make, scene):
    sign_in(page_nojs, app, make.make_user("mona_mod", role="moderator"))
    page_nojs.goto(f"/moderation/items/comment/{scene.comment_id}")
    page_nojs.get_by_label("Public reason").select_option("spam")
    page_nojs.get_by_role("button", name="Hide", exact=True).click()
    expect(page_nojs.get_by_text("Hidden: spam. The public log records it.")).to_be_visible()
    page_nojs.goto(scene.path)
    expect(page_nojs.locator(f"#comment-{scene.comment_id}")).to_contain_text(
        "Removed by a moderator: spam."
    )
