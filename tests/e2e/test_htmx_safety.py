"""The review's chain in Chromium: a link in a comment to /account/export, clicked by a member
whose export holds markup (a question title, escaped on pages, raw in JSON), once made htmx
swap the JSON into the page, where the markup posted the export as a public comment in the
member's name. Each wall is shown holding on its own:

1. a link in user content is a plain navigation: the export downloads, nothing is swapped;
2. a boosted request for the export (a link outside user content) swaps nothing either:
   the server answers htmx with no body to swap and sends the browser there for real;
3. markup injected into a page cannot start requests of its own beyond what the sanitizer and
   the htmx config allow (no eval, no script tags, same-origin requests only).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, Question, Vote
from tests.e2e.conftest import release_database, sign_in
from tests.factories import make_comment


@dataclass(frozen=True)
class Trap:
    page_path: str  # the question page where the attacker's link sits
    comment_id: int  # the attacker's comment
    member_id: int  # the member who clicks


@pytest.fixture
def trap(make, member) -> Trap:
    """Bob asks a question whose title is an unclosed htmx form; the member upvoted it, so it
    is in their export. Under another question Bob comments a link to the export."""
    bob = make.make_user("bob_b")
    disease = make.make_disease("Scleromyxedema")
    target = make.make_question(disease, "What are the latest advances in Scleromyxedema?")
    payload = f"<form hx-post=/questions/{target.id}/comments hx-trigger=load><textarea name=body>"
    evil = make.make_question(disease, payload, author_id=bob.id)
    db.session.add(Vote(question_id=evil.id, user_id=member.id))
    evil.vote_count += 1
    db.session.commit()
    comment = make_comment(target, bob, "Look what they keep on you: [your data](/account/export)")
    trap = Trap(f"/diseases/{disease.slug}/questions/{target.slug}", comment.id, member.id)
    release_database()
    return trap


def comments_by(user_id: int) -> int:
    count = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.author_id == user_id)
    )
    release_database()
    return count


def test_a_link_in_a_comment_to_the_export_downloads_it_and_posts_nothing(app, page, trap, member):
    sign_in(page, app, member)
    page.goto(trap.page_path)
    link = page.locator(f"#comment-{trap.comment_id}").get_by_role("link", name="your data")

    with page.expect_download() as download:
        link.click()

    assert download.value.suggested_filename == "rarecircle-mira_member.json"
    assert comments_by(trap.member_id) == 0
    # The page the member was on is still the question page, untouched.
    expect(page.locator("h1")).to_have_text("What are the latest advances in Scleromyxedema?")


def test_a_boosted_request_for_the_export_swaps_nothing(app, page, trap, member):
    sign_in(page, app, member)
    page.goto(trap.page_path)
    # A boosted link outside user content (as a future site link might be).
    page.evaluate(
        """() => {
            const a = document.createElement("a");
            a.id = "boosted-export"; a.href = "/account/export"; a.textContent = "Export";
            document.querySelector(".account-nav").appendChild(a);
            htmx.process(a);
        }"""
    )

    with page.expect_download():
        page.locator("#boosted-export").click()

    assert comments_by(trap.member_id) == 0
    assert page.locator("textarea[name=body]").count() == 1  # only the page's own comment box


def test_htmx_is_configured_so_injected_markup_cannot_do_more(page, live_server):
    page.goto("/")
    config = page.evaluate(
        """() => ({
            selfRequestsOnly: htmx.config.selfRequestsOnly,
            allowEval: htmx.config.allowEval,
            allowScriptTags: htmx.config.allowScriptTags,
            historyCacheSize: htmx.config.historyCacheSize,
        })"""
    )
    assert config == {
        "selfRequestsOnly": True,
        "allowEval": False,
        "allowScriptTags": False,
        "historyCacheSize": 0,
    }


def test_the_export_holds_the_title_but_no_live_markup(app, client, trap, member):
    """Even opened by hand as HTML, the export's text would carry no tags."""
    from tests.conftest import login

    login(client, member)
    text = client.get("/account/export").get_data(as_text=True)
    assert "<form" not in text and "\\u003cform hx-post=" in text
    title = db.session.scalar(select(Question.title).where(Question.title.like("<form%")))
    release_database()
    assert client.get("/account/export").get_json()["votes"][0]["question_title"] == title
