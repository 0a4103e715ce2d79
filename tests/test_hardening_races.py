"""Races the security review ran against a real server: gunicorn with several sync workers, on
SQLite and on PostgreSQL (whatever backend the rest of the suite uses).

- Twenty identical comments posted at once store one (the double-submit guard holds).
- Votes fired together with the voter's account deletion leave every question's count equal to
  its vote rows, and no vote answers 500.
- A 10 MB chunked body answers 413 from the real server too.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, Question, User, Vote
from tests import backends, factories
from tests.servers import Gunicorn, assert_clean_log, burst, signed_in_headers, sync_gunicorn

pytestmark = pytest.mark.slow

SECRET = backends.SECRET
# The fixtures of a fresh database on each backend, and an app on it.
backend_url = backends.backend_url
race_app = backends.race_app

# --- gunicorn ---------------------------------------------------------------------------------


@pytest.fixture
def gunicorn(race_app, backend_url, tmp_path):
    """gunicorn with several sync workers on the test's database; stopped at the end."""
    with sync_gunicorn(backend_url, SECRET, tmp_path / "gunicorn.log") as server:
        yield server


FORM = "application/x-www-form-urlencoded"


# --- double submit ---------------------------------------------------------------------------


ROUNDS = 5


def test_twenty_identical_comments_at_once_store_one(race_app, gunicorn):
    """Five rounds, each of twenty identical posts released together on its own question."""
    disease = factories.make_disease("Scleromyxedema")
    questions = [factories.make_question(disease, f"Is it hereditary, {n}?") for n in range(ROUNDS)]
    member = factories.make_user("mira_member")
    headers = {**signed_in_headers(race_app, member), "Content-Type": FORM}
    body = b"body=The+same+words%2C+sent+twenty+times."
    ids = [q.id for q in questions]
    db.session.remove()

    for question_id in ids:
        path = f"/questions/{question_id}/comments"
        # Half as htmx, half as a plain form post: each plain one lands on the comment (303);
        # of the htmx ones, at most the one that stored it gets the comment (200), the others
        # are told it is a repeat (409).
        requests = [
            (path, {**headers, **({"HX-Request": "true"} if i % 2 else {})}, body)
            for i in range(20)
        ]
        seen = Counter(burst(gunicorn.port, requests))
        assert seen[303] == 10 and seen[200] + seen[409] == 10 and seen[200] <= 1, seen

    db.session.remove()
    stored = dict(
        db.session.execute(
            select(Comment.question_id, func.count()).group_by(Comment.question_id)
        ).all()
    )
    counts = dict(db.session.execute(select(Question.id, Question.comment_count)).all())
    assert stored == {qid: 1 for qid in ids}
    assert counts == {qid: 1 for qid in ids}
    assert_clean_log(gunicorn)


# --- votes racing the voter's account deletion -----------------------------------------------

VOTE_ROUNDS = 8
QUESTIONS = 20


def test_votes_fired_with_the_voters_account_deletion_keep_counts_true(race_app, gunicorn):
    """Eight rounds: a member's twenty votes (one per question) and the deletion of their
    account, released together. Every count equals its rows; no request answers 500."""
    disease = factories.make_disease("Scleromyxedema")
    asker = factories.make_user("asker")
    questions = [
        factories.make_question(disease, f"Question {n} about it?", author_id=asker.id)
        for n in range(QUESTIONS)
    ]
    paths = [f"/diseases/{disease.slug}/questions/{q.slug}/vote" for q in questions]
    voters = [factories.make_user(f"voter{n}") for n in range(VOTE_ROUNDS)]
    headers = [signed_in_headers(race_app, voter) for voter in voters]
    db.session.remove()
    delete_body = f"password={factories.PASSWORD.replace(' ', '+')}".encode()

    seen: Counter = Counter()
    for auth in headers:
        votes = [
            (path, {**auth, **({"HX-Request": "true"} if i % 2 else {})}, b"")
            for i, path in enumerate(paths)
        ]
        deletion = ("/account/delete", {**auth, "Content-Type": FORM}, delete_body)
        statuses = burst(gunicorn.port, [*votes[:10], deletion, *votes[10:]])
        assert statuses[10] == 303, statuses  # the account is deleted
        seen.update(statuses)

    # Votes: counted (200 fragment / 303 back), refused because the account went meanwhile
    # (403), or sent to log in (401 htmx / 303).
    assert set(seen) <= {200, 303, 401, 403}, (seen, gunicorn.log()[-4000:])
    db.session.remove()
    rows = dict(
        db.session.execute(select(Vote.question_id, func.count()).group_by(Vote.question_id)).all()
    )
    counts = dict(db.session.execute(select(Question.id, Question.vote_count)).all())
    assert counts == {qid: rows.get(qid, 0) for qid in counts}
    assert (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.username.like("voter%"))
        )
        == 0
    )
    assert_clean_log(gunicorn)


# --- a body too large, sent chunked to the real server ---------------------------------------


def _post_chunked(server: Gunicorn, path: str, first: bytes, filler: int) -> bytes:
    """POST `first` and then `filler` bytes as a chunked body; the status line that came back.

    The body is written from another thread, as the server may answer (and close) before
    reading it all."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)

    def send() -> None:
        try:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode()
            )
            chunk = b"x" * 65536
            sock.sendall(f"{len(first):x}\r\n".encode() + first + b"\r\n")
            for _ in range(filler // len(chunk)):
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before reading everything

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        answer = b""
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    finally:
        sender.join(timeout=60)
        sock.close()
    return answer.split(b"\r\n", 1)[0]


def test_a_ten_megabyte_chunked_body_answers_413(race_app, gunicorn):
    status = _post_chunked(gunicorn, "/login", b"username=someone&password=", 10 * 1024 * 1024)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert_clean_log(gunicorn)
