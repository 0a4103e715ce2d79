"""The foundation's pages as a visitor sees them."""

from datetime import timedelta

import pytest

from tests.conftest import HTMX
from tests.html import attr, one, text


def test_home_lists_diseases_with_counts(client, make, disease):
    make.make_question(disease)
    make.make_map_entry(disease)
    make.make_disease("Alkaptonuria", synonyms=["Black urine disease"])

    page = client.get("/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Scleromyxedema" in html and "Alkaptonuria" in html
    assert "1 member · 1 question" in html
    assert "<title>" in html and 'name="description"' in html and 'name="viewport"' in html


@pytest.mark.parametrize("query", ["sclero", "SCLERO", "gottron"])
def test_home_search_by_name_or_synonym(client, make, disease, query):
    make.make_disease("Alkaptonuria", synonyms=["Black urine disease"])

    html = client.get("/", query_string={"q": query}).get_data(as_text=True)

    assert "Scleromyxedema" in html
    assert "Alkaptonuria" not in html


def test_home_search_with_htmx_returns_only_the_list(client, make, disease):
    response = client.get("/", query_string={"q": "sclero"}, headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="disease-list"' in html
    assert "Scleromyxedema" in html
    assert "HX-Request" in response.headers["Vary"]


def test_home_search_treats_wildcards_literally(client, disease):
    html = client.get("/", query_string={"q": "%"}).get_data(as_text=True)
    assert "No disease matches" in html


def test_disease_page_shows_top_questions_ranked_by_votes_then_newest(client, make, disease):
    make.make_question(disease, "Is it contagious?", votes=1, age=timedelta(days=3))
    make.make_question(disease, "What are the latest advances?", votes=3, age=timedelta(days=9))
    make.make_question(disease, "Is it hereditary?", votes=1, age=timedelta(days=1))
    make.make_map_entry(disease)
    make.make_map_entry(disease)

    html = client.get("/diseases/scleromyxedema").get_data(as_text=True)

    order = [html.index(t) for t in ("latest advances", "hereditary", "contagious")]
    assert order == sorted(order)
    assert "Also known as Arndt-Gottron syndrome" in html
    # Three questions, all shown: no "View more" link to the same three.
    assert "View more questions of Scleromyxedema" not in html
    assert "There are 2 people in the map" in html
    assert "Join the Scleromyxedema community" in html


def test_question_page_shows_article_and_other_questions(client, make, disease):
    question = make.make_question(
        disease,
        "What are the latest advances in Scleromyxedema?",
        prompt="New treatments and research",
        body="## Treatments\n\nIVIG **helps** many.",
    )
    make.make_question(disease, "Is it contagious?")

    response = client.get(f"/diseases/scleromyxedema/questions/{question.slug}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h1 dir="auto">What are the latest advances in Scleromyxedema?</h1>' in html
    assert "New treatments and research" in html
    assert "<h2>Treatments</h2>" in html and "<strong>helps</strong>" in html
    assert "Other top questions" in html and "Is it contagious?" in html
    assert "<time datetime=" in html
    assert "Nobody is on this map yet." in html and "Be the first to join" in html


def test_all_questions_sorts_and_paginates_without_repeats(app, client, make, disease):
    app.config["QUESTIONS_PER_PAGE"] = 4
    # Ties on votes and on creation time: the id must break them.
    for n in range(10):
        make.make_question(
            disease, f"Tied question number {n}?", votes=n % 2, age=timedelta(days=n % 3)
        )

    seen = []
    for page in (1, 2, 3):
        html = client.get(f"/diseases/scleromyxedema/questions?page={page}").get_data(True)
        seen += [line for line in html.splitlines() if "question-title" in line]
    assert len(seen) == 10 and len(set(seen)) == 10

    new = client.get("/diseases/scleromyxedema/questions?sort=new").get_data(as_text=True)
    top = client.get("/diseases/scleromyxedema/questions?sort=top").get_data(as_text=True)
    # Newest first, then id: ages 0 are n = 9, 6, 3, 0.
    assert new.index("number 9?") < new.index("number 6?") < new.index("number 0?")
    # Voted first (odd n), then newest, then id: 9, 3 (age 0), then 7, 1 (age 1).
    assert top.index("number 9?") < top.index("number 3?") < top.index("number 7?")
    assert "number 0?" not in top


def test_unknown_sort_falls_back_to_top(client, disease):
    assert client.get("/diseases/scleromyxedema/questions?sort=bogus").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/diseases/no-such-disease",
        "/diseases/scleromyxedema/questions/no-such-question",
        "/diseases/no-such-disease/questions",
        "/diseases/scleromyxedema/questions?page=99",
        "/no/such/page",
    ],
)
def test_unknown_pages_give_a_real_404_page(client, disease, url):
    response = client.get(url)

    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" in html and "Page not found" in html
    assert "Go to the list of diseases" in html


def test_server_error_page_has_no_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")

    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_fails_when_the_database_does_not(app, client, monkeypatch):
    from forum.extensions import db

    def broken(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_static_assets_are_local(client):
    html = client.get("/").get_data(as_text=True)
    assert "/static/vendor/htmx-2.0.11.min.js" in html
    assert "https://" not in html.split("<body")[0]
    for path in ("/static/vendor/htmx-2.0.11.min.js", "/static/favicon.svg"):
        response = client.get(path)
        assert response.status_code == 200
        response.close()


def test_vendored_htmx_is_the_pinned_2_x_release(client):
    """The file on disk is the one whose hash the page's integrity attribute names."""
    import base64
    import hashlib
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "static/vendor/htmx-2.0.11.min.js"
    digest = base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
    html = client.get("/").get_data(as_text=True)

    script = one(html, 'script[src*="htmx-2.0.11.min.js"]')
    assert script["integrity"] == f"sha384-{digest}"
    # The URL carries the file's content hash (forum/assets.py); the bytes it serves are the
    # ones the integrity attribute names.
    assert "?v=" in script["src"]
    served = client.get(script["src"])
    body = served.get_data()
    served.close()
    assert base64.b64encode(hashlib.sha384(body).digest()).decode() == digest
    assert digest == "2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
    assert '"2.0.11"' in path.read_text()  # htmx.version inside the file


def test_search_of_only_spaces_lists_every_disease_without_a_matching_line(client, make, disease):
    make.make_disease("Alkaptonuria", synonyms=["Black urine disease"])

    html = client.get("/", query_string={"q": "   "}).get_data(as_text=True)

    assert "Scleromyxedema" in html and "Alkaptonuria" in html
    assert "matching" not in html
    assert 'value=""' in html


def test_search_without_a_match_says_so_once(client, disease):
    html = client.get("/", query_string={"q": "zzz"}).get_data(as_text=True)

    assert html.count("No disease matches “zzz”") == 2  # the list, and the screen-reader status
    assert 'class="empty">No disease matches' in html
    assert "0 diseases matching" not in html


def _title_and_description(client, url: str) -> tuple[str, str]:
    html = client.get(url).get_data(as_text=True)
    return text(html, "head > title"), attr(html, 'meta[name="description"]', "content")


def test_every_page_has_its_own_title_and_description(app, client, make, disease):
    app.config["QUESTIONS_PER_PAGE"] = 2
    make.make_question(disease, "Is it contagious?", prompt="Whether it spreads by touch.")
    make.make_question(disease, "Is it hereditary?")
    make.make_question(disease, "Can diet help?")
    urls = [
        "/",
        "/?q=sclero",
        "/diseases/scleromyxedema",
        "/diseases/scleromyxedema/questions",
        "/diseases/scleromyxedema/questions?sort=new",
        "/diseases/scleromyxedema/questions?page=2",
        "/diseases/scleromyxedema/questions/is-it-contagious",
        "/diseases/scleromyxedema/questions/is-it-hereditary",
    ]

    seen = [_title_and_description(client, url) for url in urls]

    titles = [title for title, _ in seen]
    descriptions = [description for _, description in seen]
    assert len(set(titles)) == len(urls), titles
    assert len(set(descriptions)) == len(urls), descriptions
    # The home page describes the site in its own words, not the fallback built from the title.
    assert descriptions[0].startswith("Find the community for your rare disease")
    assert "page 2" in titles[5]


def test_question_without_an_article_says_so(client, make, disease):
    make.make_question(disease, "Does it affect the voice?", body="")

    html = client.get("/diseases/scleromyxedema/questions/does-it-affect-the-voice").get_data(True)

    assert "This question has no article yet." in html
    assert 'class="article-body"' not in html


def test_ties_in_votes_and_age_are_broken_by_id(client, make, disease):
    """Questions equal in votes and creation time come newest id first, on both sorts."""
    from forum.extensions import db
    from forum.models.base import utcnow

    moment = utcnow()
    questions = [make.make_question(disease, f"Exactly tied question {n}?") for n in range(4)]
    for question in questions:
        question.created_at = moment
    db.session.commit()

    for sort in ("top", "new"):
        html = client.get(f"/diseases/scleromyxedema/questions?sort={sort}").get_data(True)
        positions = [html.index(f"Exactly tied question {n}?") for n in range(4)]
        assert positions == sorted(positions, reverse=True), sort


def test_search_status_is_a_live_region_outside_the_swapped_list(client, make, disease):
    page = client.get("/").get_data(as_text=True)
    assert page.count('id="search-status"') == 1 and 'role="status"' in page

    fragment = client.get("/", query_string={"q": "sclero"}, headers=HTMX).get_data(True)

    status = fragment[fragment.index('id="search-status"') - 3 :]
    assert 'hx-swap-oob="true"' in status and "1 disease matching “sclero”" in status
    assert "aria-live" not in fragment.split('id="search-status"')[0]
