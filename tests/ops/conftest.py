"""Fixtures for the operations tests: a private PostgreSQL, Redis, nginx, gunicorn instances."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade

from forum.extensions import db
from tests.conftest import make_test_app
from tests.servers import (
    ROOT,
    Gunicorn,
    PrivatePostgres,
    RedisServer,
    require_postgres_bin,
    require_redis_server,
)

TEMPLATE_DATABASE = "forum_ops_template"
# The secret make_test_app signs with, so headers made in the test process are valid.
SECRET = "test-secret-key"


@pytest.fixture(scope="session")
def private_postgres():
    """A PostgreSQL server of the session's own, with a migrated template database."""
    bin_dir = require_postgres_bin()
    server = PrivatePostgres(bin_dir)
    try:
        server.start()
        server.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
        app = make_test_app(server.url(TEMPLATE_DATABASE))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_database(private_postgres):
    """The URL of a fresh, migrated database on the private server; dropped afterwards."""
    name = f"forum_ops_{uuid.uuid4().hex[:10]}"
    private_postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    yield private_postgres.url(name)
    if private_postgres.accepts_connections():
        private_postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on a free port, stopped at the end."""
    executable = require_redis_server()
    server = RedisServer(executable, tmp_path / "redis.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_gunicorn(tmp_path):
    """Start gunicorn instances with settings of the test's choosing; all stopped at the end."""
    started: list[Gunicorn] = []

    def start(
        env: dict[str, str], workers: int = 2, name: str | None = None, config: Path | None = None
    ) -> Gunicorn:
        name = name or f"gunicorn-{len(started) + 1}"
        server = Gunicorn(
            env={"SECRET_KEY": SECRET, **env},
            log_path=tmp_path / f"{name}.log",
            workers=workers,
        )
        if config is not None:
            server.config = config
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def traced_config(folder: Path) -> tuple[Path, Path]:
    """gunicorn.conf.py plus a pre_request hook that notes each request a worker begins.

    Gives the config file and the file of notes: one line per request, the worker's pid and
    the request's X-Request-ID.
    """
    notes = folder / "started.txt"
    notes.touch()
    config = folder / "gunicorn_traced.conf.py"
    config.write_text(
        f"exec(compile(open({str(ROOT / 'gunicorn.conf.py')!r}).read(), 'gunicorn.conf.py', "
        "'exec'))\n\n\n"
        "def pre_request(worker, req):\n"
        "    ids = [value for name, value in req.headers if name == 'X-REQUEST-ID']\n"
        f"    with open({str(notes)!r}, 'a') as notes:\n"
        "        notes.write(f'{worker.pid} {ids[0] if ids else \"-\"}\\n')\n"
    )
    return config, notes


def started_requests(notes: Path) -> dict[str, int]:
    """Request id -> the pid of the worker that began it, from traced_config's notes."""
    begun = {}
    for line in notes.read_text().splitlines():
        pid, _, request_id = line.partition(" ")
        begun[request_id] = int(pid)
    return begun
