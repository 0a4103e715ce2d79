"""The Alembic migrations build the same schema as the models, on SQLite and PostgreSQL."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, make_url, text

from forum.extensions import db
from tests.conftest import make_test_app


def _upgrade_and_diff(url: str):
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    return diff, tables


def test_migrations_match_the_models_on_sqlite(tmp_path):
    diff, tables = _upgrade_and_diff(f"sqlite:///{tmp_path / 'migrated.db'}")

    assert diff == [], "models and migrations differ: run `flask db migrate`"
    assert {"users", "diseases", "questions", "votes", "comments", "map_entries"} <= tables


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgres(postgres_url):
    server = make_url(postgres_url)
    name = f"forum_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        diff, tables = _upgrade_and_diff(server.set(database=name).render_as_string(False))
        assert diff == [], "models and migrations differ: run `flask db migrate`"
        assert "questions" in tables
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
