"""Host and proxy headers: only configured hosts are served, redirects never name another host,
and behind a proxy only the headers the operator says it sets are believed."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import request

from forum import config
from forum.extensions import db
from tests.conftest import HTMX, make_test_app

EVIL = "evil.example"


@pytest.fixture
def make_app(database_url, make):
    """Builds app instances on the test's database (a disease exists); closes them after."""
    make.make_disease("Scleromyxedema")
    apps = []

    def build(**overrides):
        app = make_test_app(database_url, **overrides)

        @app.get("/_test/where")
        def where():
            return {"host": request.host, "scheme": request.scheme, "addr": request.remote_addr}

        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("TRUSTED_HOSTS", "PROXY_FIX", "PROXY_FIX_HOST", "FORUM_ENV", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_trusted_hosts_come_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("TRUSTED_HOSTS", " forum.example, www.forum.example ,")
    assert config.load(str(tmp_path))["TRUSTED_HOSTS"] == ["forum.example", "www.forum.example"]


def test_without_the_setting_only_local_names_are_served(clean_env, tmp_path):
    """The default suits `make run` and the tests; a deployment names its own hosts."""
    assert config.load(str(tmp_path))["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1", "::1"]


def test_a_star_serves_any_host_when_the_operator_says_so(clean_env, tmp_path):
    clean_env.setenv("TRUSTED_HOSTS", "*")
    assert config.load(str(tmp_path))["TRUSTED_HOSTS"] is None


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    "path", ["/", "/diseases//scleromyxedema", "/diseases/scleromyxedema", "/account", "/nowhere"]
)
def test_another_host_is_refused_with_a_plain_400(make_app, path, htmx):
    client = make_app(TRUSTED_HOSTS=["forum.example"]).test_client()
    headers = {"Host": EVIL, **(HTMX if htmx else {})}

    response = client.get(path, headers=headers)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert EVIL not in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_configured_host_is_served_with_any_port(make_app):
    client = make_app(TRUSTED_HOSTS=["forum.example"]).test_client()
    assert client.get("/", headers={"Host": "forum.example:8443"}).status_code == 200


def test_the_default_settings_refuse_another_host(client, make):
    """The test app runs on the defaults: localhost is served, evil.example is not."""
    make.make_disease("Scleromyxedema")
    assert client.get("/diseases/scleromyxedema").status_code == 200
    refused = client.get("/diseases//scleromyxedema", headers={"Host": EVIL})
    assert refused.status_code == 400
    assert EVIL not in refused.headers.get("Location", "")


@pytest.mark.parametrize(
    "path, target",
    [
        ("/diseases//scleromyxedema", "/diseases/scleromyxedema"),
        (
            "/diseases/scleromyxedema//questions?sort=new",
            "/diseases/scleromyxedema/questions?sort=new",
        ),  # noqa: E501
        ("/account", "/login?next=/account&why=account"),
    ],
)
def test_redirects_are_relative_whatever_the_host(make_app, path, target):
    """Even where any host is served (TRUSTED_HOSTS=*), a redirect never names the host."""
    client = make_app(TRUSTED_HOSTS=None).test_client()

    response = client.get(path, headers={"Host": EVIL})

    assert 300 <= response.status_code < 400
    location = response.headers["Location"]
    assert not urlsplit(location).netloc, location
    assert location.replace("%2F", "/") == target


def test_behind_a_proxy_for_and_proto_are_believed_but_not_host(make_app):
    client = make_app(PROXY_FIX=1, TRUSTED_HOSTS=["forum.example"]).test_client()
    headers = {
        "Host": "forum.example",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": EVIL,
    }

    seen = client.get("/_test/where", headers=headers).get_json()

    assert seen == {"host": "forum.example", "scheme": "https", "addr": "203.0.113.7"}


def test_the_forwarded_host_is_believed_only_when_configured(make_app):
    app = make_app(PROXY_FIX=1, PROXY_FIX_HOST=True, TRUSTED_HOSTS=["forum.example"])
    client = app.test_client()
    headers = {"Host": "127.0.0.1:8000", "X-Forwarded-Host": "forum.example"}
    assert client.get("/_test/where", headers=headers).get_json()["host"] == "forum.example"
    # A forwarded host that is not configured is refused like a Host header would be.
    headers["X-Forwarded-Host"] = EVIL
    assert client.get("/_test/where", headers=headers).status_code == 400


def test_proxy_fix_host_is_read_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("PROXY_FIX", "1")
    clean_env.setenv("PROXY_FIX_HOST", "1")
    settings = config.load(str(tmp_path))
    assert settings["PROXY_FIX"] == 1 and settings["PROXY_FIX_HOST"] is True
