"""The benchmark's data generator: the thread it promises, deterministic, idempotent."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.generate import BENCH_MEMBER, BENCH_PASSWORD, Size, generate

ROOT = Path(__file__).resolve().parents[1]
SMALL = Size(members=60, comment_authors=20, countries=8, questions=12, votes=150)
QUESTION = "what-are-the-latest-advances-in-scleromyxedema"


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def thread(path: Path) -> list[tuple]:
    return rows(
        path,
        "SELECT c.id, c.parent_id, c.depth, c.author_id, c.guest_name, c.body_md, c.created_at "
        "FROM comments c JOIN questions q ON q.id = c.question_id "
        f"WHERE q.slug = '{QUESTION}' ORDER BY c.id",
    )


@pytest.fixture
def generated(tmp_path):
    path = tmp_path / "bench.db"
    page = generate(f"sqlite:///{path}", comments=120, seed=3, size=SMALL)
    return path, page


def test_the_thread_has_the_promised_shape(generated):
    path, page = generated
    comments = thread(path)

    assert page == f"/diseases/scleromyxedema/questions/{QUESTION}"
    assert len(comments) == 120
    top_level = [c for c in comments if c[1] is None]
    assert 0.2 < len(top_level) / len(comments) < 0.3
    assert max(c[2] for c in comments) == 10  # a chain ten deep
    demo = 9  # the demo conversation the seed puts there first
    assert all(200 <= len(c[5]) <= 600 for c in comments[demo:])
    assert any(c[4] for c in comments)  # a few guests
    assert rows(
        path,
        "SELECT count(*), count(DISTINCT country) FROM map_entries "
        "JOIN users ON users.id = map_entries.user_id WHERE users.username LIKE 'bench_%'",
    ) == [(60, 8)]
    assert rows(
        path,
        "SELECT count(*) FROM votes WHERE user_id IN "
        "(SELECT id FROM users WHERE username LIKE 'bench_%')",
    ) == [(150,)]


def test_the_same_seed_gives_the_same_rows_and_a_second_run_adds_nothing(generated, tmp_path):
    path, _ = generated
    other = tmp_path / "again.db"
    generate(f"sqlite:///{other}", comments=120, seed=3, size=SMALL)
    # The same rows; only the seed's own demo comments are dated from today.
    demo = 10
    assert [c[:6] for c in thread(other)] == [c[:6] for c in thread(path)]
    assert thread(other)[demo:] == thread(path)[demo:]

    before = rows(path, "SELECT count(*) FROM comments UNION ALL SELECT count(*) FROM votes")
    generate(f"sqlite:///{path}", comments=120, seed=3, size=SMALL)
    assert rows(path, "SELECT count(*) FROM comments UNION ALL SELECT count(*) FROM votes") == (
        before
    )


def test_the_command_prints_the_page_path_last_and_the_member_can_log_in(generated, tmp_path):
    path, _ = generated
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "--database-url",
            f"sqlite:///{path}",
            "--comments",
            "130",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.strip().splitlines()[-1] == f"/diseases/scleromyxedema/questions/{QUESTION}"
    assert len(thread(path)) == 130

    from forum.auth.service import authenticate
    from tests.conftest import make_test_app

    app = make_test_app(f"sqlite:///{path}")
    with app.app_context():
        assert authenticate(BENCH_MEMBER, BENCH_PASSWORD) is not None
        from forum.extensions import db

        db.session.remove()
        db.engine.dispose()
