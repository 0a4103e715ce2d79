"""Engine tuning: SQLite that survives several gunicorn workers, PostgreSQL that heals."""

from __future__ import annotations

import fcntl
import os
import time

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
            writers.take_turn(conn.info)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    writers = WriteTurns(engine.url.database, SQLITE_BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine, "checkin")
    def _sqlite_checkin(_dbapi_conn, record):
        writers.give_back(record.info)

    @event.listens_for(engine, "close")
    def _sqlite_close(_dbapi_conn, record):
        writers.forget(record.info)

    @event.listens_for(engine, "invalidate")
    def _sqlite_invalidate(_dbapi_conn, record, _exception):
        writers.forget(record.info)


class WriteTurns:
    """Writers to one SQLite file take turns through a file lock held from BEGIN IMMEDIATE
    until their connection goes back to the pool.

    SQLite's own busy handler makes a waiting writer sleep in growing steps (1, 2, 5, 10, 25,
    50, 100 ms...), so under several workers a writer can miss many turns while the others
    take them: seen as posts whose 99th percentile was over a second while the median was
    a few hundred milliseconds. Waiting on a file lock polled every millisecond, a writer goes
    next within a millisecond of the lock's release. After `timeout` seconds it stops waiting
    here and leaves the rest to SQLite's busy timeout, so a stuck holder cannot hang writers.
    An in-memory database has no file and no turns.
    """

    POLL_SECONDS = 0.001

    def __init__(self, database: str | None, timeout: float):
        self.path = f"{database}.writers" if database and database != ":memory:" else None
        self.timeout = timeout

    def take_turn(self, info: dict) -> None:
        if self.path is None or info.get("write_turn"):
            return
        fd = info.get("write_turn_fd")
        if fd is None:
            fd = info["write_turn_fd"] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(self.POLL_SECONDS)
        info["write_turn"] = True

    def give_back(self, info: dict) -> None:
        if info.pop("write_turn", False):
            fcntl.flock(info["write_turn_fd"], fcntl.LOCK_UN)

    def forget(self, info: dict) -> None:
        """The connection is closing: its turn ends with it."""
        self.give_back(info)
        fd = info.pop("write_turn_fd", None)
        if fd is not None:
            os.close(fd)
