"""What a new visitor meets, in Chromium: where pages open after a post without JavaScript,
replies standing where a reload puts them, votes that mean what was clicked, a tab whose login
ended, long comments folded, and the layout on a phone and a desktop."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from forum.extensions import db
from forum.models import Comment, Question
from tests.e2e.conftest import release_database, sign_in
from tests.factories import PASSWORD, make_comment

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Setup:
    question_id: int
    path: str


@pytest.fixture
def question(make) -> Setup:
    disease = make.make_disease("Scleromyxedema")
    question = make.make_question(
        disease,
        "What are the latest advances in Scleromyxedema?",
        body="\n\n".join(["A long article paragraph about treatment and research. " * 8] * 12),
    )
    setup = Setup(question.id, f"/diseases/{disease.slug}/questions/{question.slug}")
    release_database()
    return setup


def seed(question: Setup, parent_id: int | None = None, **fields) -> int:
    parent = db.session.get(Comment, parent_id) if parent_id else None
    comment_id = make_comment(
        db.session.get(Question, question.question_id), parent=parent, **fields
    ).id
    release_database()
    return comment_id


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.top < window.innerHeight;
        }""",
        selector,
    )


def ids_in_order(page) -> list[int]:
    return [
        int(n)
        for n in page.locator("#comment-list article.comment").evaluate_all(
            "els => els.map(e => e.id.replace('comment-', ''))"
        )
    ]


# -- without JavaScript --------------------------------------------------------------------


def test_a_refused_comment_opens_at_the_form_with_the_text_kept(app, page_nojs, question, member):
    sign_in(page_nojs, app, member)
    page_nojs.goto(question.path)
    # Spaces pass the browser's own "required" check; the server refuses them.
    page_nojs.get_by_label("Your comment").fill("   \n  ")
    page_nojs.get_by_role("button", name="Post comment").click()

    expect(page_nojs.locator(".error-summary")).to_contain_text("Write something")
    assert in_viewport(page_nojs, "#comment-form")  # not 3,000 px below where the page opens
    expect(page_nojs.get_by_label("Your comment")).to_have_value("   \n  ")
    expect(page_nojs.locator("#comment-form .error")).to_contain_text("Write something")


def test_after_a_reply_without_javascript_the_question_page_opens_at_it(
    app, page_nojs, question, member
):
    sign_in(page_nojs, app, member)
    parent = seed(question, body="Has anyone tried IVIG?", guest_name="Ana")
    page_nojs.goto(question.path)
    page_nojs.locator(f"#comment-{parent}").get_by_role("link", name="Reply").click()
    page_nojs.get_by_label("Your reply").fill("Yes, for two years now.")
    page_nojs.get_by_role("button", name="Post reply").click()

    reply = db.session.scalars(db.select(Comment.id).order_by(Comment.id.desc())).first()
    release_database()
    expect(page_nojs).to_have_url(re.compile(rf"{re.escape(question.path)}#comment-{reply}$"))
    expect(page_nojs.locator(".flash")).to_have_text("Your reply is posted.")
    assert in_viewport(page_nojs, f"#comment-{reply}")
    # The confirmation is on screen too, not only at the top of the page.
    flash = page_nojs.locator(".flash").bounding_box()
    assert 0 <= flash["y"] < 844


def test_read_more_opens_a_long_comment_without_javascript(page_nojs, question):
    seed(question, body="\n\n".join(["A long paragraph of lived experience. " * 12] * 8))
    page_nojs.goto(question.path)
    comment = page_nojs.locator("#comment-list article.comment").first
    rest = comment.locator("details p").last
    expect(rest).to_be_hidden()
    comment.get_by_text("Read more").click()
    expect(rest).to_be_visible()


# -- with JavaScript -----------------------------------------------------------------------


def test_a_live_reply_stands_where_a_reload_puts_it(app, page, question, member):
    sign_in(page, app, member)
    parent = seed(question, body="Parent comment", guest_name="Ana")
    first = seed(question, parent_id=parent, body="First reply", guest_name="Ben")
    seed(question, parent_id=first, body="Reply to the first reply", guest_name="Cai")
    page.goto(question.path)

    page.locator(f"#comment-{parent}").get_by_role("link", name="Reply").click()
    page.get_by_label("Your reply").fill("A later reply to the parent")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("#comment-list")).to_contain_text("A later reply to the parent")
    expect(page.locator(f"#reply-form-{parent}")).to_have_count(0)
    live = ids_in_order(page)

    page.reload()
    assert ids_in_order(page) == live
    assert page.locator("article.comment").last.inner_text().count("A later reply") == 1


