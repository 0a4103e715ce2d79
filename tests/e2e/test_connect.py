"""From the map to a conversation: one member finds another on the map, asks to connect, the
other accepts from the notification, and they write to each other without a page reload; then
the same with JavaScript off, where every step is a plain form and a page load."""

from __future__ import annotations

import re

import pytest
from flask import request
from playwright.sync_api import expect

from forum.extensions import db
from forum.models import User
from forum.notifications.service import notify
from tests.e2e.conftest import assert_no_navigation, check_no_navigation, release_database, sign_in
from tests.factories import make_disease, make_map_entry, make_user


@pytest.fixture
def app_config():
    # The conversation asks for new messages every second, so the test waits little.
    return {"MESSAGES_POLL_SECONDS": 1}


@pytest.fixture
def people(app):
    disease = make_disease("Scleromyxedema")
    mira = make_user("mira_m")
    noor = make_user("noor_n")
    make_map_entry(disease, mira, "FR", region="Lyon")
    make_map_entry(disease, noor, "FR", region="Nantes")
    return disease.slug, mira.id, noor.id


def _user(user_id):
    # The browser drives the server between steps: load rows afresh, never keep them.
    return db.session.get(User, user_id)


def _second_page(browser, live_server, javascript: bool):
    context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def _find_and_ask(page, slug: str, javascript: bool):
    """Mira opens the map, picks France, and asks Noor to connect with a note."""
    page.goto(f"/diseases/{slug}/map")
    # A keyboard user's way in; a mouse click at the centre of a country's box may hit the sea.
    page.locator('#world-map a[data-country="FR"]').focus()
    page.keyboard.press("Enter")
    members = page.locator("#country-panel" if javascript else "#country-members")
    expect(members).to_contain_text("noor_n")
    members.get_by_role("link", name="Connect").click()
    expect(page).to_have_url(re.compile(r"/members/noor_n/connect$"))
    page.get_by_label("A short note (optional)").fill("I live near Lyon. *Hello!*")
    page.get_by_role("button", name="Send contact request").click()
    expect(page).to_have_url(re.compile(r"/members/noor_n$"))
    expect(page.locator("main")).to_contain_text("Request sent")


def _accept_from_the_notification(page):
    """Noor sees the unread count, opens the notification and accepts."""
    page.goto("/")
    count = page.locator("#notification-count")
    expect(count).to_contain_text("1")
    count.click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    page.get_by_role("button", name=re.compile("mira_m would like to connect with you")).click()
    # (A boosted form follows the redirect by XHR, which drops the #fragment.)
    expect(page).to_have_url(re.compile(r"/contacts(#request-\d+)?$"))
    request = page.locator(".contact-request").filter(has_text="mira_m")
    expect(request).to_contain_text("I live near Lyon.")
    request.get_by_role("button", name="Accept").click()
    expect(page).to_have_url(re.compile(r"/messages/\d+$"))
    expect(page.locator("#message-list")).to_contain_text("I live near Lyon.")


def _send(page, text: str):
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()


def test_from_the_map_to_a_conversation_without_reloads(app, people, page, browser, live_server):
    disease, mira, noor = people
    sign_in(page, app, _user(mira))
    _find_and_ask(page, disease, javascript=True)

    context, noor_page = _second_page(browser, live_server, javascript=True)
    try:
        sign_in(noor_page, app, _user(noor))
        _accept_from_the_notification(noor_page)
        conversation_url = noor_page.url

        page.goto(conversation_url)
        expect(page.locator("#message-list")).to_contain_text("I live near Lyon.")
        assert_no_navigation(page)
        assert_no_navigation(noor_page)

        _send(noor_page, "Welcome, Mira. How long have you had it?")
        expect(noor_page.locator("#message-list")).to_contain_text("How long have you had it?")
        expect(noor_page.get_by_label("Your message")).to_have_value("")
        # Mira's page asks for new messages and shows Noor's without a reload.
        expect(page.locator("#message-list")).to_contain_text("How long have you had it?")

        _send(page, "Since 2019. And you?")
        expect(page.locator("#message-list")).to_contain_text("Since 2019. And you?")
        expect(noor_page.locator("#message-list")).to_contain_text("Since 2019. And you?")
        # Each message shows once, however the poll and the post crossed.
        expect(page.locator("#message-list .message")).to_have_count(3)
        expect(noor_page.locator("#message-list .message")).to_have_count(3)

        assert check_no_navigation(page), "Mira's conversation page reloaded"
        assert check_no_navigation(noor_page), "Noor's conversation page reloaded"
    finally:
        context.close()


def test_from_the_map_to_a_conversation_without_javascript(
    app, people, page_nojs, browser, live_server
):
    disease, mira, noor = people
    page = page_nojs
    sign_in(page, app, _user(mira))
    _find_and_ask(page, disease, javascript=False)

    context, noor_page = _second_page(browser, live_server, javascript=False)
    try:
        sign_in(noor_page, app, _user(noor))
        _accept_from_the_notification(noor_page)
        conversation_url = noor_page.url

        _send(noor_page, "Welcome, Mira.")
        expect(noor_page.locator("#message-list")).to_contain_text("Welcome, Mira.")

        page.goto("/messages")
        expect(page.locator(".conversation-list")).to_contain_text("Welcome, Mira.")
        page.get_by_role("link", name="noor_n").click()
        expect(page).to_have_url(re.compile(re.escape(conversation_url.split("?")[0]) + "$"))
        expect(page.locator("#message-list")).to_contain_text("Welcome, Mira.")
        _send(page, "Thank you, Noor.")
        expect(page.locator("#message-list")).to_contain_text("Thank you, Noor.")

        noor_page.reload()
        expect(noor_page.locator("#message-list")).to_contain_text("Thank you, Noor.")
    finally:
        context.close()


def test_the_unread_count_is_polled_with_a_conditional_request(app, people, browser, live_server):
    """The browser revalidates the count with its ETag: the server answers 304 while nothing
    changed, and the new count appears without a reload once something did."""
    app.config["NOTIFICATIONS_POLL_SECONDS"] = 1
    statuses: list[int] = []

    @app.after_request
    def _record(response):
        if request.path == "/notifications/count":
            statuses.append(response.status_code)
        return response

    _, mira, noor = people
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, app, _user(noor))
        page.goto("/messages")
        assert_no_navigation(page)
        expect(page.locator("#notification-count")).not_to_contain_text("1")
        with page.expect_response(lambda r: "/notifications/count" in r.url):
            pass
        with page.expect_response(lambda r: "/notifications/count" in r.url):
            pass
        assert 304 in statuses, statuses
        notify(noor, "contact_request", "/contacts", actor=_user(mira))
        db.session.commit()
        release_database()
        expect(page.locator("#notification-count")).to_contain_text("1")
        assert check_no_navigation(page)
    finally:
        context.close()
