"""Comments in Chromium: post, reply, edit and delete, with JavaScript (htmx) and without."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from forum.extensions import db
from forum.models import Comment, Disease, Question
from tests.e2e.conftest import (
    assert_no_navigation,
    check_no_navigation,
    release_database,
    sign_in,
    wait_for_htmx,
)
from tests.factories import make_comment


@dataclass(frozen=True)
class Setup:
    question_id: int
    path: str


@pytest.fixture
def discussion(question) -> Setup:
    """The question's id and page (plain values, usable after the test's session is released)."""
    disease = db.session.get(Disease, question.disease_id)
    setup = Setup(question.id, f"/diseases/{disease.slug}/questions/{question.slug}")
    release_database()
    return setup


def seed(discussion: Setup, parent_id: int | None = None, **fields) -> int:
    """Store a comment (a reply to `parent_id` if given); gives its id."""
    parent = db.session.get(Comment, parent_id) if parent_id else None
    comment_id = make_comment(
        db.session.get(Question, discussion.question_id), parent=parent, **fields
    ).id
    release_database()
    return comment_id


def newest_comment() -> Comment:
    """The last comment stored (detached: its columns stay readable)."""
    comment = db.session.scalars(db.select(Comment).order_by(Comment.id.desc()).limit(1)).one()
    db.session.expunge(comment)
    release_database()
    return comment


def _deleted_at(comment_id: int):
    deleted_at = db.session.get(Comment, comment_id).deleted_at
    release_database()
    return deleted_at


def test_post_reply_edit_and_delete_without_page_loads(app, page, discussion, member):
    sign_in(page, app, member)
    page.goto(discussion.path)
    assert_no_navigation(page)

    # Post a top-level comment.
    page.get_by_label("Your comment").fill("None that I can see.")
    page.get_by_role("button", name="Post comment").click()
    comments = page.locator("#comment-list article.comment")
    expect(comments).to_have_count(1)
    expect(comments.first).to_contain_text("None that I can see.")
    expect(page.locator("#comment-count")).to_have_text("1 comment")
    expect(page.get_by_label("Your comment")).to_have_value("")
    first = newest_comment()

    # Reply: the form swaps in under the comment, the reply lands right under its parent.
    parent = page.locator(f"#comment-{first.id}")
    parent.get_by_role("link", name="Reply").click()
    reply_box = page.locator(f"#comment-{first.id}-reply").get_by_label("Your reply")
    expect(reply_box).to_be_visible()
    reply_box.fill("Have you asked about IVIG?")
    page.get_by_role("button", name="Post reply").click()
    reply = page.locator(f"#comment-{first.id} + article.comment")
    expect(reply).to_contain_text("Have you asked about IVIG?")
    expect(reply).to_have_class(re.compile(r"\bdepth-1\b"))
    expect(page.locator(f"#reply-form-{first.id}")).to_have_count(0)
    reply_id = newest_comment().id
    assert newest_comment().parent_id == first.id

    # Edit the reply in place.
    page.locator(f"#comment-{reply_id}").get_by_role("link", name="Edit").click()
    edit_box = page.locator(f"#comment-{reply_id}").get_by_label("Edit your comment")
    expect(edit_box).to_have_value("Have you asked about IVIG?")
    edit_box.fill("Have you asked your doctor about IVIG?")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(f"#comment-{reply_id} .comment-body")).to_have_text(
        "Have you asked your doctor about IVIG?"
    )
    expect(page.locator(f"#comment-{reply_id} .edited")).to_be_visible()

    # Delete asks first: dismissing the dialog keeps the comment.
    page.once("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog"):
        parent.get_by_role("button", name="Delete").click()
    wait_for_htmx(page)
    expect(parent.locator(".comment-body")).to_have_text("None that I can see.")
    assert newest_comment().parent_id == first.id and _deleted_at(first.id) is None

    # Delete the parent: it stays as [deleted] above its reply. Then delete the reply.
    page.on("dialog", lambda dialog: dialog.accept())
    parent.get_by_role("button", name="Delete").click()
    expect(page.locator(f"#comment-{first.id}")).to_contain_text("[deleted]")
    expect(page.locator(f"#comment-{reply_id}")).to_be_visible()
    page.locator(f"#comment-{reply_id}").get_by_role("button", name="Delete").click()
    expect(page.locator(f"#comment-{reply_id}")).to_have_count(0)
    expect(page.locator("#comment-count")).to_have_text("0 comments")

    assert check_no_navigation(page), "a comment action reloaded the page"


def test_a_guest_reply_error_keeps_the_text_and_the_scroll(page, discussion):
    parent_id = seed(discussion, guest_name="Ana", body="Does anyone else itch?")
    page.goto(discussion.path)
    assert_no_navigation(page)

    page.locator(f"#comment-{parent_id}").get_by_role("link", name="Reply").click()
    slot = page.locator(f"#comment-{parent_id}-reply")
    slot.get_by_label("Your reply").fill("Yes, every evening.")
    page.get_by_role("button", name="Post reply").click()
    expect(slot.locator(".error")).to_contain_text("display name")
    expect(slot.get_by_label("Your reply")).to_have_value("Yes, every evening.")
    # The form comes back and takes the focus once htmx has settled it: wait for that, or
    # the name typed next could land in the reply box.
    expect(slot.get_by_label("Your reply")).to_be_focused()

    slot.get_by_label("Your display name").fill("Bea")
    page.get_by_role("button", name="Post reply").click()
    reply = page.locator(f"#comment-{parent_id} + article.comment")
    expect(reply).to_contain_text("Yes, every evening.")
    expect(reply.locator(".badge-guest")).to_have_text("guest")
    assert check_no_navigation(page)


def test_folded_replies_load_in_place(app, page, discussion):
    app.config["REPLIES_SHOWN"] = 1
    root_id = seed(discussion, body="root")
    for n in range(3):
        seed(discussion, root_id, body=f"reply {n}")
    page.goto(discussion.path)
    assert_no_navigation(page)

    page.get_by_role("link", name="Show 2 more replies").click()
    expect(page.locator("#comment-list article.comment")).to_have_count(4)
    expect(page.get_by_role("link", name="Show 2 more replies")).to_have_count(0)
    assert check_no_navigation(page)


def test_post_reply_edit_and_delete_without_javascript(app, page_nojs, discussion, member):
    page = page_nojs
    sign_in(page, app, member)
    page.goto(discussion.path)
    at_question = re.escape(discussion.path)

    page.get_by_label("Your comment").fill("Posted without JavaScript.")
    page.get_by_role("button", name="Post comment").click()
    first = newest_comment()
    # Back on the question page, at the comment, with a confirmation.
    page.wait_for_url(re.compile(rf"{at_question}#comment-{first.id}$"))
    expect(page.locator(f"#comment-{first.id}")).to_contain_text("Posted without JavaScript.")
    expect(page.locator(".flash")).to_have_text("Your comment is posted.")

    # Reply is a link to a page with the form; posting returns to the question at the reply.
    page.locator(f"#comment-{first.id}").get_by_role("link", name="Reply").click()
    page.wait_for_url(f"**/comments/{first.id}/reply")
    page.get_by_label("Your reply").fill("A reply, also without JavaScript.")
    page.get_by_role("button", name="Post reply").click()
    reply = newest_comment()
    page.wait_for_url(re.compile(rf"{at_question}#comment-{reply.id}$"))
    expect(page.locator(f"#comment-{first.id} + article.comment")).to_contain_text(
        "A reply, also without JavaScript."
    )

    # An empty edit is refused on the question page, the form in the comment's place; then a
    # real edit is saved.
    page.locator(f"#comment-{reply.id}").get_by_role("link", name="Edit").click()
    page.wait_for_url(f"**/comments/{reply.id}/edit")
    page.get_by_label("Edit your comment").fill("   ")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(f"#comment-{reply.id} .error")).to_contain_text("Write something")
    expect(page.locator("h1")).to_have_text("Is it hereditary?")
    page.get_by_label("Edit your comment").fill("An edited reply.")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(rf"{at_question}#comment-{reply.id}$"))
    expect(page.locator(f"#comment-{reply.id} .comment-body")).to_have_text("An edited reply.")

    # Delete asks on a page of its own; "Keep it" changes nothing, confirming returns to the
    # question at the comment the reply answered.
    page.locator(f"#comment-{reply.id}").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete your comment?")).to_be_visible()
    page.get_by_role("link", name="Keep it").click()
    page.wait_for_url(re.compile(rf"/comments/{reply.id}#comment-{reply.id}$"))
    assert _deleted_at(reply.id) is None
    page.locator(f"#comment-{reply.id}").get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete comment").click()
    page.wait_for_url(re.compile(rf"{at_question}#comment-{first.id}$"))
    expect(page.locator(f"#comment-{reply.id}")).to_have_count(0)
    expect(page.locator(f"#comment-{first.id}")).to_contain_text("Posted without JavaScript.")
    expect(page.locator(".flash")).to_have_text("Your comment is deleted.")


def test_folded_replies_without_javascript_link_to_the_whole_thread(app, page_nojs, discussion):
    app.config["REPLIES_SHOWN"] = 1
    root_id = seed(discussion, body="root")
    for n in range(3):
        seed(discussion, root_id, body=f"reply {n}")
    page_nojs.goto(discussion.path)
    page_nojs.get_by_role("link", name="Show 2 more replies").click()
    page_nojs.wait_for_url(re.compile(rf"/comments/{root_id}#comment-{root_id}$"))
    expect(page_nojs.locator("article.comment")).to_have_count(4)


def test_an_htmx_reply_keeps_the_scroll_position(page, discussion):
    ids = [
        seed(discussion, guest_name=f"Person {n}", body=f"Comment {n}. " * 40) for n in range(10)
    ]
    parent_id = ids[3]  # with plenty below, so the page never runs short of content
    page.set_viewport_size({"width": 390, "height": 700})
    page.goto(discussion.path)
    assert_no_navigation(page)

    parent = page.locator(f"#comment-{parent_id}")
    parent.get_by_role("link", name="Reply").click()
    box = page.locator(f"#comment-{parent_id}-reply").get_by_label("Your reply")
    expect(box).to_be_focused()
    box.fill("Same for me.")
    page.locator(f"#comment-{parent_id}-reply").get_by_label("Your display name").fill("Bea")
    # The reader looks at the form's button; from here on the page must not move.
    page.get_by_role("button", name="Post reply").scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    parent_top = parent.evaluate("el => el.getBoundingClientRect().top")
    page.get_by_role("button", name="Post reply").press("Enter")

    reply = page.locator(f"#comment-{parent_id} + article.comment")
    expect(reply).to_contain_text("Same for me.")
    expect(page.locator(f"#reply-form-{parent_id}")).to_have_count(0)
    wait_for_htmx(page)  # the swap settled, and any scrolling it caused happened
    assert page.evaluate("window.scrollY") == before
    assert parent.evaluate("el => el.getBoundingClientRect().top") == parent_top
    assert reply.evaluate("el => el.getBoundingClientRect().top") < 700
    assert check_no_navigation(page)


def test_unfolding_a_thread_after_a_live_reply_shows_each_comment_once(app, page, discussion):
    app.config["REPLIES_SHOWN"] = 1
    root_id = seed(discussion, body="root")
    reply_ids = [seed(discussion, root_id, body=f"reply {n}") for n in range(3)]
    page.goto(discussion.path)
    assert_no_navigation(page)

    shown = page.locator(f"#comment-{reply_ids[0]}")
    shown.get_by_role("link", name="Reply").click()
    slot = page.locator(f"#comment-{reply_ids[0]}-reply")
    # The form takes the focus once htmx has settled it; typing before then could land in
    # the box that is about to take the focus.
    expect(slot.get_by_label("Your reply")).to_be_focused()
    slot.get_by_label("Your display name").fill("Bea")
    slot.get_by_label("Your reply").fill("A live reply.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.comment", has_text="A live reply.")).to_have_count(1)

    page.get_by_role("link", name="Show 2 more replies").click()
    expect(page.locator(f"#comment-{reply_ids[2]}")).to_have_count(1)
    ids = page.eval_on_selector_all("article.comment", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)) == 5, ids
    expect(page.locator("article.comment", has_text="A live reply.")).to_have_count(1)
    assert check_no_navigation(page)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_deep_thread_stays_readable_on_phone_and_desktop(app, page, discussion, width):
    parent_id = None
    for n in range(12):
        parent_id = seed(discussion, parent_id, guest_name="Ana", body=f"Level {n}. " * 30)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/comments/{parent_id}")

    widths = page.eval_on_selector_all(
        "article.comment .comment-body", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert len(widths) == 12
    # Indentation stops at the depth limit, so the deepest text keeps most of the width.
    assert min(widths) >= 0.75 * max(widths), widths
    assert min(widths) >= 240
    # Lines stay a readable length on a wide screen, and nothing scrolls sideways.
    assert max(widths) <= 760
    assert page.evaluate("document.documentElement.scrollWidth") <= width
