"""The guide's PostgreSQL backup and restore drill, run: pg_dump while comments are written,
pg_restore into a new database, and the site served from it."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Comment, Question
from tests import factories
from tests.conftest import make_test_app
from tests.servers import wait_for
from tests.test_backup import CommentWriter

pytestmark = [pytest.mark.ops, pytest.mark.slow, pytest.mark.postgres]


def test_pg_dump_during_writes_restores_every_comment_committed_before_it(
    private_postgres, pg_database, tmp_path
):
    app = make_test_app(pg_database)
    with app.app_context():
        question = factories.make_question(factories.make_disease(), "Is it hereditary?")
        app.config["QUESTION_ID"] = question.id
        db.session.remove()
    database = pg_database.rsplit("/", 1)[1]
    dump = tmp_path / "forum.dump"

    writer = CommentWriter(app)
    writer.start()
    try:
        wait_for(lambda: len(writer.snapshot()) >= 20 or writer.error, 30, "the first comments")
        before = writer.snapshot()
        subprocess.run(
            [
                str(private_postgres.bin / "pg_dump"),
                "--format=custom",
                f"--file={dump}",
                f"postgresql://postgres@127.0.0.1:{private_postgres.port}/{database}",
            ],
            check=True,
            capture_output=True,
        )
        during = writer.snapshot()
        wait_for(lambda: len(writer.snapshot()) > len(during) or writer.error, 30, "more writes")
    finally:
        writer.stopping.set()
        writer.join(timeout=30)
    assert writer.error is None
    committed = writer.snapshot()
    with app.app_context():
        db.engine.dispose()

    private_postgres.execute('CREATE DATABASE "forum_restore_drill"')
    try:
        subprocess.run(
            [
                str(private_postgres.bin / "pg_restore"),
                "--no-owner",
                f"--dbname=postgresql://postgres@127.0.0.1:{private_postgres.port}/"
                "forum_restore_drill",
                str(dump),
            ],
            check=True,
            capture_output=True,
        )
        restored = make_test_app(private_postgres.url("forum_restore_drill"))
        with restored.app_context():
            stored = list(db.session.scalars(select(Comment.id).order_by(Comment.id)))
            count = db.session.scalars(select(Question.comment_count)).one()
            client = restored.test_client()
            ready = client.get("/readyz")
            page = client.get(f"/comments/{before[-1]}")
            db.session.remove()
            db.engine.dispose()
    finally:
        private_postgres.execute('DROP DATABASE IF EXISTS "forum_restore_drill" WITH (FORCE)')

    print(
        f"\nFIGURE pg_dump: {len(before)} comments committed before the dump began, "
        f"{len(stored)} in the dump, {len(committed)} written in all"
    )
    assert set(before) <= set(stored)
    assert stored == committed[: len(stored)]
    assert count == len(stored)
    assert ready.status_code == 200
    assert page.status_code == 200
