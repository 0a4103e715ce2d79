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
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select, text

from forum.comments import service as comments
from forum.extensions import db
from forum.maps import service as maps
from forum.members import service as members
from forum.models import Comment, CommentRevision, Disease, MapEntry, Question, User, Vote
from forum.questions import voting as voting_rules
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


# --- votes, account deletion and question deletion -------------------------------------------


def _vote_rows(question_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.question_id == question_id)
    )


def _assert_counts_equal_rows() -> None:
    db.session.remove()
    for question in db.session.scalars(select(Question)):
        assert question.vote_count == _vote_rows(question.id), question.title
    for disease in db.session.scalars(select(Disease)):
        entries = db.session.scalar(
            select(func.count()).select_from(MapEntry).where(MapEntry.disease_id == disease.id)
        )
        assert disease.member_count == entries, disease.name


def make_voting() -> tuple[int, int]:
    """A question (with one vote of a bystander) and a voter: their ids."""
    disease = factories.make_disease()
    question = factories.make_question(disease, "Is it hereditary?", votes=1)
    voter = factories.make_user("vera_voter")
    return question.id, voter.id


def test_a_vote_by_an_account_deleted_since_the_request_began_is_refused(race_app):
    """The request loaded its member, then the account was deleted (another browser): the vote
    is refused with a message, not a foreign-key error (500). Both databases."""
    qid, uid = make_voting()
    question, voter = db.session.get(Question, qid), db.session.get(User, uid)
    db.session.expunge_all()  # what the request holds: rows read before the deletion
    db.session.rollback()

    Concurrent(race_app, lambda: _delete_account(uid)).result()

    with pytest.raises(voting_rules.VoteRefused, match="no longer exists"):
        voting_rules.set_vote(question, voter, wanted=True)
    db.session.rollback()
    _assert_counts_equal_rows()


def test_a_vote_on_a_question_deleted_since_the_request_began_is_a_404(race_app):
    qid, uid = make_voting()
    question, voter = db.session.get(Question, qid), db.session.get(User, uid)
    db.session.expunge_all()
    db.session.rollback()

    Concurrent(race_app, lambda: _delete_question(qid)).result()

    with pytest.raises(voting_rules.QuestionGone):
        voting_rules.set_vote(question, voter, wanted=True)
    db.session.rollback()
    _assert_counts_equal_rows()


def _delete_account(uid: int) -> None:
    user = db.session.get(User, uid)
    if user is not None:
        members.delete_account(user)
    db.session.commit()


def _delete_question(qid: int) -> None:
    # As a moderator's removal would: the votes go with the question (ON DELETE CASCADE).
    db.session.execute(sql_delete(Question).where(Question.id == qid))
    db.session.commit()


def _flip(question: Question, user: User):
    """Add the member's vote when it is not there, else take it back (what a click does)."""
    voted = db.session.scalar(
        select(Vote.id).where(Vote.question_id == question.id, Vote.user_id == user.id)
    )
    return voting_rules.set_vote(question, user, wanted=voted is None)


def _toggle(qid: int, uid: int):
    result = _flip(db.session.get(Question, qid), db.session.get(User, uid))
    db.session.commit()
    return result


@pytest.mark.postgres
@pytest.mark.parametrize("first_voted", [False, True], ids=["vote", "unvote"])
def test_an_account_deleted_while_its_vote_is_uncommitted_leaves_true_counts(pg_app, first_voted):
    """The vote (or unvote) holds its transaction open; the deletion must wait for it and then
    count what it committed."""
    qid, uid = make_voting()
    if first_voted:
        _toggle(qid, uid)
    _flip(db.session.get(Question, qid), db.session.get(User, uid))
    db.session.flush()

    other = Concurrent(pg_app, lambda: _delete_account(uid))
    wait_until_blocked_or_done(other)
    db.session.commit()
    other.result()

    _assert_counts_equal_rows()
    assert db.session.get(User, uid) is None


@pytest.mark.postgres
def test_a_vote_sent_while_the_account_deletion_is_uncommitted_is_refused(pg_app):
    qid, uid = make_voting()
    members.delete_account(db.session.get(User, uid))
    db.session.flush()

    other = Concurrent(pg_app, lambda: _toggle(qid, uid))
    wait_until_blocked_or_done(other)
    db.session.commit()

    with pytest.raises(voting_rules.VoteRefused, match="no longer exists"):
        other.result()
    _assert_counts_equal_rows()


@pytest.mark.postgres
def test_a_vote_sent_while_the_question_deletion_is_uncommitted_is_a_404(pg_app):
    qid, uid = make_voting()
    db.session.execute(sql_delete(Question).where(Question.id == qid))

    other = Concurrent(pg_app, lambda: _toggle(qid, uid))
    wait_until_blocked_or_done(other)
    db.session.commit()

    with pytest.raises(voting_rules.QuestionGone):
        other.result()
    _assert_counts_equal_rows()


@pytest.mark.postgres
def test_an_account_deleted_while_it_joins_a_map_leaves_a_true_member_count(pg_app):
    """The same race on the map's member count."""
    _, uid = make_voting()
    disease = factories.make_disease("Alkaptonuria", synonyms=())
    did = disease.id
    fields = maps.EntryFields("patient", "FR", None, None, False)
    maps.join(db.session.get(Disease, did), db.session.get(User, uid), fields)

    other = Concurrent(pg_app, lambda: _delete_account(uid))
    wait_until_blocked_or_done(other)
    db.session.commit()
    other.result()

    _assert_counts_equal_rows()


@pytest.mark.postgres
def test_two_deletions_of_one_account_at_once_count_its_votes_once(pg_app):
    """Two browsers of the member both confirm the deletion."""
    qid, uid = make_voting()
    _toggle(qid, uid)
    members.delete_account(db.session.get(User, uid))
    db.session.flush()

    other = Concurrent(pg_app, lambda: _delete_account_twice(uid))
    wait_until_blocked_or_done(other)
    db.session.commit()
    other.result()

    _assert_counts_equal_rows()


def _delete_account_twice(uid: int) -> None:
    # The second request loaded the member before the first deletion committed.
    members.delete_account(db.session.get(User, uid))
    db.session.commit()


def test_a_comment_on_a_question_deleted_since_the_request_began_is_refused(race_app):
    """Not a foreign-key error (500): the form comes back with a message, nothing stored."""
    question = factories.make_question(factories.make_disease(), "Is it hereditary?")
    member = factories.make_user("mira_member")
    qid = question.id
    db.session.expunge_all()  # what the request holds: rows read before the deletion
    db.session.rollback()

    Concurrent(race_app, lambda: _delete_question(qid)).result()

    with pytest.raises(comments.CommentError, match="removed"):
        comments.post_comment(question, comments.Poster(user=member), "Too late.")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
