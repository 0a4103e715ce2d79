"""The demo content: what it loads, that counts come from rows, and that reruns add nothing."""

from pathlib import Path

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, Disease, MapEntry, Question, User, Vote
from forum.seed import load_demo_content

CONTENT = Path(__file__).resolve().parents[1] / "content"


def _snapshot():
    tables = (Disease, Question, User, Vote, MapEntry, Comment)
    counts = {t.__name__: db.session.scalar(select(func.count()).select_from(t)) for t in tables}
    questions = db.session.execute(
        select(Question.slug, Question.vote_count, Question.body_html).order_by(Question.id)
    ).all()
    return counts, questions


def test_seed_loads_the_diseases_and_questions(app):
    report = load_demo_content(CONTENT)

    assert report.diseases >= 4
    sclero = db.session.scalar(select(Disease).where(Disease.slug == "scleromyxedema"))
    slugs = set(db.session.scalars(select(Question.slug).where(Question.disease_id == sclero.id)))
    for expected in (
        "what-are-the-latest-advances-in-scleromyxedema",
        "what-is-the-life-expectancy-of-scleromyxedema",
        "which-celebrities-have-scleromyxedema",
        "is-scleromyxedema-hereditary",
        "is-scleromyxedema-contagious",
        "is-there-a-natural-treatment-for-scleromyxedema",
        "what-is-the-history-of-scleromyxedema",
        "what-are-the-synonyms-of-scleromyxedema",
    ):
        assert expected in slugs
    assert sclero.member_count >= 24
    for disease in db.session.scalars(select(Disease)):
        assert disease.question_count >= 3


def test_seeded_vote_counts_equal_the_vote_rows(app):
    load_demo_content(CONTENT)

    rows = dict(
        db.session.execute(select(Vote.question_id, func.count()).group_by(Vote.question_id)).all()
    )
    for question in db.session.scalars(select(Question)):
        assert question.vote_count == rows.get(question.id, 0)
    assert sum(rows.values()) > 100


def test_seed_twice_changes_nothing(app):
    load_demo_content(CONTENT)
    before = _snapshot()

    report = load_demo_content(CONTENT)

    assert (
        str(report)
        == "added 0 diseases, 0 questions, 0 members, 0 votes, 0 comments, 0 map entries"
    )
    assert _snapshot() == before


def test_the_latest_advances_article_is_rendered(app, client):
    load_demo_content(CONTENT)

    page = client.get(
        "/diseases/scleromyxedema/questions/what-are-the-latest-advances-in-scleromyxedema"
    )

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for fact in ("IVIG", "rituximab", "lenalidomide", "photopheresis", "IGF-1R", "mTOR"):
        assert fact.lower() in html.lower()
    assert "<h2>" in html


def test_demo_members_cannot_log_in(app):
    from forum.auth.passwords import verify_password

    load_demo_content(CONTENT)
    for user in db.session.scalars(select(User)):
        assert not verify_password(user.password_hash, "")
        assert not verify_password(user.password_hash, user.username)


def test_seed_command(app):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "Seeded demo content" in result.output
    again = app.test_cli_runner().invoke(args=["seed"])
    assert (
        "added 0 diseases, 0 questions, 0 members, 0 votes, 0 comments, 0 map entries"
        in again.output
    )


def test_seed_posts_a_demo_conversation_with_true_counts(app, client):
    load_demo_content(CONTENT)

    question = db.session.scalar(
        select(Question).where(Question.slug == "what-are-the-latest-advances-in-scleromyxedema")
    )
    rows = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.question_id == question.id)
    )
    assert rows >= 5 and question.comment_count == rows
    html = client.get(
        "/diseases/scleromyxedema/questions/what-are-the-latest-advances-in-scleromyxedema"
    ).get_data(as_text=True)
    assert "Not me. I asked at two centres" in html
    assert "None that I can see." in html
    assert 'class="comment depth-2"' in html
