"""A visitor finds Scleromyxedema from the home page and reaches its latest-advances article."""

from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_navigation, check_no_navigation


def test_search_follow_and_read_the_latest_advances(seeded, page):
    page.goto("/")
    page.get_by_label("Search diseases by name or synonym").fill("sclero")
    # With htmx the list filters as you type, without a page load.
    expect(page.locator("#disease-list")).not_to_contain_text("Alkaptonuria")
    assert_no_navigation(page)
    assert check_no_navigation(page), "the search reloaded the page instead of swapping the list"
    page.get_by_role("link", name="Scleromyxedema").click()
    page.wait_for_url("**/diseases/scleromyxedema")
    page.get_by_role("link", name="What are the latest advances in Scleromyxedema?").first.click()
    page.wait_for_url("**/questions/what-are-the-latest-advances-in-scleromyxedema")

    assert page.locator("h1").inner_text() == "What are the latest advances in Scleromyxedema?"
    assert "IVIG" in page.locator(".article-body").inner_text()


def test_search_works_without_javascript(seeded, page_nojs):
    page = page_nojs
    page.goto("/")
    page.get_by_label("Search diseases by name or synonym").fill("sclero")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/?q=sclero")

    assert page.get_by_role("link", name="Scleromyxedema").is_visible()
    assert page.get_by_role("link", name="Alkaptonuria").count() == 0
