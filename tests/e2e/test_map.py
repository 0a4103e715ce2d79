"""A member joins a disease's map, sees their country shaded and finds themselves listed."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from forum.extensions import db
from forum.models import Disease
from forum.seed import load_demo_content
from tests.e2e.conftest import assert_no_navigation, check_no_navigation

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def seeded(app):
    load_demo_content(CONTENT)


def test_join_the_map_and_find_yourself(seeded, app, make, page, live_server):
    user = make.make_user("newcomer_nz")
    sign_in(page, app, user, live_server)
    release_database()
    page.goto("/diseases/scleromyxedema")
    expect(page.locator("#map-block")).to_contain_text("There are 36 people in the map")

    page.get_by_role("link", name="Join the Scleromyxedema community").click()
    # With hx-boost the link swaps the page in place: wait for the address, not a load event.
    expect(page).to_have_url(re.compile(r"/map/join$"))
    page.get_by_label("I am a").select_option("patient")
    page.get_by_label("Country").fill("New Zealand")
    page.get_by_label("Region or city (optional)").fill("Wellington")
    page.get_by_label("By my username").check()
    page.get_by_role("button", name="Join the map").click()

    expect(page).to_have_url(re.compile(r"/diseases/scleromyxedema/map$"))
    expect(page.locator(".map-summary")).to_contain_text("There are 37 people in the map")
    expect(page.locator(".map-summary")).to_contain_text("You are on the map")
    new_zealand = page.locator('#world-map a[data-country="NZ"] path')
    expect(new_zealand).to_have_class("country shade-1")

    assert_no_navigation(page)
    # A keyboard user's way in; a mouse click at the centre of a country's box may hit the sea.
    page.locator('#world-map a[data-country="NZ"]').focus()
    page.keyboard.press("Enter")
    panel = page.locator("#country-panel")
    expect(panel).to_contain_text("New Zealand: 1 member")
    expect(panel.get_by_role("link", name="newcomer_nz")).to_be_visible()
    expect(panel).to_contain_text("Wellington")
    assert check_no_navigation(page), "choosing a country reloaded the page"


def test_a_refused_join_shows_the_error_in_place(seeded, app, make, page, live_server):
    user = make.make_user("twice_tina")
    sign_in(page, app, user, live_server)
    release_database()
    page.goto("/diseases/scleromyxedema/map/join")
    page.get_by_label("I am a").select_option("caregiver")
    page.get_by_label("Country").fill("Portugal")
    # Meanwhile the same member joined from another tab.
    make.make_map_entry(load_disease(), user, country="PT")
    release_database()
    assert_no_navigation(page)
    page.get_by_role("button", name="Join the map").click()

    expect(page.locator("#map-entry-form")).to_contain_text("You are already on this map")
    expect(page.get_by_label("I am a")).to_have_value("caregiver")
    assert check_no_navigation(page)


def sign_in(page, app, user, live_server) -> None:
    """Give the page a session cookie for `user` before it loads anything.

    (Setting it after a first page load races with that page's late requests: a 404 favicon
    page writes a fresh session cookie, which can land after ours and log the member out.)
    """
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": user.get_id(), "_fresh": True}
    )
    page.context.add_cookies(
        [
            {
                "name": app.config["SESSION_COOKIE_NAME"],
                "value": cookie,
                "url": live_server,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


def release_database():
    """End the test thread's transaction: on SQLite it holds the write lock the server needs."""
    db.session.rollback()


def load_disease():
    return db.session.scalar(select(Disease).where(Disease.slug == "scleromyxedema"))


def test_countries_link_to_a_page_without_javascript(seeded, app, make, page_nojs, live_server):
    page = page_nojs
    sign_in(page, app, make.make_user("plain_pat"), live_server)
    release_database()
    page.goto("/diseases/scleromyxedema/map")
    # France's box spans French Guiana, so its centre is at sea: follow the link by keyboard.
    page.locator('#world-map a[data-country="FR"]').focus()
    page.keyboard.press("Enter")

    page.wait_for_url("**/map/countries/FR")
    expect(page.locator("h1")).to_have_text("France on the Scleromyxedema map")
    expect(page.get_by_role("link", name="jeanne_d")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("camille_r")
