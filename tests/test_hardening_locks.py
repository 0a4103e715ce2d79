"""Interleavings that once left wrong rows, forced step by step at the service level.

On PostgreSQL two sessions really run at once: the test holds one transaction open at the
worst moment, starts the other in a thread, waits until the database shows that one waiting
on a lock (or finished), then lets the first commit. On SQLite a request takes the write lock
at BEGIN (forum/database.py), so writers never interleave there; the same interleavings are
checked as sequences (a request that read its rows before another request committed).
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from forum.comments import service as comments
from forum.extensions import db
from forum.models import Comment, CommentRevision, Question
from tests import backends, factories

backend_url = backends.backend_url
race_app = backends.race_app
pg_app = backends.pg_app


class Concurrent:
    """Runs `work` in another thread, in its own app context (so with its own session)."""

    def __init__(self, app, work):
        self.value = None
        self.error: BaseException | None = None

        def run():
            with app.app_context():
                try:
                    self.value = work()
                except BaseException as exc:  # noqa: BLE001 - handed to the test by result()
                    db.session.rollback()
                    self.error = exc
                finally:
                    db.session.remove()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def result(self):
        self.thread.join(timeout=60)
        assert self.done, "the other session never finished"
        if self.error is not None:
            raise self.error
        return self.value


def wait_until_blocked_or_done(other: Concurrent, timeout: float = 30) -> bool:
    """True once PostgreSQL shows a session of this database waiting on a lock; False if the
    other session finished first. Each look is a fresh transaction (activity is not cached)."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        if other.done:
            return False
        with db.engine.connect() as conn:
            if conn.execute(query).scalar():
                return True
        time.sleep(0.01)
    pytest.fail("the other session neither blocked nor finished")


# --- the double-submit guard ----------------------------------------------------------------


@pytest.mark.postgres
def test_an_identical_comment_posted_while_the_first_is_uncommitted_is_not_stored(pg_app):
    question = factories.make_question(factories.make_disease(), "Is it hereditary?")
    member = factories.make_user("mira_member")
    qid, uid = question.id, member.id

    first, created = comments.post_comment(question, comments.Poster(user=member), "Same words.")
    assert created

    def second_post():
        from forum.models import User

        q, u = db.session.get(Question, qid), db.session.get(User, uid)
        _, created = comments.post_comment(q, comments.Poster(user=u), "Same words.")
        db.session.commit()
        return created

    other = Concurrent(pg_app, second_post)
    wait_until_blocked_or_done(other)
    db.session.commit()

    assert other.result() is False
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
    assert db.session.get(Question, qid).comment_count == 1


@pytest.mark.postgres
def test_deleting_a_comment_twice_at_once_counts_it_once(pg_app):
    """A double click on Delete: the second request must not take the comment off the count
    a second time."""
    question = factories.make_question(factories.make_disease(), "Is it hereditary?")
    member = factories.make_user("mira_member")
    kept, _ = comments.post_comment(question, comments.Poster(user=member), "Stays.")
    doomed, _ = comments.post_comment(question, comments.Poster(user=member), "Goes.")
    db.session.commit()
    qid, cid = question.id, doomed.id

    comments.delete_comment(db.session.get(Comment, cid))
    db.session.flush()

    def delete_again():
        comments.delete_comment(db.session.get(Comment, cid))
        db.session.commit()

    other = Concurrent(pg_app, delete_again)
    wait_until_blocked_or_done(other)
    db.session.commit()
    other.result()

    db.session.remove()
    assert db.session.get(Question, qid).comment_count == 1 == comments.true_comment_count(qid)


@pytest.mark.postgres
def test_saving_the_same_edit_twice_at_once_keeps_one_earlier_version(pg_app):
    question = factories.make_question(factories.make_disease(), "Is it hereditary?")
    member = factories.make_user("mira_member")
    comment, _ = comments.post_comment(question, comments.Poster(user=member), "First words.")
    db.session.commit()
    cid = comment.id

    comments.edit_comment(db.session.get(Comment, cid), "Second words.")
    db.session.flush()

    def edit_again():
        comments.edit_comment(db.session.get(Comment, cid), "Second words.")
        db.session.commit()

    other = Concurrent(pg_app, edit_again)
    wait_until_blocked_or_done(other)
    db.session.commit()
    other.result()

    db.session.remove()
    revisions = db.session.scalars(
        select(CommentRevision.body_md).where(CommentRevision.comment_id == cid)
    ).all()
    assert revisions == ["First words."]
    assert db.session.get(Comment, cid).body_md == "Second words."
