"""/healthz says the process and database answer; /readyz adds Redis and the migrations."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade

from forum.extensions import db
from forum.health import code_heads
from tests.conftest import make_test_app
from tests.servers import free_port


@pytest.fixture
def migrated_app(tmp_path):
    """An app over a SQLite database built by the migrations (so it has alembic_version)."""

    def build(**overrides):
        app = make_test_app(f"sqlite:///{tmp_path / 'migrated.db'}", **overrides)
        with app.app_context():
            upgrade()
            db.session.remove()
        return app

    apps = []
    yield lambda **overrides: apps.append(build(**overrides)) or apps[-1]
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_on_a_migrated_database_without_redis(migrated_app):
    response = migrated_app().test_client().get("/readyz")

    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "redis": "not used",
        "migrations": "ok",
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_not_ready_when_the_migrations_were_never_run(client):
    # The test database is built from the models directly, without Alembic.
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json["migrations"].startswith("not applied")
    assert response.json["database"] == "ok"


def test_readyz_is_not_ready_when_the_database_is_behind_the_code(migrated_app):
    app = migrated_app()
    with app.app_context():
        downgrade(revision="-1")  # the latest migration undone
        db.session.remove()

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["migrations"].startswith("behind the code")


def test_readyz_is_not_ready_when_the_database_is_ahead_of_the_code(migrated_app):
    app = migrated_app()
    with app.app_context():
        db.session.execute(db.text("UPDATE alembic_version SET version_num = 'from_the_future'"))
        db.session.commit()

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["migrations"].startswith("ahead of the code")


def test_readyz_is_not_ready_when_redis_does_not_answer(migrated_app):
    # Nothing listens on a port just found free: the connection is refused at once.
    app = migrated_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["redis"] == "unreachable"
    assert response.json["database"] == response.json["migrations"] == "ok"


def test_both_checks_fail_when_the_database_does(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(db.session, "execute", broken)

    health = client.get("/healthz")
    ready = client.get("/readyz")

    assert health.status_code == ready.status_code == 503
    assert health.json == {"status": "error", "database": "unreachable"}
    assert ready.json["database"] == "unreachable"
    assert ready.json["migrations"] == "not checked"


def test_there_is_exactly_one_migration_head():
    assert len(code_heads()) == 1


class _Stop(Exception):
    pass


def test_a_postgresql_connection_gives_up_after_the_configured_timeout(monkeypatch):
    from sqlalchemy import event

    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "3")
    app = make_test_app("postgresql+psycopg://forum@127.0.0.1:1/forum")
    seen = {}

    def capture(dialect, record, cargs, cparams):
        seen.update(cparams)
        raise _Stop

    with app.app_context():
        event.listen(db.engine, "do_connect", capture)
        with pytest.raises(_Stop):
            db.engine.connect()
        db.engine.dispose()

    assert seen["connect_timeout"] == 3
