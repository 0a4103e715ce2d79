"""Upvotes on questions: the intent sent (up or down), with and without htmx, refusals, limits
and listings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Question, Vote
from forum.questions.views import LOG_IN_TO_VOTE
from forum.questions.voting import OWN_QUESTION, TOO_FAST, set_vote
from tests.conftest import HTMX, login

UP = {"vote": "up"}
DOWN = {"vote": "down"}


def vote_url(question) -> str:
    return f"/diseases/scleromyxedema/questions/{question.slug}/vote"


def page_url(question) -> str:
    return f"/diseases/scleromyxedema/questions/{question.slug}"


def stored(question) -> tuple[int, int]:
    """(vote rows, stored vote_count) of the question, read fresh from the database."""
    db.session.expire_all()
    rows = db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.question_id == question.id)
    )
    count = db.session.scalar(select(Question.vote_count).where(Question.id == question.id))
    return rows, count


def test_vote_without_htmx_redirects_back_to_the_question_in_place(member_client, question):
    back = "/diseases/scleromyxedema/questions?sort=new&page=1"

    response = member_client.post(vote_url(question), data={"next": back})

    assert response.status_code == 303
    assert response.headers["Location"] == f"{back}#question-{question.id}"
    assert stored(question) == (1, 1)


def test_vote_with_htmx_returns_the_pressed_button(member_client, question):
    response = member_client.post(vote_url(question), headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert f'id="question-{question.id}-votes"' in html
    assert 'aria-pressed="true"' in html
    assert '<span class="vote-count">1</span>' in html
    assert stored(question) == (1, 1)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_voting_down_takes_the_vote_back(member_client, question, headers):
    member_client.post(vote_url(question), data=UP, headers=headers)

    response = member_client.post(vote_url(question), data=DOWN, headers=headers)

    assert response.status_code == (200 if headers else 303)
    if headers:
        html = response.get_data(as_text=True)
        assert 'aria-pressed="false"' in html and '<span class="vote-count">0</span>' in html
    assert stored(question) == (0, 0)


def test_votes_of_several_members_add_up(client, make, question):
    for _ in range(3):
        login(client, make.make_user())
        assert client.post(vote_url(question)).status_code == 303

    assert stored(question) == (3, 3)


def test_plain_vote_returns_to_the_referer_when_no_next_is_sent(member_client, question):
    referer = "http://localhost/diseases/scleromyxedema?x=1"

    response = member_client.post(vote_url(question), headers={"Referer": referer})

    assert response.headers["Location"] == f"/diseases/scleromyxedema?x=1#question-{question.id}"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "relative/path",
        "http://evil.example/diseases",
    ],
)
def test_plain_vote_never_returns_to_another_site(member_client, question, next_url):
    response = member_client.post(
        vote_url(question), data={"next": next_url}, headers={"Referer": "https://evil.example/"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"{page_url(question)}#question-{question.id}"


def test_logged_out_vote_goes_to_login_and_back_to_the_question(client, question):
    back = "/diseases/scleromyxedema"

    response = client.post(vote_url(question), data={"next": back})

    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    assert f"next=/diseases/scleromyxedema%23question-{question.id}" in location
    assert stored(question) == (0, 0)
    # The login page says why the visitor is there.
    assert LOG_IN_TO_VOTE in client.get(location).get_data(as_text=True)


def test_logged_out_htmx_vote_gets_an_hx_redirect_to_login(client, question):
    response = client.post(vote_url(question), headers=HTMX)

    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert stored(question) == (0, 0)
    assert LOG_IN_TO_VOTE in client.get(response.headers["HX-Redirect"]).get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_member_cannot_upvote_their_own_question(client, make, disease, headers):
    author = make.make_user("asker")
    question = make.make_question(disease, "Can diet help?", author_id=author.id)
    login(client, author)

    response = client.post(vote_url(question), headers=headers)

    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert OWN_QUESTION in html
    if headers:
        assert "<html" not in html and "disabled" in html
    else:
        assert "<html" in html
    assert stored(question) == (0, 0)


def test_own_question_button_is_disabled_with_the_reason_in_listings(client, make, disease):
    author = make.make_user("asker")
    make.make_question(disease, "Can diet help?", author_id=author.id)
    login(client, author)

    for url in (
        "/diseases/scleromyxedema",
        "/diseases/scleromyxedema/questions",
        "/diseases/scleromyxedema/questions/can-diet-help",
    ):
        html = client.get(url).get_data(as_text=True)
        assert OWN_QUESTION in html, url
        assert "disabled" in html, url


def test_vote_without_csrf_token_is_refused(member_client, question):
    response = member_client.post(vote_url(question), csrf=False)

    assert response.status_code == 400
    assert stored(question) == (0, 0)


def test_vote_on_unknown_question_is_404(member_client, disease):
    response = member_client.post("/diseases/scleromyxedema/questions/no-such-question/vote")
    assert response.status_code == 404


def test_vote_is_post_only(member_client, question):
    assert member_client.get(vote_url(question)).status_code == 405


@pytest.mark.parametrize(
    "url",
    [
        "/diseases/scleromyxedema",
        "/diseases/scleromyxedema/questions",
        "/diseases/scleromyxedema/questions/is-it-hereditary",
    ],
)
def test_listings_show_which_questions_the_member_upvoted(
    member_client, make, disease, question, url
):
    other = make.make_question(disease, "Is it contagious?", votes=2)
    member_client.post(vote_url(question))

    html = member_client.get(url).get_data(as_text=True)

    mine = html[html.index(f'id="question-{question.id}-votes"') :]
    theirs = html[html.index(f'id="question-{other.id}-votes"') :]
    assert mine.split("</form>")[0].count('aria-pressed="true"') == 1
    assert theirs.split("</form>")[0].count('aria-pressed="false"') == 1
    assert f'action="{vote_url(question)}"' in html


def test_visitor_sees_vote_buttons_unpressed(client, question):
    html = client.get("/diseases/scleromyxedema").get_data(as_text=True)
    assert 'aria-pressed="false"' in html and "vote-button" in html


def test_page_forms_return_to_the_listing_at_the_question(member_client, question):
    html = member_client.get("/diseases/scleromyxedema/questions?sort=new").get_data(as_text=True)
    assert (
        f'name="next" value="/diseases/scleromyxedema/questions?sort=new#question-{question.id}"'
        in html
    )


def test_ranking_follows_votes(member_client, make, disease, question):
    make.make_question(disease, "Is it contagious?")  # newer, so first while tied at 0
    member_client.post(vote_url(question))

    html = member_client.get("/diseases/scleromyxedema").get_data(as_text=True)

    assert html.index("Is it hereditary?") < html.index("Is it contagious?")


def test_set_vote_keeps_the_count_equal_to_the_rows(app, make, question):
    members = [make.make_user() for _ in range(4)]
    for user, wanted in [(m, True) for m in members] + [(m, False) for m in members[:2]]:
        set_vote(question, user, wanted)  # four votes, then two taken back
        db.session.commit()

    assert stored(question) == (2, 2)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_stale_tab_asking_for_a_vote_already_there_keeps_it(member_client, question, headers):
    """Two tabs show "not voted"; the member upvotes in both: the vote stands, counted once."""
    member_client.post(vote_url(question), data=UP, headers=headers)

    response = member_client.post(vote_url(question), data=UP, headers=headers)

    assert stored(question) == (1, 1)
    if headers:
        # The answer shows the true state: pressed, and the button now offers to take it back.
        html = response.text
        assert 'aria-pressed="true"' in html and 'name="vote" value="down"' in html
        assert '<span class="vote-count">1</span>' in html


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_taking_back_a_vote_that_is_not_there_changes_nothing(member_client, question, headers):
    response = member_client.post(vote_url(question), data=DOWN, headers=headers)

    assert response.status_code == (200 if headers else 303)
    assert stored(question) == (0, 0)
    if headers:
        assert 'aria-pressed="false"' in response.text and 'value="up"' in response.text


def test_the_button_sends_the_intent_it_shows(member_client, question):
    html = member_client.get(page_url(question)).text
    assert 'name="vote" value="up"' in html and 'aria-pressed="false"' in html
    member_client.post(vote_url(question), data=UP)
    html = member_client.get(page_url(question)).text
    assert 'name="vote" value="down"' in html and 'aria-pressed="true"' in html


def test_the_own_question_note_sits_beside_the_title_not_in_the_vote_column(client, make, disease):
    author = make.make_user("asker")
    question = make.make_question(disease, "Can diet help?", author_id=author.id)
    login(client, author)

    for url in ("/diseases/scleromyxedema", page_url(question)):
        html = client.get(url).text
        votes = html[html.index(f'id="question-{question.id}-votes"') :]
        column = votes[: votes.index("</div>")]
        assert 'class="vote-note"' not in column
        note = f'<span class="vote-note" id="question-{question.id}-vote-note">{OWN_QUESTION}'
        assert note in html
        assert f'aria-describedby="question-{question.id}-vote-note"' in column


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_VOTE": "2 per minute"}

    def test_too_many_votes_get_a_clear_429(self, member_client, question):
        member_client.post(vote_url(question))
        member_client.post(vote_url(question))

        response = member_client.post(vote_url(question))

        assert response.status_code == 429
        assert TOO_FAST in response.get_data(as_text=True)
        assert stored(question) == (1, 1)  # up, up (counted once), then refused

    def test_too_many_htmx_votes_show_the_message_in_the_button(self, member_client, question):
        member_client.post(vote_url(question), headers=HTMX)
        member_client.post(vote_url(question), headers=HTMX)

        response = member_client.post(vote_url(question), headers=HTMX)

        html = response.get_data(as_text=True)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "<html" not in html and TOO_FAST in html
        assert f'id="question-{question.id}-votes"' in html

    def test_the_limit_is_per_member(self, client, make, question):
        first, second = make.make_user(), make.make_user()
        login(client, first)
        client.post(vote_url(question))
        client.post(vote_url(question))
        assert client.post(vote_url(question)).status_code == 429

        login(client, second)

        assert client.post(vote_url(question)).status_code == 303
        assert stored(question) == (2, 2)


@pytest.mark.parametrize(
    "url",
    [
        "/diseases/scleromyxedema",
        "/diseases/scleromyxedema/questions",
        "/diseases/scleromyxedema/questions/is-it-hereditary",
    ],
)
def test_vote_state_queries_do_not_grow_with_questions(
    member_client, make, member, disease, question, count_queries, url
):
    def add_questions(n: int, start: int) -> None:
        for i in range(start, start + n):
            other = make.make_question(disease, f"Another question number {i}?", votes=i % 2)
            if i % 3:
                db.session.add(Vote(question_id=other.id, user_id=member.id))
                other.vote_count += 1
        db.session.commit()

    add_questions(2, 0)
    with count_queries() as few:
        assert member_client.get(url).status_code == 200

    add_questions(12, 2)
    with count_queries() as many:
        assert member_client.get(url).status_code == 200

    assert many.count == few.count


def test_vote_button_names_the_question_it_upvotes(client, make, disease, question):
    make.make_question(disease, "Is it contagious?", votes=1)

    html = client.get("/diseases/scleromyxedema").get_data(as_text=True)

    assert 'aria-label="Upvote “Is it hereditary?” (0 votes)"' in html
    assert 'aria-label="Upvote “Is it contagious?” (1 vote)"' in html
