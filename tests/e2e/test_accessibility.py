"""What a phone, keyboard or screen-reader user meets in the browser: no sideways scrolling,
a skip link that moves focus, a focus ring that shows, and focus kept after an htmx vote."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

LATEST = "/diseases/scleromyxedema/questions/what-are-the-latest-advances-in-scleromyxedema"
KEY_PAGES = [
    "/",
    "/diseases/scleromyxedema",
    LATEST,
    "/diseases/scleromyxedema/questions",
    "/diseases/scleromyxedema/map",
    "/signup",
]


def page_width(page) -> tuple[int, int]:
    return page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )


@pytest.mark.parametrize("width", [320, 390])
def test_key_pages_never_scroll_sideways_on_a_phone(seeded, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    wide = {}
    for path in KEY_PAGES:
        page.goto(path)
        scroll, client = page_width(page)
        if scroll > client:
            wide[path] = scroll
    assert not wide, f"wider than {width}px: {wide}"


def test_skip_link_shows_and_moves_focus_to_the_content(seeded, page):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(LATEST)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    box = skip.bounding_box()
    assert box["height"] >= 44
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab continues inside the content, not back in the header.
    page.keyboard.press("Tab")
    expect(page.locator("main :focus")).to_have_count(1)


def test_focus_ring_shows_on_links_buttons_and_inputs(seeded, page):
    page.goto("/")
    for target in (
        page.get_by_role("link", name="Log in"),
        page.get_by_label("Search diseases by name or synonym"),
        page.get_by_role("button", name="Search"),
        page.get_by_role("link", name="Scleromyxedema"),
    ):
        target.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus by keyboard, so :focus-visible applies
        expect(target).to_be_focused()
        expect(target).to_have_css("outline-style", "solid")
        expect(target).to_have_css("outline-width", "3px")


def test_vote_by_keyboard_keeps_focus_on_the_vote_button(seeded, page, app, member):
    sign_in(page, app, member)
    page.goto("/diseases/scleromyxedema")
    button = page.locator(".vote-button").first
    expect(button).to_have_attribute("aria-pressed", "false")

    button.focus()
    page.keyboard.press("Enter")

    pressed = page.locator(".vote-button").first
    expect(pressed).to_have_attribute("aria-pressed", "true")
    expect(pressed).to_be_focused()


def test_motion_stops_for_people_who_ask_their_system_for_less(seeded, page):
    """With "reduce motion" set, every transition on the page is cut to (next to) nothing."""
    page.goto("/diseases/scleromyxedema")
    button = page.locator(".vote-button").first

    def duration() -> str:
        return button.evaluate("el => getComputedStyle(el).transitionDuration")

    page.emulate_media(reduced_motion="no-preference")
    usual = duration()
    page.emulate_media(reduced_motion="reduce")

    assert duration() == "1e-05s" and usual != duration()
