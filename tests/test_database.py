"""Database settings that keep SQLite safe under several workers and PostgreSQL self-healing."""

import fcntl
import os

import pytest
from sqlalchemy import text

from forum.database import WriteTurns
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


def _turn_is_free() -> bool:
    """True when no connection holds the SQLite file's write turn (forum.database.WriteTurns)."""
    fd = os.open(f"{db.engine.url.database}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@sqlite_only
def test_a_writing_request_holds_the_write_turn_until_its_connection_goes_back(app):
    with app.test_request_context("/", method="POST"):
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            assert not _turn_is_free()  # another worker's writer waits here, not in SQLite
            conn.commit()
        assert _turn_is_free()
    with app.test_request_context("/", method="GET"), db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert _turn_is_free()  # readers never take it


@sqlite_only
def test_a_writer_waits_for_a_held_turn_no_longer_than_its_timeout(tmp_path):
    turns = WriteTurns(str(tmp_path / "forum.db"), timeout=0.05)
    holder, waiter = {}, {}
    turns.take_turn(holder)

    turns.take_turn(waiter)  # returns after the timeout, leaving the wait to SQLite
    assert "write_turn" not in waiter

    turns.give_back(holder)
    turns.take_turn(waiter)
    assert waiter["write_turn"]
    for info in (holder, waiter):
        turns.forget(info)
