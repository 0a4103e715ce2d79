"""With htmx, a failed action says why in the page and keeps what the person typed."""

from playwright.sync_api import expect

from forum.extensions import db


def test_expired_session_shows_a_message_and_keeps_the_comment_text(make, page):
    disease = make.make_disease("Scleromyxedema")
    question = make.make_question(disease, "Is Scleromyxedema hereditary?")
    path = f"/diseases/{disease.slug}/questions/{question.slug}"
    db.session.remove()  # outside a request the test's transaction would hold SQLite's lock

    page.goto(path)
    page.get_by_label("Your display name").fill("Visiting Vera")
    page.get_by_label("Your comment", exact=True).fill("My aunt has it; nobody else in the family.")
    # The session (and with it the CSRF secret) is gone, as after a server-side expiry.
    page.context.clear_cookies()
    page.get_by_role("button", name="Post comment").click()

    # The form says so in place, keeps the text, and carries a token of the new session:
    # posting again goes through.
    expect(page.locator("#comment-form")).to_contain_text("This form had expired")
    expect(page.get_by_label("Your comment", exact=True)).to_have_value(
        "My aunt has it; nobody else in the family."
    )
    expect(page.locator("h1")).to_have_text("Is Scleromyxedema hereditary?")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comment-list")).to_contain_text("My aunt has it")


def test_boosted_link_to_a_missing_page_shows_the_404_page(make, page):
    make.make_disease("Scleromyxedema")
    db.session.remove()

    page.goto("/")
    page.evaluate(
        """() => {
            const link = document.createElement('a');
            link.href = '/diseases/gone-missing';
            link.textContent = 'A stale link';
            document.querySelector('main').append(link);
        }"""
    )
    page.get_by_role("link", name="A stale link").click()

    expect(page.locator("h1")).to_have_text("Page not found")