def test_a_stale_tab_upvoting_keeps_the_vote(app, browser, live_server, question, member):
    context = browser.new_context(base_url=live_server)
    first, second = context.new_page(), context.new_page()
    sign_in(first, app, member)
    for tab in (first, second):
        tab.goto(question.path)
    button = f"#question-{question.question_id}-vote-button"

    first.locator(button).click()
    expect(first.locator(button)).to_have_attribute("aria-pressed", "true")
    second.locator(button).click()  # this tab still shows "not voted"

    expect(second.locator(button)).to_have_attribute("aria-pressed", "true")
    expect(second.locator(f"{button} .vote-count")).to_have_text("1")
    assert db.session.get(Question, question.question_id).vote_count == 1
    release_database()
    context.close()


def test_a_tab_whose_login_ended_keeps_the_text_and_says_log_in_again(
    app, browser, live_server, question, member
):
    context = browser.new_context(base_url=live_server)
    writing, other = context.new_page(), context.new_page()
    sign_in(writing, app, member)
    writing.goto(question.path)
    other.goto("/")
    other.get_by_role("button", name="Log out").click()
    expect(other.get_by_role("link", name="Log in")).to_be_visible()

    writing.get_by_label("Your comment").fill("Three paragraphs I do not want to lose.")
    writing.get_by_role("button", name="Post comment").click()

    expect(writing.locator("#comment-form")).to_contain_text("You were logged out")
    expect(writing.get_by_label("Your comment")).to_have_value(
        "Three paragraphs I do not want to lose."
    )
    # Log in again in the other tab, then post from this one: it goes through.
    other.goto("/login")
    other.get_by_label("Username").fill("mira_member")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Log in").click()
    expect(other.get_by_role("button", name="Log out")).to_be_visible()
    writing.get_by_role("button", name="Post comment").click()
    expect(writing.locator("#comment-form")).to_contain_text("nothing was posted yet")
    writing.get_by_role("button", name="Post comment").click()
    expect(writing.locator("#comment-list")).to_contain_text("Three paragraphs I do not want")
    context.close()


def test_ask_a_question_as_a_visitor_logs_in_and_lands_on_the_form(page, question, member):
    page.goto("/diseases/scleromyxedema")
    page.get_by_role("link", name="Ask a question").first.click()

    expect(page).to_have_url(re.compile(r"/login\?next=/diseases/scleromyxedema/questions/ask"))
    expect(page.locator(".login-reason")).to_contain_text("Log in to ask a question.")
    page.get_by_label("Username").fill("mira_member")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/diseases/scleromyxedema/questions/ask$"))
    expect(page.get_by_label("Your question")).to_be_visible()


# -- the layout ------------------------------------------------------------------------------


def test_jump_to_comments_shows_on_a_phone_only(page, question):
    page.set_viewport_size(PHONE)
    page.goto(question.path)
    jump = page.get_by_role("link", name=re.compile("Jump to comments"))
    expect(jump).to_be_in_viewport()
    jump.click()
    expect(page.locator("#comments")).to_be_in_viewport()

    page.set_viewport_size(DESKTOP)
    page.goto(question.path)
    expect(jump).to_be_hidden()


def test_the_map_fills_a_phones_width(page, make):
    make.make_disease("Scleromyxedema")
    release_database()
    page.set_viewport_size(PHONE)
    page.goto("/diseases/scleromyxedema/map")
    box = page.locator("#world-map").bounding_box()
    assert box["x"] <= 1 and box["width"] >= PHONE["width"] - 2


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_footer_stays_at_the_bottom_of_a_short_page(page, size):
    page.set_viewport_size(size)
    page.goto("/contact")
    page.set_viewport_size({"width": size["width"], "height": 2000})
    footer = page.locator(".site-footer").bounding_box()
    assert abs(footer["y"] + footer["height"] - 2000) <= 1
