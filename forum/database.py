"""Engine tuning: SQLite that survives several gunicorn workers, PostgreSQL that heals."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 15_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine, connect_timeout: int = 2) -> None:
    """Install the per-connection settings the engine's dialect needs."""
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "do_connect")
        def _postgres_connect(_dialect, _record, _cargs, cparams):
            # An unreachable server fails within seconds (a 503 page), not after minutes of
            # TCP retries; a connect_timeout in DATABASE_URL wins.
            cparams.setdefault("connect_timeout", connect_timeout)

        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_conn, _record):
        # Hand transaction control to SQLAlchemy so _sqlite_begin can take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A deferred transaction that reads then writes must upgrade its lock, and that upgrade
        # fails at once with "database is locked" whatever the busy timeout. Taking the write
        # lock at BEGIN makes concurrent writers queue on the busy timeout instead. Safe
        # requests never write (no state changes on GET), so they start a plain read
        # transaction that WAL runs beside a writer; so does work outside a request (CLI,
        # tests), which must not hold the write lock while it merely reads.
        if has_request_context() and request.method not in SAFE_METHODS:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
