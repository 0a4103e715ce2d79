"""`flask --app forum backup PATH`: a consistent copy of a live SQLite database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from forum.comments.service import place_comment
from forum.extensions import db
from forum.models import Question
from tests import factories
from tests.conftest import make_test_app
from tests.servers import wait_for

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"


@pytest.fixture
def live_site(tmp_path):
    """A migrated SQLite database with one question, and its app."""
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        question = factories.make_question(factories.make_disease(), "Is it hereditary?")
        app.config["QUESTION_ID"] = question.id
        db.session.remove()
    yield app, url
    with app.app_context():
        db.engine.dispose()


class CommentWriter(threading.Thread):
    """Posts comment after comment, each in its own transaction, noting each committed id."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app = app
        self.committed: list[int] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            with self.app.app_context():
                question_id = self.app.config["QUESTION_ID"]
                n = 0
                while not self.stopping.is_set():
                    n += 1
                    comment = place_comment(
                        question_id, None, f"Comment number {n}.", guest_name="Writer"
                    )
                    db.session.commit()
                    with self.lock:
                        self.committed.append(comment.id)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def snapshot(self) -> list[int]:
        with self.lock:
            return list(self.committed)


def _backup_command(url: str, target: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "backup-test", "REDIS_URL": ""}
    return subprocess.run(
        [str(FLASK), "--app", "forum", "backup", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_backup_taken_while_comments_are_written_holds_all_committed_before_it(
    live_site, tmp_path
):
    app, url = live_site
    writer = CommentWriter(app)
    writer.start()
    try:
        wait_for(lambda: len(writer.snapshot()) >= 20 or writer.error, 30, "the first comments")
        before = writer.snapshot()
        result = _backup_command(url, tmp_path / "backup.db")
        during = writer.snapshot()
        wait_for(lambda: len(writer.snapshot()) > len(during) or writer.error, 30, "more writes")
    finally:
        writer.stopping.set()
        writer.join(timeout=30)
    assert writer.error is None
    committed = writer.snapshot()

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Backed up ")
    # The writer was never held up: it went on committing while the command ran.
    assert len(during) > len(before)

    backup = sqlite3.connect(tmp_path / "backup.db")
    try:
        assert backup.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert backup.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        stored = [row[0] for row in backup.execute("SELECT id FROM comments ORDER BY id")]
        (count,) = backup.execute("SELECT comment_count FROM questions").fetchone()
    finally:
        backup.close()
    # Every comment committed before the backup began is in it; what it holds is exactly the
    # first comments in commit order (one moment's snapshot), and the counter agrees.
    assert set(before) <= set(stored)
    assert stored == committed[: len(stored)]
    assert count == len(stored)
    print(
        f"\nFIGURE backup: {len(before)} comments committed before the backup began, "
        f"{len(stored)} in the backup, {len(committed)} written in all"
    )

    # The restore drill: the copy, put in place, serves the site with every comment.
    restored = tmp_path / "restored.db"
    shutil.copyfile(tmp_path / "backup.db", restored)
    restored_app = make_test_app(f"sqlite:///{restored}")
    with restored_app.app_context():
        question = db.session.scalars(select(Question)).one()
        assert question.comment_count == len(stored)
        client = restored_app.test_client()
        assert client.get("/readyz").status_code == 200
        # The last comment committed before the backup began has its page.
        page = client.get(f"/comments/{before[-1]}")
        assert page.status_code == 200
        assert f"Comment number {len(before)}." in page.get_data(as_text=True)
        db.engine.dispose()


def test_backup_refuses_to_overwrite_a_file(live_site, tmp_path):
    app, _url = live_site
    target = tmp_path / "exists.db"
    target.write_text("an earlier backup")

    result = app.test_cli_runner().invoke(args=["backup", str(target)])

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_text() == "an earlier backup"


def test_backup_of_a_postgresql_database_points_to_pg_dump(tmp_path):
    app = make_test_app("postgresql+psycopg://forum:s3cret-pw@db.internal:5432/forum")
    target = tmp_path / "forum.dump"

    result = app.test_cli_runner().invoke(args=["backup", str(target)])

    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.output
    assert "postgresql://forum:***@db.internal:5432/forum" in result.output
    assert "s3cret-pw" not in result.output
    assert not target.exists()
