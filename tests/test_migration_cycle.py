"""Migrations on a database full of demo data: upgrade, downgrade to nothing, upgrade again.

One head only, every downgrade works on real rows, and the demo content loads into the rebuilt
schema exactly as it did the first time.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import DateTime, create_engine, inspect, make_url, select, text

from forum.extensions import db
from forum.health import code_heads
from forum.seed import load_demo_content
from tests.conftest import make_test_app

CONTENT = Path(__file__).resolve().parents[1] / "content"


# Fresh random secrets for every member, by design: never the same twice.
RANDOM_COLUMNS = {("users", "session_token")}


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table in primary-key order, without timestamps and random secrets.

    Timestamps are left out: the demo content dates things relative to the moment it loads.
    """
    snapshot = {}
    for table in db.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if not isinstance(c.type, DateTime) and (table.name, c.name) not in RANDOM_COLUMNS
        ]
        order = list(table.primary_key.columns)
        rows = db.session.execute(select(*columns).order_by(*order)).all()
        snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


def _cycle(url: str) -> None:
    app = make_test_app(url)
    with app.app_context():
        upgrade()
        first_report = load_demo_content(CONTENT)
        db.session.commit()
        first = _snapshot()
        db.session.remove()  # end the read transaction: its snapshot would outlive the downgrade
        assert sum(len(rows) for rows in first.values()) > 300  # really full of data

        downgrade(revision="base")
        with db.engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"alembic_version"}
            versions = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar()
        assert left == set()
        assert versions == 0

        upgrade()
        second_report = load_demo_content(CONTENT)
        db.session.commit()
        second = _snapshot()
        db.session.remove()
        db.engine.dispose()

    assert str(second_report) == str(first_report)
    assert second == first


def test_one_migration_head():
    assert len(code_heads()) == 1


def test_upgrade_downgrade_upgrade_on_demo_data_sqlite(tmp_path):
    _cycle(f"sqlite:///{tmp_path / 'cycle.db'}")


@pytest.mark.postgres
def test_upgrade_downgrade_upgrade_on_demo_data_postgres(postgres_url):
    server = make_url(postgres_url)
    name = f"forum_cycle_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _cycle(server.set(database=name).render_as_string(False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
