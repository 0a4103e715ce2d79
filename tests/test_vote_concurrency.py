"""Votes stay true under load: bursts of votes against gunicorn with several workers.

Each test starts gunicorn on a free port of 127.0.0.1 against the test's own database
(SQLite file or PostgreSQL, whichever the suite runs on) and always stops it afterwards.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Question, Vote
from tests.servers import assert_clean_log, burst, signed_in_headers, sync_gunicorn

pytestmark = pytest.mark.slow


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    """gunicorn with several sync workers serving the test's database; stopped at the end."""
    with sync_gunicorn(database_url, app.config["SECRET_KEY"], tmp_path / "gunicorn.log") as server:
        yield server


def _stored(question) -> tuple[int, int]:
    db.session.remove()
    rows = db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.question_id == question.id)
    )
    count = db.session.scalar(select(Question.vote_count).where(Question.id == question.id))
    db.session.remove()
    return rows, count


@pytest.fixture
def voted(question):
    """The question's id and slug (plain values: the test ends its session before a burst)."""
    return QuestionRef(question.id, question.slug)


class QuestionRef:
    def __init__(self, id: int, slug: str):
        self.id = id
        self.slug = slug


def _vote_path(question) -> str:
    return f"/diseases/scleromyxedema/questions/{question.slug}/vote"


def test_fifty_members_voting_at_once_give_fifty_votes(app, make, voted, gunicorn):
    members = [make.make_user() for _ in range(50)]
    # Half vote through htmx (a 200 fragment), half as a plain form post (a 303).
    header_sets = [
        {**signed_in_headers(app, user), **({"HX-Request": "true"} if i % 2 else {})}
        for i, user in enumerate(members)
    ]
    db.session.remove()

    statuses = burst(gunicorn.port, [(_vote_path(voted), headers, b"") for headers in header_sets])

    assert Counter(statuses) == Counter({200: 25, 303: 25})
    assert _stored(voted) == (50, 50)
    assert_clean_log(gunicorn)


def test_one_member_sending_twenty_votes_at_once_keeps_count_and_rows_equal(
    app, make, voted, gunicorn
):
    member = make.make_user()
    headers = {**signed_in_headers(app, member), "HX-Request": "true"}
    db.session.remove()

    statuses = burst(gunicorn.port, [(_vote_path(voted), headers, b"")] * 20)

    assert Counter(statuses) == Counter({200: 20})
    rows, count = _stored(voted)
    assert rows == count
    assert rows in (0, 1)
    assert_clean_log(gunicorn)
