"""The site's face: logo, footer pages, avatars, the disease page's blocks, the small map, and
the world map in a projection people recognise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forum.maps import geo
from forum.maps.service import SHADE_FILLS
from tests.factories import make_comment
from tests.test_map_geo import points, shape

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "site.css"


@pytest.fixture
def disease(make):
    return make.make_disease("Scleromyxedema")


# -- logo, footer, pages -------------------------------------------------------------------


def test_every_page_has_our_logo_and_a_footer_with_the_site_pages(client, disease):
    html = client.get("/").text
    assert re.search(r'<a class="brand" href="/"><svg class="logo"[^>]*aria-hidden="true"', html)
    footer = html[html.index('<footer class="site-footer">') :]
    for href, label in (
        ("/about", "About"),
        ("/guidelines", "Community guidelines"),
        ("/privacy", "Privacy"),
        ("/contact", "Contact"),
    ):
        assert f'<a href="{href}">{label}</a>' in footer


@pytest.mark.parametrize(
    "url, words",
    [
        ("/about", ["RareCircle editorial team", "not medical advice"]),
        ("/guidelines", ["Why we do not give medical advice", "What moderators remove"]),
        ("/privacy", ["The maps are coarse on purpose", "download everything", "No advertising"]),
        ("/contact", ["hello@rarecircle.example", "A mistake in an article"]),
    ],
)
def test_the_site_pages_say_it_in_our_own_words(client, url, words):
    response = client.get(url)
    assert response.status_code == 200
    for word in words:
        assert word in response.text


def test_the_contact_address_comes_from_the_settings(app, client):
    app.config["CONTACT_EMAIL"] = "team@example.org"
    assert 'href="mailto:team@example.org"' in client.get("/contact").text


def test_the_footer_stays_at_the_bottom_of_short_pages():
    css = CSS.read_text()
    assert re.search(r"body \{[^}]*display: flex; flex-direction: column; min-height: 100vh", css)
    assert "body > main { flex: 1 0 auto;" in css


def test_comments_show_initials_avatars_beside_names(client, make, disease):
    question = make.make_question(disease, "Is it hereditary?")
    member = make.make_user("maren_oslo")
    make_comment(question, member, "Hello")
    html = client.get(f"/diseases/scleromyxedema/questions/{question.slug}").text
    assert re.search(r'<span class="avatar tone-\d" aria-hidden="true">MO</span>', html)


def test_the_palette_keeps_text_readable():
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    css = CSS.read_text()
    var = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", css))
    for text in ("ink", "muted", "link", "accent", "accent-dark", "danger"):
        for background in ("paper", "wash"):
            assert contrast(var[text], var[background]) >= 4.5, (text, background)
    assert contrast("#ffffff", var["accent"]) >= 4.5  # button text
    for tone in re.findall(r"\.tone-\d \{ background: (#[0-9a-f]{6}); \}", css):
        assert contrast("#ffffff", tone) >= 4.5, tone


# -- the disease page ------------------------------------------------------------------------


def test_view_more_questions_only_when_there_are_more(app, client, make, disease):
    app.config["TOP_QUESTIONS_SHOWN"] = 3
    for n in range(3):
        make.make_question(disease, f"Question number {n} about it?")
    assert "View more questions" not in client.get("/diseases/scleromyxedema").text

    last = make.make_question(disease, "One question more about it?")
    assert "View more questions" in client.get("/diseases/scleromyxedema").text
    # The question page lists the others: four questions, three others, none more.
    question_page = client.get(f"/diseases/scleromyxedema/questions/{last.slug}").text
    assert "View more questions" not in question_page


def test_ask_a_question_is_a_button_beside_the_top_questions(client, disease):
    html = client.get("/diseases/scleromyxedema").text
    top = html[html.index('class="top-questions"') :]
    assert re.search(
        r'<h2 id="top-questions-title">Top questions</h2>\s*'
        r'<a class="button" href="/diseases/scleromyxedema/questions/ask">Ask a question</a>',
        top,
    )


def test_a_disease_without_members_invites_the_first_one(client, make, disease):
    for url in ("/", "/diseases/scleromyxedema", "/diseases/scleromyxedema/map"):
        html = client.get(url).text
        assert "Be the first to join" in html, url
        assert "0 members" not in html and "0 people" not in html, url
    make.make_map_entry(disease)
    assert "Be the first to join" not in client.get("/diseases/scleromyxedema").text
    assert "1 member" in client.get("/").text


def test_the_map_block_shows_a_small_map_linking_to_the_full_one(client, make, disease):
    make.make_map_entry(disease, country="FR")
    html = client.get("/diseases/scleromyxedema").text
    block = html[html.index('id="map-block"') :]
    assert re.search(
        r'<a class="small-map" href="/diseases/scleromyxedema/map">'
        r'<img src="/diseases/scleromyxedema/map/small.svg" width="\d+" height="\d+" alt="[^"]+"',
        block,
    )


def test_the_small_map_is_a_cacheable_svg_with_the_shades(client, make, disease):
    make.make_map_entry(disease, country="FR")

    response = client.get("/diseases/scleromyxedema/map/small.svg")

    svg = response.text
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert f'fill="{SHADE_FILLS[1]}"' in svg  # France, one member
    assert "<script" not in svg and "style" not in svg
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(
        "/diseases/scleromyxedema/map/small.svg",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_map_shades_in_the_stylesheet_match_the_small_map():
    css = CSS.read_text()
    fills = tuple(re.findall(r"\.shade-\d \{ fill: (#[0-9a-f]{6});", css))
    assert fills == SHADE_FILLS


# -- the question page -----------------------------------------------------------------------


def test_the_question_page_has_jump_to_comments_near_the_top(client, make, disease):
    question = make.make_question(disease, "Is it hereditary?", body="Long article. " * 300)
    make_comment(question, body="Hi")
    html = client.get(f"/diseases/scleromyxedema/questions/{question.slug}").text
    jump = html.index('<a href="#comments">Jump to comments (1)</a>')
    assert jump < html.index('class="article-body"')
    assert "@media (min-width: 56rem) { .jump-link { display: none; } }" in CSS.read_text()


# -- the world map ---------------------------------------------------------------------------


def _aspect(code: str) -> float:
    xs, ys = zip(*[p for ring in points(shape(code).path) for p in ring], strict=True)
    return (max(ys) - min(ys)) / (max(xs) - min(xs))


def test_greenland_and_the_arctic_look_like_themselves():
    # Equal Earth drew Greenland about a third as tall as wide; Natural Earth about half.
    assert _aspect("GL") > 0.45
    assert _aspect("NO") > 1.0  # Norway with Svalbard


def test_the_frame_reaches_the_pole_with_sea_above_the_arctic():
    # The map ends at the pole line, not on a flat cut at 84°N through northern Greenland.
    assert geo.NORTH == 90
    for code in ("GL", "CA", "NO", "RU"):
        top = min(y for ring in points(shape(code).path) for _, y in ring)
        assert top >= 5, code
    assert geo.natural_earth(0, 90)[1] > geo.natural_earth(0, 84)[1]
