"""Health checks for load balancers and deploy scripts: /healthz (alive) and /readyz (ready).

`/healthz` answers 200 when this process and its database answer, 503 otherwise. `/readyz`
adds what an instance needs before it takes traffic: Redis when REDIS_URL is set (the shared
rate-limit counts live there) and a database whose migrations are at this code's head. Both
answer quickly: each check has a short timeout, and neither loads a member or a session.
"""

from __future__ import annotations

import contextlib
import logging
from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from sqlalchemy import text

from forum.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Seconds a health query may take on PostgreSQL before the check says "unreachable".
STATEMENT_TIMEOUT_MS = 1500
REDIS_TIMEOUT_S = 1.0


@bp.get("/healthz")
def healthz():
    """200 when the database answers a query within a short timeout, else 503."""
    problem = database_problem()
    if problem:
        return _answer({"status": "error", "database": problem}, 503)
    return _answer({"status": "ok", "database": "ok"}, 200)


@bp.get("/readyz")
def readyz():
    """200 when the database, Redis (if configured) and the migrations are all as they should."""
    checks = {"database": database_problem() or "ok"}
    checks["redis"] = (redis_problem() or "ok") if current_app.config["REDIS_URL"] else "not used"
    database_ok = checks["database"] == "ok"
    checks["migrations"] = (migrations_problem() or "ok") if database_ok else "not checked"
    ready = all(value in ("ok", "not used") for value in checks.values())
    return _answer({"status": "ok" if ready else "error", **checks}, 200 if ready else 503)


def _answer(body: dict, status: int):
    # A health answer is about this moment: no cache may keep it.
    return body, status, {"Cache-Control": "no-store"}


def database_problem() -> str | None:
    """None when the database answers `SELECT 1`, else a short word for what failed."""
    try:
        if db.engine.dialect.name == "postgresql":
            # Only for this transaction: a stuck server fails the check instead of holding it.
            db.session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
        _rollback_quietly()
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return "unreachable"
    return None


def redis_problem() -> str | None:
    """None when the configured Redis answers PING within a second, else what failed."""
    try:
        _redis_client(current_app.config["REDIS_URL"]).ping()
    except Exception as exc:  # noqa: BLE001 - any Redis failure means "not ready"
        log.warning("readiness check: Redis unreachable (%s)", type(exc).__name__)
        return "unreachable"
    return None


def migrations_problem() -> str | None:
    """None when the database's Alembic revision is this code's head, else how it differs."""
    try:
        rows = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
        current = set(rows)
        db.session.rollback()
    except Exception:  # noqa: BLE001 - no alembic_version table: never migrated
        _rollback_quietly()
        return "not applied (run `flask --app forum db upgrade`)"
    heads = code_heads()
    if current == heads:
        return None
    known = _known_revisions()
    if current <= known:
        return "behind the code (run `flask --app forum db upgrade`)"
    return "ahead of the code (the database was migrated by a newer release)"


@cache
def code_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code (read once per process)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


@cache
def _known_revisions() -> frozenset[str]:
    return frozenset(
        script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    )


@cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )


def _rollback_quietly() -> None:
    with contextlib.suppress(Exception):  # the connection is already gone: nothing to undo
        db.session.rollback()
