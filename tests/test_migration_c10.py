"""The hardening migration: existing members get their name key, and it goes back down."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from forum.extensions import db
from tests.conftest import make_test_app


def test_existing_members_get_their_name_key_and_the_revision_goes_back_down(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'migrated.db'}")
    with app.app_context():
        upgrade(revision="6e58eaf79ca1")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, username_key, password_hash, role, "
                    "created_at, session_token) VALUES ('AIice_a', 'aiice_a', 'x', 'member', "
                    "CURRENT_TIMESTAMP, 'token')"
                )
            )

        upgrade(revision="c10_hardening")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name_key FROM users")).scalar() == "aiice_a"

        downgrade(revision="6e58eaf79ca1")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("users")}
            assert "name_key" not in columns
            assert conn.execute(text("SELECT username FROM users")).scalar() == "AIice_a"
        db.engine.dispose()
