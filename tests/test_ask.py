"""Members asking new questions of a disease."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Disease, Question
from forum.questions.views import ASK_TOO_FAST
from tests.conftest import HTMX

ASK = "/diseases/scleromyxedema/questions/ask"


def questions_of(disease) -> list[Question]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Question).where(Question.disease_id == disease.id).order_by(Question.id)
        )
    )


def question_count(disease) -> int:
    db.session.expire_all()
    return db.session.get(Disease, disease.id).question_count


def test_logged_out_visitor_goes_to_login_and_back(client, disease):
    response = client.get(ASK)

    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/login?next=")
    assert "ask" in response.headers["Location"]


def test_logged_out_post_asks_nothing(client, disease):
    response = client.post(ASK, data={"title": "Is it hereditary at all?"})

    assert response.status_code in (302, 303)
    assert questions_of(disease) == []


def test_member_sees_the_form(member_client, disease):
    response = member_client.get(ASK)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="title"' in html and '<label for="prompt"' in html
    assert "Ask a question about Scleromyxedema" in html


def test_disease_page_and_list_link_to_the_form(client, disease):
    assert f'href="{ASK}"' in client.get("/diseases/scleromyxedema").get_data(as_text=True)
    html = client.get("/diseases/scleromyxedema/questions").get_data(as_text=True)
    assert f'href="{ASK}"' in html


def test_asking_adds_the_question_with_a_question_mark(member_client, member, disease):
    response = member_client.post(
        ASK, data={"title": "  Does it   affect the heart ", "prompt": "Cardiac\nsymptoms"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/diseases/scleromyxedema/questions/does-it-affect-the-heart"
    )
    [question] = questions_of(disease)
    assert question.title == "Does it affect the heart?"
    assert question.prompt == "Cardiac symptoms"
    assert question.author_id == member.id
    assert question.vote_count == 0
    assert question_count(disease) == 1
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Does it affect the heart?" in page and "Your question is posted" in page


def test_asking_with_htmx_redirects_to_the_new_question(member_client, disease):
    response = member_client.post(ASK, data={"title": "Is it hereditary?"}, headers=HTMX)

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/diseases/scleromyxedema/questions/is-it-hereditary"
    assert [q.title for q in questions_of(disease)] == ["Is it hereditary?"]


def test_new_question_joins_the_ranking(member_client, make, disease):
    make.make_question(disease, "Is it contagious?", votes=1)
    member_client.post(ASK, data={"title": "Is it hereditary?"})

    new = member_client.get("/diseases/scleromyxedema/questions?sort=new").get_data(as_text=True)
    top = member_client.get("/diseases/scleromyxedema/questions?sort=top").get_data(as_text=True)

    assert new.index("Is it hereditary?") < new.index("Is it contagious?")
    assert top.index("Is it contagious?") < top.index("Is it hereditary?")


@pytest.mark.parametrize(
    "title",
    ["Too short", "x" * 201, "  ?  ", "?!?!?!?!?!?!"],
    ids=["short", "long", "empty", "no-letters"],
)
def test_bad_titles_are_refused_keeping_the_text(member_client, disease, title):
    response = member_client.post(ASK, data={"title": title, "prompt": "kept prompt"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error"' in html
    assert 'value="kept prompt"' in html
    assert questions_of(disease) == []
    assert question_count(disease) == 0


def test_bad_title_with_htmx_returns_the_form_fragment(member_client, disease):
    response = member_client.post(ASK, data={"title": "Too short"}, headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in html and 'id="ask-form"' in html
    assert 'value="Too short"' in html and 'class="error"' in html
    assert questions_of(disease) == []


def test_prompt_longer_than_a_line_is_refused(member_client, disease):
    response = member_client.post(ASK, data={"title": "Is it hereditary?", "prompt": "x" * 301})

    assert response.status_code == 422
    assert questions_of(disease) == []


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_duplicate_title_is_refused_with_a_link_to_the_existing_one(
    member_client, make, disease, headers
):
    existing = make.make_question(disease, "Is it hereditary?")

    response = member_client.post(ASK, data={"title": "is it  HEREDITARY"}, headers=headers)

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "already been asked" in html
    assert f'href="/diseases/scleromyxedema/questions/{existing.slug}"' in html
    assert 'value="is it HEREDITARY"' in html
    assert len(questions_of(disease)) == 1
    assert question_count(disease) == 1


def test_same_title_in_another_disease_is_fine(member_client, make, disease):
    other = make.make_disease("Alkaptonuria", synonyms=())
    make.make_question(other, "Is it hereditary?")

    response = member_client.post(ASK, data={"title": "Is it hereditary?"})

    assert response.status_code == 303
    assert [q.slug for q in questions_of(disease)] == ["is-it-hereditary"]


def test_slug_taken_by_another_title_gets_a_number(member_client, make, disease):
    make.make_question(disease, "Is it hereditary?")

    # Different titles (accents count in the duplicate check) that share one slug.
    first = member_client.post(ASK, data={"title": "Is it héréditary?"})
    second = member_client.post(ASK, data={"title": "Is it hérèditary?"})

    assert first.headers["Location"].endswith("/is-it-hereditary-2")
    assert second.headers["Location"].endswith("/is-it-hereditary-3")
    assert question_count(disease) == 3


def test_slug_of_a_page_of_the_site_is_not_used(member_client, disease):
    response = member_client.post(ASK, data={"title": "Ask?!?!?!?!"})

    assert response.headers["Location"].endswith("/questions/ask-2")
    assert member_client.get(response.headers["Location"]).status_code == 200


def test_ask_without_csrf_token_is_refused(member_client, disease):
    response = member_client.post(ASK, data={"title": "Is it hereditary?"}, csrf=False)

    assert response.status_code == 400
    assert questions_of(disease) == []


def test_unknown_disease_is_404(member_client):
    assert member_client.get("/diseases/nope/questions/ask").status_code == 404


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_QUESTION": "1 per hour"}

    def test_mistakes_do_not_use_up_the_limit(self, member_client, disease):
        assert member_client.post(ASK, data={"title": "Too short"}).status_code == 422

        assert member_client.post(ASK, data={"title": "Is it hereditary?"}).status_code == 303

    def test_asking_too_often_gets_a_clear_429_keeping_the_text(self, member_client, disease):
        member_client.post(ASK, data={"title": "Is it hereditary?"})

        response = member_client.post(ASK, data={"title": "Is it contagious?"})

        html = response.get_data(as_text=True)
        assert response.status_code == 429
        assert ASK_TOO_FAST in html and 'value="Is it contagious?"' in html
        assert len(questions_of(disease)) == 1

    def test_asking_too_often_with_htmx_shows_the_message_in_the_form(self, member_client, disease):
        member_client.post(ASK, data={"title": "Is it hereditary?"})

        response = member_client.post(ASK, data={"title": "Is it contagious?"}, headers=HTMX)

        html = response.get_data(as_text=True)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "<html" not in html and ASK_TOO_FAST in html


def test_duplicate_message_reads_as_a_sentence_around_the_link(member_client, make, disease):
    existing = make.make_question(disease, "Is it hereditary?")

    html = member_client.post(ASK, data={"title": "Is it hereditary"}).get_data(as_text=True)

    text = " ".join(html.split())
    link = (
        f'<a href="/diseases/scleromyxedema/questions/{existing.slug}" dir="auto">'
        "Is it hereditary?</a>"
    )
    assert f"already been asked. Upvote {link} instead" in text
    assert "?</a>." not in text
