"""The security baseline: CSRF, headers, cookies, Cache-Control, rate limits and the proxy rule."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import redis
from sqlalchemy import func, select

from forum import config
from forum.auth.passwords import verify_password
from forum.extensions import db, limiter
from forum.models import User
from tests.conftest import HTMX, login, make_test_app
from tests.factories import PASSWORD
from tests.html import attr, elements

NEW_PASSWORD = "plum tree under snow"
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def make_app(database_url):
    """Builds extra app instances on the test's database; closes their connections after."""
    apps = []

    def build(**overrides):
        app = make_test_app(database_url, **overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def is_logged_in(client) -> bool:
    return "Signed in as" in client.get("/").get_data(as_text=True)


# --- CSRF ----------------------------------------------------------------------------------


def _signup(client, **kw):
    return client.post("/signup", data={"username": "rosa", "password": NEW_PASSWORD}, **kw)


def _login(client, **kw):
    return client.post("/login", data={"username": "mira_member", "password": PASSWORD}, **kw)


def _logout(client, **kw):
    return client.post("/logout", **kw)


def _password(client, **kw):
    return client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, **kw
    )


def _delete(client, **kw):
    return client.post("/account/delete", data={"password": PASSWORD}, **kw)


def _email(client, **kw):
    return client.post("/account/email", data={"email": "mira@example.org"}, **kw)


# Each action, whether it needs a logged-in member, and how to see that nothing changed.
ACTIONS = {
    "signup": (
        _signup,
        False,
        lambda member, client: user_count() == 1 and not is_logged_in(client),
    ),
    "login": (_login, False, lambda member, client: not is_logged_in(client)),
    "logout": (_logout, True, lambda member, client: is_logged_in(client)),
    "password": (
        _password,
        True,
        lambda member, client: verify_password(
            db.session.get(User, member.id).password_hash, PASSWORD
        ),
    ),
    "delete": (_delete, True, lambda member, client: db.session.get(User, member.id) is not None),
    "email": (_email, True, lambda member, client: db.session.get(User, member.id).email is None),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_state_changing_posts_need_a_valid_csrf_token(client, member, action, token):
    post, needs_login, unchanged = ACTIONS[action]
    if needs_login:
        login(client, member)
    kwargs = {"csrf": False}
    if token == "forged":
        kwargs["headers"] = {"X-CSRFToken": "IjAwMDAi.forged.signature"}

    response = post(client, **kwargs)

    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    db.session.expire_all()
    assert unchanged(member, client)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_same_posts_succeed_with_the_token(client, member, action):
    post, needs_login, unchanged = ACTIONS[action]
    if needs_login:
        login(client, member)
    response = post(client)
    assert response.status_code == 303
    db.session.expire_all()
    assert not unchanged(member, client)


def test_every_form_carries_the_token_and_body_carries_it_for_htmx(member_client):
    html = member_client.get("/account").get_data(as_text=True)
    forms = elements(html, 'form[method="post"]')
    assert len(forms) == 4  # logout, change password, change email, delete account
    for form in forms:
        assert form.select('input[name="csrf_token"][value]')
    assert json.loads(attr(html, "body", "hx-headers"))["X-CSRFToken"]


@pytest.mark.parametrize(
    "url", ["/logout", "/account/password", "/account/email", "/account/delete"]
)
def test_no_state_change_on_get(member_client, url):
    response = member_client.get(url)
    assert response.status_code == 405
    assert is_logged_in(member_client)


# --- headers -------------------------------------------------------------------------------


def _check_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src.strip() == "'self'"  # no inline script, no eval
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/", {}),
        ("/?q=x", HTMX),  # a fragment
        ("/login", {}),
        ("/no/such/page", {}),  # error page
        ("/no/such/page", HTMX),  # error fragment
        ("/static/css/site.css", {}),
    ],
)
def test_security_headers_on_every_kind_of_response(client, url, headers):
    response = client.get(url, headers=headers)
    _check_security_headers(response)
    response.close()


def test_security_headers_on_rate_limited_responses(client, app):
    app.config["RATELIMIT_LOGIN_IP"] = "1 per minute"
    client.post("/login", data={"username": "a", "password": "b"})
    response = client.post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 429
    _check_security_headers(response)


