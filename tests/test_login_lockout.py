"""Strangers cannot lock a member out, and guessing one account stays slow.

Three limits count failed logins of one account (OWASP's device-cookie pattern):
- per account and address (RATELIMIT_LOGIN_ACCOUNT): one address guessing one account;
- per account from browsers that never logged in to it (RATELIMIT_LOGIN_ACCOUNT_UNTRUSTED):
  guessing from many addresses;
- per device cookie (RATELIMIT_LOGIN_DEVICE), a looser limit for a browser that has logged in
  to that account before: it passes the other two, so the owner still gets in.
"""

from __future__ import annotations

import pytest

from forum.auth import devices
from tests.conftest import HTMX
from tests.factories import PASSWORD

WRONG = "not the password at all"


@pytest.fixture
def limits(app):
    app.config.update(
        RATELIMIT_LOGIN_IP="100 per minute",
        RATELIMIT_LOGIN_ACCOUNT="3 per minute",
        RATELIMIT_LOGIN_ACCOUNT_UNTRUSTED="5 per hour",
        RATELIMIT_LOGIN_DEVICE="4 per hour",
    )
    return app


def attempt(client, password: str, ip: str, username: str = "mira_member", **kwargs):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        **kwargs,
    )


def logged_in(response) -> bool:
    return response.status_code in (204, 303)


def log_out(client) -> None:
    assert client.post("/logout").status_code in (204, 303)


def test_failures_from_one_address_do_not_stop_the_owner_at_another(app, limits, member):
    stranger = app.test_client()
    for _ in range(3):
        assert attempt(stranger, WRONG, "10.0.0.1").status_code == 422
    assert attempt(stranger, WRONG, "10.0.0.1").status_code == 429
    # Even the right password waits at that address: the guesser learns nothing.
    assert attempt(stranger, PASSWORD, "10.0.0.1").status_code == 429

    owner = app.test_client()
    assert logged_in(attempt(owner, PASSWORD, "192.0.2.50"))


def test_guessing_one_account_from_many_addresses_stays_slow(app, limits, member):
    for n in range(5):
        assert attempt(app.test_client(), WRONG, f"10.0.1.{n}").status_code == 422

    # A sixth address, a browser that never logged in to the account: refused, right password
    # or not, and the answer says what to do.
    refused = attempt(app.test_client(), PASSWORD, "10.0.1.99")
    assert refused.status_code == 429
    assert "browser you have logged in with before" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    # Other accounts are not affected.
    assert attempt(app.test_client(), WRONG, "10.0.1.98", username="someone").status_code == 422


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_browser_that_logged_in_before_gets_in_during_an_attack(app, limits, member, htmx):
    owner = app.test_client()
    assert logged_in(attempt(owner, PASSWORD, "192.0.2.50"))
    log_out(owner)
    for n in range(6):
        attempt(app.test_client(), WRONG, f"10.0.2.{n}")
    assert attempt(app.test_client(), PASSWORD, "10.0.2.99").status_code == 429

    # The owner's own browser, from yet another address (a phone on the move).
    response = attempt(owner, PASSWORD, "198.51.100.7", headers=HTMX if htmx else {})

    assert logged_in(response)
    assert "Signed in as" in owner.get("/").get_data(as_text=True)


def test_a_trusted_browser_has_a_limit_of_its_own(app, limits, member):
    owner = app.test_client()
    assert logged_in(attempt(owner, PASSWORD, "192.0.2.50"))
    log_out(owner)
    for _ in range(4):
        assert attempt(owner, WRONG, f"192.0.2.{_ + 60}").status_code == 422
    limited = attempt(owner, PASSWORD, "192.0.2.70")
    assert limited.status_code == 429


def test_a_device_cookie_of_another_account_gives_no_trust(app, limits, member, make):
    make.make_user("other_member")
    browser = app.test_client()
    assert logged_in(attempt(browser, PASSWORD, "192.0.2.50", username="other_member"))
    log_out(browser)
    for n in range(6):
        attempt(app.test_client(), WRONG, f"10.0.3.{n}")

    assert attempt(browser, PASSWORD, "192.0.2.51").status_code == 429


def test_a_forged_device_cookie_gives_no_trust(app, limits, member):
    for n in range(6):
        attempt(app.test_client(), WRONG, f"10.0.4.{n}")
    forger = app.test_client()
    forger.set_cookie(devices.COOKIE, f'{{"d": "x", "u": [{member.id}]}}', path="/login")

    assert attempt(forger, PASSWORD, "10.0.4.99").status_code == 429


def test_successful_logins_do_not_count_against_the_account(app, limits, member):
    owner = app.test_client()
    for _ in range(5):
        assert logged_in(attempt(owner, PASSWORD, "192.0.2.50"))
        log_out(owner)


def test_the_device_cookie_is_signed_httponly_and_sent_to_login_only(app, limits, member):
    response = attempt(app.test_client(), PASSWORD, "192.0.2.50")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(devices.COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/login" in cookie
    assert "Max-Age=" in cookie


def test_signing_up_trusts_the_browser_for_the_new_account(app, limits):
    browser = app.test_client()
    signed_up = browser.post(
        "/signup",
        data={"username": "new_member", "password": "plum tree under snow"},
        environ_base={"REMOTE_ADDR": "192.0.2.50"},
    )
    assert signed_up.status_code == 303
    log_out(browser)
    for n in range(6):
        attempt(app.test_client(), WRONG, f"10.0.5.{n}", username="new_member")

    assert logged_in(attempt(browser, "plum tree under snow", "192.0.2.51", username="new_member"))
