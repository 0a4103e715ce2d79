"""A member joins a disease's map, sees their country shaded and finds themselves listed."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from forum.extensions import db
from forum.models import Disease
from tests.e2e.conftest import (
    assert_no_navigation,
    check_no_navigation,
    release_database,
    sign_in,
)


def test_join_the_map_and_find_yourself(seeded, app, make, page):
    user = make.make_user("newcomer_nz")
    sign_in(page, app, user)
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


def test_a_refused_join_shows_the_error_in_place(seeded, app, make, page):
    user = make.make_user("twice_tina")
    sign_in(page, app, user)
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


def load_disease():
    return db.session.scalar(select(Disease).where(Disease.slug == "scleromyxedema"))


def test_countries_link_to_a_page_without_javascript(seeded, app, make, page_nojs):
    page = page_nojs
    sign_in(page, app, make.make_user("plain_pat"))
    page.goto("/diseases/scleromyxedema/map")
    # France's box spans French Guiana, so its centre is at sea: follow the link by keyboard.
    page.locator('#world-map a[data-country="FR"]').focus()
    page.keyboard.press("Enter")

    page.wait_for_url("**/map/countries/FR")
    expect(page.locator("h1")).to_have_text("France on the Scleromyxedema map")
    expect(page.get_by_role("link", name="jeanne_d")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("camille_r")


def test_on_a_phone_a_country_chosen_in_the_table_comes_into_view(seeded, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/diseases/scleromyxedema/map")
    panel = page.locator("#country-panel")
    # The table's last row is far below the panel that shows the country's list.
    last = page.locator(".country-table tbody tr").last.get_by_role("link")
    last.scroll_into_view_if_needed()
    expect(panel).not_to_be_in_viewport()

    last.click()

    expect(panel).to_contain_text("Türkiye: 1 member")
    expect(panel.get_by_role("heading")).to_be_in_viewport()
    # The whole world still fits the phone's width.
    box = page.locator("#world-map").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_join_by_keyboard_without_javascript(seeded, app, make, page_nojs):
    page = page_nojs
    sign_in(page, app, make.make_user("keyboard_kemal"))
    page.goto("/diseases/scleromyxedema/map/join")

    page.get_by_label("I am a").focus()
    page.keyboard.press("ArrowDown")  # from "Choose one" to the first role
    page.keyboard.press("Tab")
    page.keyboard.type("Turkey")  # the everyday name; the list says Türkiye
    page.keyboard.press("Tab")
    page.keyboard.type("Izmir")
    page.keyboard.press("Enter")

    page.wait_for_url("**/diseases/scleromyxedema/map")
    row = page.locator(".country-table tr", has_text="Türkiye")
    expect(row.locator("td")).to_have_text("2")
    expect(page.locator(".map-summary")).to_contain_text("You are on the map")


def test_a_mistyped_country_is_explained_and_kept_without_javascript(seeded, app, make, page_nojs):
    page = page_nojs
    sign_in(page, app, make.make_user("typo_tom"))
    page.goto("/diseases/scleromyxedema/map/join")
    page.get_by_label("I am a").select_option("relative")
    page.get_by_label("Country").fill("Frnace")
    page.get_by_label("Region or city (optional)").fill("Lille")
    page.get_by_role("button", name="Join the map").click()

    expect(page.locator("#country-error")).to_have_text(
        'We do not know a country called "Frnace". Choose a country from the list.'
    )
    expect(page.get_by_label("Country")).to_have_value("Frnace")
    expect(page.get_by_label("Region or city (optional)")).to_have_value("Lille")
    expect(page.get_by_label("I am a")).to_have_value("relative")
