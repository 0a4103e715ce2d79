"""A fresh database on SQLite and on PostgreSQL for one test, whatever backend the suite runs
on, and an app on it: for the tests of races and locks that must hold on both."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from forum.extensions import Base, db, limiter
from tests.conftest import make_test_app
from tests.databases import postgres_reachable, postgres_server_url

SECRET = "races-secret-key"


def _sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'races.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url


def _postgres_database():
    server = make_url(postgres_server_url())
    reason = postgres_reachable(server.render_as_string(False))
    if reason:
        pytest.skip(f"no PostgreSQL: {reason}")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"forum_races_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(False)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend_url(request, tmp_path):
    """A fresh, empty database on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield from _sqlite_database(tmp_path)
    else:
        yield from _postgres_database()


@pytest.fixture
def race_app(backend_url):
    app = make_test_app(backend_url, SECRET_KEY=SECRET)
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app():
    """An app on a fresh PostgreSQL database, whatever the suite runs on (skips without one)."""
    for url in _postgres_database():
        app = make_test_app(url, SECRET_KEY=SECRET)
        with app.app_context():
            limiter.reset()
            yield app
            db.session.remove()
            db.engine.dispose()
