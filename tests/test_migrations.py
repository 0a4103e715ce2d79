"""The Alembic migrations build the same schema as the models, on SQLite and PostgreSQL, keep
the rows they find, and go back down cleanly."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, create_engine, inspect, make_url, text
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from tests.conftest import make_test_app

BEFORE_REVIEW = "6e58eaf79ca1"  # the head before c09_schema_review
TABLES = {"users", "diseases", "questions", "votes", "comments", "map_entries", "login_sessions"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """The URL of an empty database on each backend (PostgreSQL only when a server answers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    name = f"forum_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def migrated_app(empty_database):
    """An app on the empty database, inside its app context; the test runs the migrations."""
    app = make_test_app(empty_database)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_differences() -> list:
    """What autogenerate would change to make the database match the models (defaults too)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": True})
        return compare_metadata(context, db.metadata)


def check_constraints(table: str) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_check_constraints(table)}


def run(sql: str, **params):
    with db.engine.begin() as conn:
        return conn.execute(text(sql), params)


def test_migrations_match_the_models(migrated_app):
    upgrade()

    assert schema_differences() == [], "models and migrations differ"
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES
    # Autogenerate does not compare CHECK constraints: their names (after the naming
    # convention of forum/extensions.py) are compared here, their effect further down.
    for table in db.metadata.sorted_tables:
        wanted = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        assert check_constraints(table.name) == wanted, table.name


def _old_rows() -> None:
    """Rows as the schema before the review allowed them: a top-level comment without root_id,
    a reply chain whose root_id was never filled, a revision, a vote and a map entry."""
    run(
        "INSERT INTO users (id, username, username_key, password_hash, role, created_at, "
        "session_token) VALUES (1, 'mira', 'mira', 'x', 'member', '2026-01-01', 't1')"
    )
    run(
        "INSERT INTO diseases (id, slug, name, synonyms, search_text, overview, member_count, "
        "question_count, created_at) VALUES (1, 'fop', 'FOP', '[]', 'fop', '', 1, 1, '2026-01-01')"
    )
    run(
        "INSERT INTO questions (id, disease_id, slug, title, title_key, prompt, body_md, "
        "body_html, author_id, vote_count, comment_count, created_at) VALUES (1, 1, 'q', 'Q?', "
        "'q', '', '', '', 1, 1, 4, '2026-01-01')"
    )
    comments = [(1, None, None, 0), (2, 1, None, 1), (3, 2, None, 2), (4, None, 4, 0)]
    for cid, parent, root, depth in comments:
        run(
            "INSERT INTO comments (id, question_id, parent_id, root_id, depth, author_id, "
            "body_md, body_html, created_at, reply_count) VALUES (:id, 1, :parent, :root, "
            ":depth, 1, 'text', '<p>text</p>', '2026-01-01', 0)",
            id=cid,
            parent=parent,
            root=root,
            depth=depth,
        )
    run(
        "INSERT INTO comment_revisions (id, comment_id, body_md, created_at) "
        "VALUES (1, 3, 'old text', '2026-01-01')"
    )
    run("INSERT INTO votes (id, question_id, user_id, created_at) VALUES (1, 1, 1, '2026-01-01')")
    run(
        "INSERT INTO map_entries (id, disease_id, user_id, role, country, anonymous, created_at, "
        "updated_at) VALUES (1, 1, 1, 'patient', 'FR', false, '2026-01-01', '2026-01-01')"
    )


def _counts() -> dict[str, int]:
    return {table: run(f"SELECT count(*) FROM {table}").scalar() for table in sorted(TABLES)} | {
        "comment_revisions": run("SELECT count(*) FROM comment_revisions").scalar()
    }


def test_the_review_keeps_every_row_fills_root_ids_and_goes_back_down(migrated_app):
    upgrade(revision=BEFORE_REVIEW)
    _old_rows()
    before = _counts()

    upgrade()

    assert _counts() == before  # rebuilding tables cascaded no delete
    roots = dict(run("SELECT id, root_id FROM comments ORDER BY id").all())
    assert roots == {1: 1, 2: 1, 3: 1, 4: 4}
    assert "ix_questions_author_id" in {
        index["name"] for index in inspect(db.engine).get_indexes("questions")
    }

    downgrade(revision=BEFORE_REVIEW)

    assert _counts() == before
    assert check_constraints("questions") == set()
    run(
        "INSERT INTO comments (id, question_id, depth, body_md, body_html, created_at, "
        "reply_count) VALUES (5, 1, 0, 'no root', '', '2026-01-01', 0)"
    )  # root_id may be NULL again

    run("DELETE FROM comments WHERE id = 5")
    upgrade()  # and up again
    assert schema_differences() == []


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE diseases SET member_count = -1",
        "UPDATE diseases SET question_count = -1",
        "UPDATE questions SET vote_count = -1",
        "UPDATE questions SET comment_count = -1",
        "UPDATE comments SET reply_count = -1",
        "UPDATE map_entries SET role = 'king'",
        "UPDATE comments SET root_id = NULL",
        "UPDATE comments SET root_id = 999",
    ],
)
def test_the_database_refuses_impossible_rows(migrated_app, sql):
    upgrade(revision=BEFORE_REVIEW)
    _old_rows()
    upgrade()

    with pytest.raises(IntegrityError):
        run(sql)


def test_counters_default_to_zero_in_the_database(migrated_app):
    upgrade()
    run(
        "INSERT INTO diseases (slug, name, synonyms, search_text, overview, created_at) "
        "VALUES ('fop', 'FOP', '[]', 'fop', '', '2026-01-01')"
    )
    assert run("SELECT member_count, question_count FROM diseases").one() == (0, 0)