def test_pages_have_no_inline_script(client, member):
    for url in ("/", "/login", "/signup"):
        html = client.get(url).get_data(as_text=True)
        for script in elements(html, "script"):
            assert script.get("src", "").startswith("/static/") and not script.string, script
        for element in elements(html, "*"):  # no inline event handlers
            assert not [name for name in element.attrs if name.startswith("on")], element


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_https_turns_on_hsts_and_secure_cookies(make_app, monkeypatch, make, tmp_path):
    monkeypatch.setenv("FORUM_HTTPS", "true")
    settings = config.load(str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    app = make_app(FORUM_HTTPS=True, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    with app.app_context():
        make.make_user("mira_member")
        response = _login(client, base_url="https://localhost")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_httponly_and_samesite_lax(client, member):
    response = _login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development: a Secure cookie would be lost


# --- Cache-Control -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/account", "/account/export", "/members/mira_member"])
def test_private_pages_are_never_stored(member_client, url):
    response = member_client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_someone_elses_profile_is_private_but_storable(member_client, make):
    make.make_user("other_member")
    response = member_client.get("/members/other_member")
    assert response.headers["Cache-Control"] == "private"


def test_anonymous_public_pages_are_not_marked_private(client, make):
    make.make_user("other_member")
    assert "Cache-Control" not in client.get("/members/other_member").headers


def test_private_page_with_password_error_is_not_stored(member_client):
    response = member_client.post(
        "/account/password", data={"current_password": "wrong one", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "no-store"


# --- rate limits ---------------------------------------------------------------------------


def _failed_login(client, username="mira_member", ip="127.0.0.1", headers=None):
    return client.post(
        "/login",
        data={"username": username, "password": "wrong guess"},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers or {},
    )


def test_login_is_limited_per_ip(client, app, member):
    app.config["RATELIMIT_LOGIN_IP"] = "3 per minute"
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "100 per minute"
    for n in range(3):
        assert _failed_login(client, username=f"guess{n}").status_code == 422

    limited = _failed_login(client, username="mira_member")
    assert limited.status_code == 429
    # Another address is not held back by this one.
    assert _failed_login(client, username="guess9", ip="10.0.0.9").status_code == 422


def test_login_is_limited_per_account_across_addresses(client, app, member):
    """For browsers that never logged in to the account (tests/test_login_lockout.py has the
    owner's browsers, which pass)."""
    app.config["RATELIMIT_LOGIN_IP"] = "100 per minute"
    app.config["RATELIMIT_LOGIN_ACCOUNT_UNTRUSTED"] = "3 per minute"
    for n in range(3):
        assert _failed_login(client, ip=f"10.0.0.{n}").status_code == 422

    # The same account, written differently, from yet another address: still limited.
    limited = _failed_login(client, username=" MIRA_Member ", ip="10.0.0.99")
    assert limited.status_code == 429
    # Even the right password waits: the guesser must not learn it was right.
    right = client.post(
        "/login",
        data={"username": "mira_member", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.100"},
    )
    assert right.status_code == 429
    assert not is_logged_in(client)
    # Other accounts are not affected.
    assert _failed_login(client, username="someone_else", ip="10.0.0.98").status_code == 422


def test_rate_limited_page_says_why_and_when_to_retry(client, app):
    app.config["RATELIMIT_LOGIN_IP"] = "1 per minute"
    _failed_login(client)

    response = _failed_login(client)

    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "<html" in html
    assert "Too many login attempts." in html and "Please wait" in html
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60


def test_rate_limited_htmx_request_gets_a_fragment(client, app):
    app.config["RATELIMIT_LOGIN_IP"] = "1 per minute"
    _failed_login(client)

    response = _failed_login(client, headers=HTMX)

    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Too many login attempts." in html
    assert int(response.headers["Retry-After"]) > 0


# That htmx shows error responses at all is a browser matter: tests/e2e/test_errors.py.


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status"),
    [
        ("get", "/diseases/no-such-disease", {}, 404),
        ("post", "/login", {"csrf": False, "data": {"username": "a", "password": "b"}}, 400),
    ],
)
def test_htmx_error_fragments_go_to_the_alert_region(client, method, url, kwargs, status):
    """The element that asked keeps its place (and the text typed in it); the message shows."""
    response = getattr(client, method)(url, headers=HTMX, **kwargs)

    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#htmx-alerts"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert "<html" not in response.get_data(as_text=True)


def test_csrf_failure_says_what_happened(client):
    response = client.post("/login", data={"username": "a", "password": "b"}, csrf=False)
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)


def test_signups_are_limited_per_ip_and_only_created_accounts_count(client, app):
    app.config["RATELIMIT_SIGNUP"] = "2 per hour"
    assert client.post("/signup", data={"username": "x", "password": "x"}).status_code == 422
    for name in ("rosa", "lena"):
        client.post("/logout")
        response = client.post("/signup", data={"username": name, "password": NEW_PASSWORD})
        assert response.status_code == 303

    client.post("/logout")
    response = client.post("/signup", data={"username": "third", "password": NEW_PASSWORD})

    assert response.status_code == 429
    assert "Too many new accounts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers
    assert user_count() == 2


def test_forwarded_for_is_ignored_by_default(client, app):
    app.config["RATELIMIT_LOGIN_IP"] = "2 per minute"
    for n in range(2):
        _failed_login(client, username=f"g{n}", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    spoofed = _failed_login(client, username="g9", headers={"X-Forwarded-For": "203.0.113.77"})
    assert spoofed.status_code == 429


def test_forwarded_for_is_used_when_the_proxy_setting_is_on(make_app):
    app = make_app(PROXY_FIX=1, RATELIMIT_LOGIN_IP="2 per minute")
    client = app.test_client()
    with app.app_context():
        for n in range(2):
            assert (
                _failed_login(
                    client, username=f"g{n}", headers={"X-Forwarded-For": "203.0.113.1"}
                ).status_code
                == 422
            )
        assert (
            _failed_login(
                client, username="g8", headers={"X-Forwarded-For": "203.0.113.1"}
            ).status_code
            == 429
        )
        assert (
            _failed_login(
                client, username="g9", headers={"X-Forwarded-For": "203.0.113.2"}
            ).status_code
            == 422
        )


def test_rate_limiting_can_be_switched_off(make_app, monkeypatch, tmp_path):
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    assert config.load(str(tmp_path))["RATELIMIT_ENABLED"] is False
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN_IP="1 per minute")
    client = app.test_client()
    with app.app_context():
        for _ in range(3):
            assert _failed_login(client).status_code == 422


def test_limits_are_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RATELIMIT_LOGIN_IP", "7 per minute")
    monkeypatch.setenv("RATELIMIT_LOGIN_ACCOUNT", "4 per minute")
    monkeypatch.setenv("RATELIMIT_SIGNUP", "9 per day")
    settings = config.load(str(tmp_path))
    assert settings["RATELIMIT_LOGIN_IP"] == "7 per minute"
    assert settings["RATELIMIT_LOGIN_ACCOUNT"] == "4 per minute"
    assert settings["RATELIMIT_SIGNUP"] == "9 per day"


def test_storage_is_memory_without_redis_url(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_storage_is_redis_when_redis_url_is_set(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    assert config.load(str(tmp_path))["RATELIMIT_STORAGE_URI"] == REDIS_URL


def _redis_reachable() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        return False
    return True


def test_two_app_instances_share_one_count_in_redis(make_app):
    if not _redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings = dict(
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_LOGIN_IP="2 per minute",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
    )
    first = make_app(**settings)
    with first.app_context():
        assert type(limiter.storage).__name__ == "RedisStorage"
        for n in range(2):
            assert _failed_login(first.test_client(), username=f"g{n}").status_code == 422
    # A second instance (as another gunicorn worker would be) starts with its own storage
    # object; only a shared Redis can tell it about the first one's attempts.
    second = make_app(**settings)
    with second.app_context():
        assert _failed_login(second.test_client(), username="g9").status_code == 429
        limiter.reset()
