"""Database settings that keep SQLite safe under several workers and PostgreSQL self-healing."""

import pytest
from sqlalchemy import text

from forum.extensions import db
from tests.databases import suite_backend

sqlite_only = pytest.mark.skipif(suite_backend() != "sqlite", reason="SQLite connection settings")


@sqlite_only
def test_sqlite_connections_use_wal_and_a_busy_timeout(app):
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


@sqlite_only
def test_sqlite_writes_take_the_lock_up_front(app):
    """A write transaction begins IMMEDIATE, so a second writer waits instead of failing."""
    statements = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with app.test_request_context("/", method="POST"), db.engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        with app.test_request_context("/", method="GET"), db.engine.begin() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


def test_pool_pre_ping_is_on(app):
    assert db.engine.pool._pre_ping is True


@pytest.mark.postgres
def test_the_site_runs_on_postgres(postgres_url, tmp_path):
    from sqlalchemy import create_engine, make_url

    from forum.extensions import Base
    from tests.conftest import make_test_app

    server = make_url(postgres_url)
    name = "forum_smoke_" + tmp_path.name[-8:].replace("-", "_").lower()
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        app = make_test_app(server.set(database=name).render_as_string(False))
        with app.app_context():
            Base.metadata.create_all(db.engine)
            client = app.test_client()
            assert client.get("/healthz").status_code == 200
            assert client.get("/").status_code == 200
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
