"""Upvoting and asking questions in a real browser, with JavaScript on and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    assert_no_navigation,
    check_no_navigation,
    release_database,
    sign_in,
)


@pytest.fixture
def question_id(make, disease):
    """The id of a question with 2 votes (a plain int: it stays usable after the session ends)."""
    make.make_question(disease, "Is it contagious?", votes=1)
    question_id = make.make_question(disease, "Is it hereditary?", votes=2).id
    release_database()
    return question_id


def vote_box(page, question_id):
    return page.locator(f"#question-{question_id}-votes")


def test_member_upvotes_in_place_and_takes_it_back(page, live_server, app, make, question_id):
    sign_in(page, app, make.make_user())
    page.goto("/diseases/scleromyxedema")
    box = vote_box(page, question_id)
    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "false")
    expect(box.locator(".vote-count")).to_have_text("2")
    assert_no_navigation(page)

    box.get_by_role("button").click()

    expect(box.locator(".vote-count")).to_have_text("3")
    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "true")
    assert check_no_navigation(page)

    page.reload()
    expect(box.locator(".vote-count")).to_have_text("3")
    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "true")
    assert_no_navigation(page)

    box.get_by_role("button").click()

    expect(box.locator(".vote-count")).to_have_text("2")
    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "false")
    assert check_no_navigation(page)


def test_upvote_without_javascript_returns_to_the_same_place(
    page_nojs, live_server, app, make, question_id
):
    page = page_nojs
    sign_in(page, app, make.make_user())
    page.goto("/diseases/scleromyxedema/questions?sort=new")
    box = vote_box(page, question_id)

    box.get_by_role("button").click()

    expect(page).to_have_url(
        re.compile(rf"/diseases/scleromyxedema/questions\?sort=new#question-{question_id}$")
    )
    expect(box.locator(".vote-count")).to_have_text("3")
    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "true")

    box.get_by_role("button").click()

    expect(box.locator(".vote-count")).to_have_text("2")
    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "false")


def test_visitor_who_upvotes_is_sent_to_login(page, question_id):
    page.goto("/diseases/scleromyxedema")

    vote_box(page, question_id).get_by_role("button").click()

    expect(page).to_have_url(re.compile(r"/login\?next=/diseases/scleromyxedema"))


def test_own_question_button_is_disabled_and_says_why(page, live_server, app, make):
    author = make.make_user()
    disease = make.make_disease("Scleromyxedema")
    question_id = make.make_question(disease, "Can diet help?", author_id=author.id).id
    sign_in(page, app, author)

    page.goto("/diseases/scleromyxedema")

    box = vote_box(page, question_id)
    button = box.get_by_role("button")
    expect(button).to_be_disabled()
    # The reason stands beside the title, and the button is described by it.
    expect(button).to_have_accessible_description(re.compile("cannot upvote"))
    expect(page.locator(f"#question-{question_id}")).to_contain_text("You asked this")
    expect(box).not_to_contain_text("cannot upvote")


def test_member_asks_a_question_and_fixes_a_mistake_in_place(
    page, live_server, app, make, question_id
):
    sign_in(page, app, make.make_user())
    page.goto("/diseases/scleromyxedema")
    page.get_by_role("link", name="Ask a question").click()
    expect(page.get_by_role("heading", name=re.compile("Ask a question"))).to_be_visible()
    assert_no_navigation(page)

    page.get_by_label("Your question").fill("Too short")
    page.get_by_role("button", name="Post the question").click()

    expect(page.locator("#ask-form .error")).to_be_visible()
    expect(page.get_by_label("Your question")).to_have_value("Too short")
    assert check_no_navigation(page)

    page.get_by_label("Your question").fill("Does it affect the heart")
    page.get_by_role("button", name="Post the question").click()

    expect(page).to_have_url(re.compile(r"/questions/does-it-affect-the-heart$"))
    expect(page.get_by_role("heading", name="Does it affect the heart?")).to_be_visible()


def test_visitor_upvoting_in_the_aside_logs_in_and_comes_back_to_the_question(
    page, live_server, app, make, question_id
):
    make.make_user("rosa_reader")  # factories' password: "correct horse battery"
    release_database()
    page.goto("/diseases/scleromyxedema/questions/is-it-contagious")
    box = vote_box(page, question_id)  # "Is it hereditary?" in the other top questions

    box.get_by_role("button").click()
    page.get_by_label("Username").fill("rosa_reader")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()

    expect(page).to_have_url(
        re.compile(rf"/diseases/scleromyxedema/questions/is-it-contagious#question-{question_id}$")
    )
    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "false")
    box.get_by_role("button").click()
    expect(box.locator(".vote-count")).to_have_text("3")


def test_a_double_click_counts_once(page, live_server, app, make, question_id):
    sign_in(page, app, make.make_user())
    page.goto("/diseases/scleromyxedema")
    box = vote_box(page, question_id)

    box.get_by_role("button").dblclick()

    expect(box.get_by_role("button")).to_have_attribute("aria-pressed", "true")
    expect(box.locator(".vote-count")).to_have_text("3")
    page.reload()
    expect(box.locator(".vote-count")).to_have_text("3")


@pytest.mark.parametrize("width", [390, 1280])
def test_question_page_vote_button_stays_inside_the_card(page, make, question_id, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/diseases/scleromyxedema/questions/is-it-hereditary")

    card = page.locator("article.question").bounding_box()
    button = vote_box(page, question_id).get_by_role("button").bounding_box()
    title = page.get_by_role("heading", level=1).bounding_box()

    assert button["x"] >= card["x"] + 8, (button, card)
    assert button["x"] + button["width"] <= title["x"], (button, title)
