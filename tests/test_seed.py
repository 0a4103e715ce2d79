"""The demo content: what it loads, that counts come from rows, and that reruns add nothing."""

import re
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


def _latest_advances(client):
    return client.get(
        "/diseases/scleromyxedema/questions/what-are-the-latest-advances-in-scleromyxedema"
    ).get_data(as_text=True)


def test_the_demo_conversation_opens_with_kay2500_alone(app, client):
    from datetime import date

    load_demo_content(CONTENT)
    question = db.session.scalar(
        select(Question).where(Question.slug == "what-are-the-latest-advances-in-scleromyxedema")
    )
    first = db.session.scalar(
        select(Comment)
        .where(Comment.question_id == question.id, Comment.parent_id.is_(None))
        .order_by(Comment.created_at, Comment.id)
        .limit(1)
    )
    author = db.session.get(User, first.author_id)

    assert author.username == "kay2500"
    assert first.body_md == "None that I can see."  # exactly, on its own
    assert first.created_at.date() == date(2019, 1, 26)
    assert first.reply_count == 0
    same_words = db.session.scalars(
        select(Comment.id).where(Comment.body_md.contains("None that I can see"))
    ).all()
    assert same_words == [first.id]
    html = _latest_advances(client)
    first_article = html.index('<article id="comment-')
    assert html.index(f'<article id="comment-{first.id}"') == first_article
    # An old comment shows its date, not "7 years ago".
    assert ">January 26, 2019</time>" in html[first_article : first_article + 1500]
    # The question it answers was asked before it.
    assert question.created_at < first.created_at


def test_seeded_members_joined_before_their_first_comment(app):
    load_demo_content(CONTENT)
    first_comments = dict(
        db.session.execute(
            select(Comment.author_id, func.min(Comment.created_at)).group_by(Comment.author_id)
        ).all()
    )
    assert len(first_comments) >= 10
    for user in db.session.scalars(select(User).where(User.id.in_(first_comments))):
        assert user.created_at < first_comments[user.id], user.username


def test_articles_show_who_wrote_them_and_when_they_were_reviewed(app, client):
    load_demo_content(CONTENT)
    html = _latest_advances(client)
    assert "By RareCircle editorial team" in html
    assert 'Last reviewed <time datetime="2026-10-12">October 12, 2026</time>' in html
    for question in db.session.scalars(select(Question)):
        assert question.article_author and question.article_reviewed_on, question.slug


def test_seed_makes_a_demo_login_and_prints_its_password_once(app, client):
    result = app.test_cli_runner().invoke(args=["seed"])
    match = re.search(r"Log in as 'demo' with the password '([^']+)'", result.output)
    assert match, result.output
    again = app.test_cli_runner().invoke(args=["seed"])
    assert "password" not in again.output

    response = client.post("/login", data={"username": "demo", "password": match.group(1)})
    assert response.status_code == 303

    renewed = app.test_cli_runner().invoke(args=["seed", "--new-demo-password"])
    new_password = re.search(r"password '([^']+)'", renewed.output).group(1)
    assert new_password != match.group(1)


def test_seed_in_production_makes_no_account_anyone_can_log_in_as(app):
    app.config["FORUM_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["seed"])
    assert "password" not in result.output
    assert db.session.scalar(select(User).where(User.username_key == "demo")) is None
