"""One empty database per test: a file copy on SQLite, a template clone on PostgreSQL.

Safe with pytest-xdist: each worker process builds its own template, the SQLite one in that
worker's own temporary folder, the PostgreSQL one under a name that carries the worker's pid
(as do the databases cloned from it), so workers and engineers sharing a server never meet.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOW_TO_ENABLE = (
    "start PostgreSQL and run `DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test "
    "make test` to run the whole suite on it (or set TEST_POSTGRES_URL for the PostgreSQL-only "
    "tests)"
)


def suite_backend() -> str:
    """'postgresql' when DATABASE_URL points the suite at PostgreSQL, else 'sqlite'."""
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith("postgres") else "sqlite"


def postgres_server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at `url`, else the reason it does not."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


class SqliteFactory:
    """Builds the schema once into a template file and copies it for each test."""

    def __init__(self, workdir: Path, build_schema):
        self.template = workdir / "template.db"
        build_schema(f"sqlite:///{self.template}")

    def create(self, tmp_path: Path) -> str:
        target = tmp_path / "forum.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        """Files go with pytest's tmp_path."""

    def close(self) -> None:
        """Nothing to clean up beyond pytest's tmp_path."""


class PostgresFactory:
    """Builds the schema once into a template database and clones it for each test."""

    def __init__(self, server_url: str, build_schema):
        self.server = make_url(server_url)
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.prefix = f"forum_test_{os.getpid()}"
        self.template = f"{self.prefix}_tmpl"
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{self.template}"')
        build_schema(self.server.set(database=self.template).render_as_string(False))

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def create(self, tmp_path: Path) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.server.set(database=name).render_as_string(False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()
