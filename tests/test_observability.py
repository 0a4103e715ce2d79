"""Request logs: one JSON line per request and per error, a request id, nothing private."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import OperationalError

from forum import observability
from forum.observability import JsonFormatter
from tests.conftest import HTMX

SECRET_QUERY = "query-value-nobody-may-read"
SECRET_FORM = "form-text-nobody-may-read"


@pytest.fixture
def log_lines(caplog):
    """The JSON lines our formatter writes for everything logged during the test."""
    caplog.set_level(logging.INFO)
    formatter = JsonFormatter()
    return lambda: [json.loads(formatter.format(record)) for record in caplog.records]


def _request_lines(lines):
    return [line for line in lines if line["logger"] == "forum.requests"]


def test_each_request_gets_one_line_without_its_query_values(client, log_lines):
    response = client.get(f"/?q={SECRET_QUERY}")

    (line,) = _request_lines(log_lines())
    assert line["message"] == "request"
    assert line["method"] == "GET"
    assert line["path"] == "/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] is None
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert SECRET_QUERY not in json.dumps(log_lines())


def test_a_members_request_names_them_and_never_their_form(member_client, member, log_lines, make):
    question = make.make_question(make.make_disease(), "Is it hereditary?")

    response = member_client.post(
        f"/questions/{question.id}/comments", data={"body": f"{SECRET_FORM} in a comment"}
    )

    assert response.status_code == 303
    (line,) = _request_lines(log_lines())
    assert (line["method"], line["status"], line["user_id"]) == ("POST", 303, member.id)
    assert line["path"] == f"/questions/{question.id}/comments"
    assert SECRET_FORM not in json.dumps(log_lines())


def test_request_ids_are_new_for_every_request(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]

    assert first != second and len(first) == 32


def test_a_client_cannot_choose_its_request_id_without_a_trusted_proxy(client, log_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-client"})

    assert response.headers["X-Request-ID"] != "chosen-by-client"
    assert _request_lines(log_lines())[0]["request_id"] == response.headers["X-Request-ID"]


class TestBehindATrustedProxy:
    @pytest.fixture
    def app_config(self):
        return {"PROXY_FIX": 1}

    def test_the_proxys_request_id_is_kept_and_echoed(self, client, log_lines):
        response = client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c"})

        assert response.headers["X-Request-ID"] == "nginx-4f2a9c"
        assert _request_lines(log_lines())[0]["request_id"] == "nginx-4f2a9c"

    @pytest.mark.parametrize("bad", ["two words", "x" * 200, 'quote"and{brace}', ""])
    def test_a_malformed_request_id_is_replaced(self, client, bad):
        response = client.get("/healthz", headers={"X-Request-ID": bad})

        assert response.headers["X-Request-ID"] != bad
        assert len(response.headers["X-Request-ID"]) == 32


def test_an_error_writes_one_error_line_and_the_request_line(app, client, log_lines):
    @app.get("/boom")
    def boom():
        raise RuntimeError("something broke")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get(f"/boom?token={SECRET_QUERY}")

    assert response.status_code == 500
    lines = log_lines()
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["error"] == "RuntimeError: something broke"
    assert errors[0]["traceback"] and errors[0]["request_id"] == response.headers["X-Request-ID"]
    (request_line,) = _request_lines(lines)
    assert request_line["status"] == 500
    assert SECRET_QUERY not in json.dumps(lines)


def _database_down(*args, **kwargs):
    raise OperationalError(
        "SELECT users.id FROM users WHERE users.email = %(email)s",
        {"email": "private@example.org"},
        Exception(
            "connection to server failed: Connection refused\n"
            "DETAIL:  Key (email)=(private@example.org)"
        ),
    )


@pytest.fixture
def database_down(app, monkeypatch):
    """Every query fails as it would with the database server stopped."""
    from forum.extensions import db

    monkeypatch.setattr(db.session, "execute", _database_down)
    monkeypatch.setattr(db.session, "scalars", _database_down)
    monkeypatch.setattr(db.session, "scalar", _database_down)


def test_a_database_outage_answers_a_503_page_and_logs_no_values(client, database_down, log_lines):
    response = client.get("/")

    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert "<html" in html and "Temporarily unavailable" in html
    lines = log_lines()
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["message"].startswith("database unavailable: OperationalError")
    assert "Connection refused" in errors[0]["message"]
    assert "private@example.org" not in json.dumps(lines)
    assert _request_lines(lines)[0]["status"] == 503


def test_a_database_outage_answers_htmx_with_a_fragment(client, database_down):
    response = client.get("/?q=scler", headers=HTMX)

    assert response.status_code == 503
    assert "<html" not in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#htmx-alerts"


def test_a_logged_in_member_sees_the_503_page_too(member_client, database_down):
    response = member_client.get("/")

    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)


def test_lines_outside_a_request_are_json_too():
    record = logging.LogRecord("gunicorn.error", logging.INFO, "", 0, "Booting worker", (), None)

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "Booting worker" and line["level"] == "info"
    assert "request_id" not in line


def test_logging_a_members_request_costs_no_query(
    member_client, member, make, count_queries, monkeypatch
):
    question = make.make_question(make.make_disease(), "Is it hereditary?")
    member_id = member.id
    seen = []
    original = observability._user_id

    def counted():
        with count_queries() as queries:
            user_id = original()
        seen.append((user_id, queries.count))
        return user_id

    monkeypatch.setattr(observability, "_user_id", counted)
    response = member_client.post(f"/questions/{question.id}/comments", data={"body": "First."})

    # The member was loaded, then expired by the commit: the log reads the id without a query.
    assert response.status_code == 303
    assert seen == [(member_id, 0)]
