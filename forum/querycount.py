"""SQL queries per request in an `X-Query-Count` header, for the benchmark only.

Off unless QUERY_COUNT_HEADER is set (the benchmark sets it); a production server never
counts. Transaction control (BEGIN, COMMIT, ...) is not a query and is not counted.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event

from forum.extensions import db

HEADER = "X-Query-Count"
_NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def note_query() -> None:
    """Count a statement run on a DBAPI connection directly, which engine events do not see."""
    if has_request_context() and current_app.config.get("QUERY_COUNT_HEADER"):
        g.query_count = g.get("query_count", 0) + 1


def register(app: Flask) -> None:
    """Count each request's statements when the app's QUERY_COUNT_HEADER setting is on."""
    if not app.config.get("QUERY_COUNT_HEADER"):
        return

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, *args):
        if has_request_context() and not statement.lstrip().upper().startswith(_NOT_QUERIES):
            g.query_count = g.get("query_count", 0) + 1

    @app.after_request
    def _header(response):
        response.headers[HEADER] = str(g.get("query_count", 0))
        return response
