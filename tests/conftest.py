"""Fixtures: an app with its own empty database per test, clients, members, query counting."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, event

from forum import create_app
from forum.auth.sessions import LOGIN_ID_KEY, open_login
from forum.extensions import Base, db, limiter
from tests import factories
from tests.databases import (
    HOW_TO_ENABLE,
    PostgresFactory,
    SqliteFactory,
    postgres_reachable,
    postgres_server_url,
    suite_backend,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _build_schema(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    """Makes one fresh database per test on the suite's backend (SQLite unless DATABASE_URL)."""
    if suite_backend() == "postgresql":
        url = postgres_server_url()
        reason = postgres_reachable(url)
        if reason:
            pytest.fail(f"DATABASE_URL points at PostgreSQL, which does not answer: {reason}")
        factory = PostgresFactory(url, _build_schema)
    else:
        factory = SqliteFactory(tmp_path_factory.mktemp("db"), _build_schema)
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def postgres_url():
    """The PostgreSQL server for PostgreSQL-only tests; skips (fails in CI) without one."""
    url = postgres_server_url()
    reason = postgres_reachable(url)
    if reason:
        message = f"PostgreSQL tests skipped: no server at {url} ({reason}); {HOW_TO_ENABLE}."
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


class ForumClient(FlaskClient):
    """A test client that sends the CSRF token with every POST, as the site's pages do.

    Pass csrf=False to send a POST without it.
    """

    def open(self, *args, csrf: bool = True, **kwargs):
        # The `app` fixture keeps one app context for the whole test, so `g` outlives a
        # request; forget Flask-Login's cached user and Flask-WTF's cached token so each
        # request loads its own, as in a real request.
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("csrf_token", None)
        method = kwargs.get("method", "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """The signed token Flask-WTF expects for this client's session."""
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = os.urandom(20).hex()
                session["csrf_token"] = raw
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)


def make_test_app(url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "SERVER_NAME": None,
        # Factories write rows behind the services' back, so nothing would invalidate cached
        # pages: tests of the page cache (tests/test_pagecache.py) turn it on themselves.
        "PAGE_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = ForumClient
    return app


@pytest.fixture
def app_config():
    """Extra settings for the `app` fixture; override in a test module to change them."""
    return {}


@pytest.fixture
def database_url(database_factory, tmp_path):
    url = database_factory.create(tmp_path)
    yield url
    database_factory.drop(url)


@pytest.fixture
def app(database_url, app_config):
    app = make_test_app(database_url, **app_config)
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    """The factory functions of tests/factories.py, bound to the test's database."""
    return factories


@pytest.fixture
def member(app):
    return factories.make_user("mira_member")


@pytest.fixture
def disease(app):
    """Scleromyxedema, with its synonym Arndt-Gottron syndrome."""
    return factories.make_disease("Scleromyxedema")


@pytest.fixture
def question(disease):
    """Scleromyxedema's question "Is it hereditary?", no votes, no comments."""
    return factories.make_question(disease, "Is it hereditary?")


def session_for(user) -> dict:
    """The session a successful login leaves for `user`, with its login row recorded."""
    login_id = open_login(user, timedelta(days=31))
    db.session.commit()
    return {"_user_id": user.get_id(), "_fresh": True, LOGIN_ID_KEY: login_id}


def login(client: FlaskClient, user) -> None:
    """Log `user` in on `client` the way the login form would."""
    with client.session_transaction() as session:
        session.update(session_for(user))


@pytest.fixture
def member_client(client, member):
    """A client logged in as `member`."""
    login(client, member)
    return client


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """Context manager that records the SQL statements run inside it."""

    @contextmanager
    def counting():
        counter = QueryCounter()

        def record(conn, cursor, statement, *args):
            if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
                counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


HTMX = {"HX-Request": "true"}
