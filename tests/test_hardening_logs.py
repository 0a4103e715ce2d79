"""Database errors are logged without the values the request sent (emails, regions, titles):
the SQL statement may be logged, its parameters never. On SQLite and on PostgreSQL."""

from __future__ import annotations

import logging

from sqlalchemy import insert

from forum.extensions import db
from forum.models import User
from tests import backends, factories

backend_url = backends.backend_url
race_app = backends.race_app

SECRET_EMAIL = "private.person@example.org"
PAGE = "98765432109876543210"
OFFSET = str((int(PAGE) - 1) * 20)


def _logged(caplog) -> str:
    return "\n".join(
        record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        for record in caplog.records
    )


def test_a_value_the_database_refuses_is_logged_without_it(race_app, caplog):
    factories.make_disease("Scleromyxedema")
    client = race_app.test_client()

    with caplog.at_level(logging.INFO):
        response = client.get(f"/diseases/scleromyxedema/questions?page={PAGE}")

    assert response.status_code == 400
    logged = _logged(caplog)
    assert "a value the database cannot take" in logged
    assert OFFSET not in logged and "[parameters:" not in logged


def test_an_unexpected_database_error_is_logged_without_the_values(race_app, caplog):
    """A 500's traceback names the statement, never the email or name it carried."""
    factories.make_user("taken_name")
    race_app.config["PROPAGATE_EXCEPTIONS"] = False

    @race_app.get("/_test/clash")
    def clash():
        db.session.execute(
            insert(User).values(
                username="taken_name",
                username_key="taken_name",
                email=SECRET_EMAIL,
                password_hash="x",
                role="member",
                session_token="t",
            )
        )
        return "never"

    with caplog.at_level(logging.INFO):
        response = race_app.test_client().get("/_test/clash")

    assert response.status_code == 500
    logged = _logged(caplog)
    assert "Exception on /_test/clash" in logged  # the error itself is logged
    assert SECRET_EMAIL not in logged and "[parameters:" not in logged


def test_the_engine_hides_parameters(race_app):
    assert db.engine.hide_parameters is True
