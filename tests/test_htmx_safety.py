"""htmx never gets a non-HTML body to swap, and no link in user content is boosted.

The browser test (tests/e2e/test_htmx_safety.py) runs the review's whole chain; these check
each wall on every route and every page that shows user content.
"""

from __future__ import annotations

import pytest

from forum.extensions import db
from forum.models import Question, User
from tests.conftest import HTMX, login
from tests.factories import make_comment
from tests.html import elements
from tests.test_security_audit import GET_ROUTES, World, as_user, build_world


@pytest.fixture
def world(app) -> World:
    """The audit's world in this test's own database (these tests add rows of their own)."""
    return build_world()


EXPORT_LINK = "[my data](/account/export)"
BOOSTED = {**HTMX, "HX-Boosted": "true"}


# --- non-HTML answers -------------------------------------------------------------------------

NON_HTML = [
    "/account/export",
    "/healthz",
    "/static/favicon.svg",
    "/static/data/countries-110m.json",
    "/static/css/site.css",
    "/static/vendor/htmx-2.0.11.min.js",
]


@pytest.mark.parametrize("headers", [HTMX, BOOSTED], ids=["htmx", "boosted"])
@pytest.mark.parametrize("url", NON_HTML)
def test_htmx_never_gets_a_non_html_body_to_swap(client, member, url, headers):
    login(client, member)

    response = client.get(url, headers=headers)

    # No body at all (204: the page's htmx config swaps nothing), and the browser is sent to
    # the address for real (a download, or the document on its own).
    assert response.status_code == 204
    assert response.get_data() == b""
    assert response.headers["HX-Redirect"] == url
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url", NON_HTML)
def test_the_same_addresses_answer_a_browser_as_usual(client, member, url):
    login(client, member)
    response = client.get(url)
    assert response.status_code == 200 and response.get_data()
    response.close()


def test_every_get_route_answers_htmx_with_html_or_nothing(client, world):  # noqa: F811
    """The rule holds for every GET route of the url_map, not only the ones above."""
    as_user(client, world.alice)
    for endpoint, route in GET_ROUTES.items():
        for headers in (HTMX, BOOSTED):
            response = client.get(route.url(world), headers=headers)
            if response.get_data():
                assert response.mimetype == "text/html", endpoint
            response.close()


def test_the_export_is_a_download_with_no_markup_in_it(client, member, make):
    make.make_question(make.make_disease(), "<b>bold</b> & <i>brave</i>?", author_id=member.id)
    login(client, member)

    response = client.get("/account/export")

    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert "<" not in text and ">" not in text and "&" not in text
    assert response.get_json()["questions"][0]["title"] == "<b>bold</b> & <i>brave</i>?"


# --- user content is never boosted ---------------------------------------------------------


def _links_to(html: str, href: str) -> list[tuple[str, str | None, bool]]:
    """Each link to `href`: (href, the hx-boost of its nearest ancestor or itself, whether it
    or an ancestor carries hx-disable)."""
    links = []
    for link in elements(html, "a[href]"):
        if link["href"] != href:
            continue
        chain = [link, *link.parents]
        boost = next((tag["hx-boost"] for tag in chain if tag.has_attr("hx-boost")), None)
        disabled = any(tag.has_attr("hx-disable") for tag in chain)
        links.append((link["href"], boost, disabled))
    return links


def test_links_in_user_content_are_never_boosted_on_any_page(client, world):  # noqa: F811
    """A comment and an article linking to the export: wherever they are shown (question page,
    permalink, thread, reply page, edit and delete pages, profile), the link is in a container
    with hx-boost="false" and hx-disable."""
    w: World = world
    as_user(client, w.alice)
    q = f"/diseases/{w.d1.slug}/questions/{w.q1.slug}"
    question = db.session.get(Question, w.q1.id)
    comment = make_comment(question, db.session.get(User, w.alice.id), f"Look: {EXPORT_LINK}")
    question.body_html = '<p>See <a href="/account/export">your data</a>.</p>'
    db.session.commit()
    pages = [
        q,
        f"/comments/{comment.id}",
        f"/comments/{comment.id}/reply",
        f"/comments/{comment.id}/edit",
        f"/comments/{comment.id}/delete",
        f"/questions/{w.q1.id}/comments?page=1",
        f"/comments/{comment.id}/replies",
        "/members/alice_a?tab=comments",
    ]
    seen = 0
    for url in pages:
        for headers in ({}, HTMX):
            html = client.get(url, headers=headers).get_data(as_text=True)
            for _href, boost, disabled in _links_to(html, "/account/export"):
                seen += 1
                assert boost == "false" and disabled, (url, headers)
    assert seen >= 10
