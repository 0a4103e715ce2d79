"""Votes stay true under load: bursts of votes against gunicorn with several workers.

Each test starts gunicorn on a free port of 127.0.0.1 against the test's own database
(SQLite file or PostgreSQL, whichever the suite runs on) and always stops it afterwards.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Question, Vote
from tests.conftest import session_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
WORKERS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A running gunicorn: its port and the log it writes."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(self, path: str, headers: dict[str, str]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", path, body="", headers={"Content-Length": "0", **headers})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


def _wait_until_healthy(server: Server, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer within {timeout} s:\n{server.log()}")


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    """gunicorn with several sync workers serving the test's database; stopped at the end."""
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "RATELIMIT_ENABLED": "false",
        "FORUM_ENV": "development",
        "REDIS_URL": "",
    }
    command = [
        str(GUNICORN),
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        # gunicorn 27 opens a control socket in the home directory by default; instances of
        # parallel test workers must not share one.
        "--no-control-socket",
        "wsgi:app",
    ]
    server = Server(port, log_path)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_healthy(server, process)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _auth_headers(app, user) -> dict[str, str]:
    """A signed session cookie for `user` holding a CSRF token, and that token's header."""
    raw = os.urandom(20).hex()
    session = {**session_for(user), "csrf_token": raw}
    cookie = app.session_interface.get_signing_serializer(app).dumps(session)
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    return {
        "Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}",
        "X-CSRFToken": token,
    }


def _burst(server: Server, path: str, header_sets: list[dict[str, str]]) -> list[int]:
    """Send one POST per header set, all released at the same moment; the statuses."""
    statuses: list[int | str] = [0] * len(header_sets)
    barrier = threading.Barrier(len(header_sets))

    def send(i: int) -> None:
        barrier.wait()
        try:
            statuses[i] = server.post(path, header_sets[i])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            statuses[i] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(header_sets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def _stored(question) -> tuple[int, int]:
    db.session.remove()
    rows = db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.question_id == question.id)
    )
    count = db.session.scalar(select(Question.vote_count).where(Question.id == question.id))
    db.session.remove()
    return rows, count


def _assert_clean_log(server: Server) -> None:
    log = server.log()
    assert "database is locked" not in log
    assert "Traceback" not in log and '"traceback"' not in log
    assert '"status": 500' not in log


@pytest.fixture
def voted(question):
    """The question's id and slug (plain values: the test ends its session before a burst)."""
    return QuestionRef(question.id, question.slug)


class QuestionRef:
    def __init__(self, id: int, slug: str):
        self.id = id
        self.slug = slug


def _vote_path(question) -> str:
    return f"/diseases/scleromyxedema/questions/{question.slug}/vote"


def test_fifty_members_voting_at_once_give_fifty_votes(app, make, voted, gunicorn):
    members = [make.make_user() for _ in range(50)]
    # Half vote through htmx (a 200 fragment), half as a plain form post (a 303).
    header_sets = [
        {**_auth_headers(app, user), **({"HX-Request": "true"} if i % 2 else {})}
        for i, user in enumerate(members)
    ]
    db.session.remove()

    statuses = _burst(gunicorn, _vote_path(voted), header_sets)

    assert Counter(statuses) == Counter({200: 25, 303: 25})
    assert _stored(voted) == (50, 50)
    _assert_clean_log(gunicorn)


def test_one_member_sending_twenty_votes_at_once_keeps_count_and_rows_equal(
    app, make, voted, gunicorn
):
    member = make.make_user()
    headers = {**_auth_headers(app, member), "HX-Request": "true"}
    db.session.remove()

    statuses = _burst(gunicorn, _vote_path(voted), [headers] * 20)

    assert Counter(statuses) == Counter({200: 20})
    rows, count = _stored(voted)
    assert rows == count
    assert rows in (0, 1)
    _assert_clean_log(gunicorn)
