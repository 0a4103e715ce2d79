"""Sign-up, login, logout and account deletion in Chromium, with JavaScript on and off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from forum.extensions import db
from forum.models import User

PASSWORD = "plum tree under snow"


@pytest.fixture
def disease_url(make, live_server):
    slug = make.make_disease("Alkaptonuria", synonyms=["Black urine disease"]).slug
    # On SQLite a transaction left open here would hold the write lock the server needs.
    db.session.rollback()
    return f"{live_server}/diseases/{slug}"


def account_exists(username: str) -> bool:
    """Whether the account is in the database (read in a transaction closed at once)."""
    try:
        key = username.lower()
        return db.session.scalar(select(User.id).where(User.username_key == key)) is not None
    finally:
        db.session.rollback()


def account_lifecycle(page, disease_url: str) -> None:
    """Sign up from a disease page, log out, log back in, then delete the account."""
    page.goto(disease_url)
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("Rosa.B")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    # Back where the visitor was, logged in.
    expect(page).to_have_url(re.compile(re.escape(disease_url) + "$"))
    expect(page.locator(".account-nav")).to_contain_text("Signed in as Rosa.B")
    expect(page.locator(".flashes")).to_contain_text("Your account is ready")
    assert account_exists("rosa.b")

    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".account-nav")).to_contain_text("Log in")
    expect(page.locator(".flashes")).to_contain_text("You are logged out")

    page.goto(disease_url)
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("rosa.b")
    page.get_by_label("Password").fill("a wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match any account")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(disease_url) + "$"))
    expect(page.locator(".account-nav")).to_contain_text("Signed in as Rosa.B")

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator(".flashes")).to_contain_text("Your account is deleted")
    expect(page.locator(".account-nav")).to_contain_text("Log in")
    assert not account_exists("rosa.b")


def test_account_lifecycle_with_javascript(page, disease_url):
    account_lifecycle(page, disease_url)


def test_account_lifecycle_without_javascript(page_nojs, disease_url):
    account_lifecycle(page_nojs, disease_url)


def test_rate_limit_message_is_shown_with_javascript(page, app, live_server):
    app.config["RATELIMIT_LOGIN_IP"] = "1 per minute"
    page.goto("/login")
    for _ in range(2):
        page.get_by_label("Username").fill("nobody_here")
        page.get_by_label("Password").fill("a wrong password")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("main")).to_contain_text(
            re.compile("do not match any account|Too many login attempts")
        )
    expect(page.locator("main")).to_contain_text("Too many login attempts")
    expect(page.locator("main")).to_contain_text("Please wait")


def test_logged_out_vote_goes_to_login_and_back(page, make, live_server):
    make.make_user("mira_member")
    question = make.make_question(title="Is it hereditary?")
    url = f"{live_server}/diseases/scleromyxedema/questions/{question.slug}"
    db.session.rollback()
    page.goto(url)
    page.get_by_role("button", name=re.compile("^Upvote")).first.click()

    # A whole-page trip to the login form (HX-Redirect), not a form swapped into the button.
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill("mira_member")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(re.escape(url)))
    expect(page.locator(".account-nav")).to_contain_text("Signed in as mira_member")


def test_logging_out_in_one_browser_keeps_the_other_logged_in(browser, live_server, make):
    make.make_user("mira_member")
    db.session.rollback()
    pages = []
    for _ in range(2):
        context = browser.new_context(base_url=live_server)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username").fill("mira_member")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator(".account-nav")).to_contain_text("Signed in as mira_member")
        pages.append(page)
    laptop, phone = pages
    copied = laptop.context.cookies()

    laptop.get_by_role("button", name="Log out").click()
    expect(laptop.locator(".account-nav")).to_contain_text("Log in")

    phone.reload()
    expect(phone.locator(".account-nav")).to_contain_text("Signed in as mira_member")
    # Someone who copied the laptop's cookie before the logout gets nothing from it.
    thief = browser.new_context(base_url=live_server)
    thief.add_cookies(copied)
    stolen_page = thief.new_page()
    stolen_page.goto("/account")
    expect(stolen_page).to_have_url(re.compile(r"/login\?next="))
    for context in (laptop.context, phone.context, thief):
        context.close()
