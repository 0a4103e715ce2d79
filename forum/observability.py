"""Logs an operator can search: one JSON line per request and per error, tied by a request id.

Each request gets an id: the `X-Request-ID` a trusted proxy sends (only when PROXY_FIX says a
proxy sits in front), otherwise a fresh one. The id is sent back in the response's
`X-Request-ID` header and appears on every log line written while the request runs.

What is never logged: query string values, form fields, cookies, SQL parameters. A request
line names the path without its query; an error line names the exception's type and, for a
database error, only the first line of the driver's message (the lines after it can quote the
row's values).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import inspect
from sqlalchemy.exc import StatementError

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from a proxy are echoed into logs and headers: letters, digits and a few separators only.
TRUSTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_log = logging.getLogger("forum.requests")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


def exception_summary(exc: BaseException) -> str:
    """`Type: message`, with a database error cut to the driver's first line (no values)."""
    if isinstance(exc, StatementError):
        # str() of a StatementError carries the SQL and its parameters; the driver's own
        # message may add a DETAIL line quoting the row. Keep the first line of the latter.
        original = exc.orig if exc.orig is not None else exc
        first = (str(original).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__} ({type(original).__name__}): {first}"
    return f"{type(exc).__name__}: {exc}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, process id, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            entry["error"] = exception_summary(exc)
            entry["traceback"] = [
                line.rstrip("\n") for line in traceback.format_tb(exc.__traceback__)
            ]
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the root logger's records to stdout as JSON, unless something configured it first.

    gunicorn configures logging itself from gunicorn.conf.py (with the same formatter) before it
    loads the app; a test run or an embedding program keeps its own handlers too.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def _stamp_request_ids() -> None:
    """Make every log record created during a request carry that request's id.

    Stamped when the record is made, not when it is written, so a handler that writes later
    (or a test reading captured records) still sees the right id.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_ids", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        request_id = current_request_id()
        if request_id is not None:
            record.request_id = request_id
        return record

    factory.stamps_request_ids = True
    logging.setLogRecordFactory(factory)


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    if not has_request_context():
        return None
    return g.get("request_id")


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _incoming_request_id() or uuid.uuid4().hex


def _incoming_request_id() -> str | None:
    """The proxy's id for this request, when a trusted proxy is configured and the id is sane."""
    if not current_app.config.get("PROXY_FIX"):
        return None
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if TRUSTED_REQUEST_ID.fullmatch(value) else None


def _user_id() -> int | None:
    """The logged-in member's id if this request already loaded them, else None.

    Never loads the member for the log's sake: that would cost a query on every static file,
    and would fail during a database outage.
    """
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # The id from the session's identity map: a member expired by a commit is not reloaded.
    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return None


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before our before_request ran
        _start_request()
        request_id = g.request_id
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started", time.perf_counter())
    request_log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": _user_id(),
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Give every request an id and a log line; log errors as JSON when not testing."""
    _stamp_request_ids()
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    if not app.debug and not app.testing:
        configure_logging()
