"""Browser fixtures: the test's app served on a free port, driven by Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from forum.extensions import db
from forum.seed import load_demo_content
from tests.conftest import IN_CI, session_for

CONTENT = Path(__file__).resolve().parents[2] / "content"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As root and with no network, these keep Chromium from stalling on connections it cannot make.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; skips (fails in CI) when it is not installed."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = (
            f"browser tests skipped: no Chromium at {CHROMIUM}. Install Debian's package "
            "(`sudo apt-get install chromium`) or set CHROMIUM_PATH."
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        yield browser
        browser.close()


@pytest.fixture
def seeded(app):
    """The demo content (forum/seed.py): diseases, articles, members, votes and the map."""
    load_demo_content(CONTENT, demo_login=True)


@pytest.fixture
def live_server(app):
    """The test's app served over HTTP on 127.0.0.1 in a background thread; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["LIVE_SERVER_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (own cookies) with JavaScript on."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_nojs(browser, live_server):
    """A fresh browser page with JavaScript off: every action must still work as a form post."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def assert_no_navigation(page):
    """Mark the document; a later check_no_navigation(page) fails if the page was reloaded."""
    page.evaluate("window.__stayed = true")


def check_no_navigation(page) -> bool:
    return page.evaluate("window.__stayed === true")


def wait_for_htmx(page) -> None:
    """Wait until htmx has no request in flight and nothing swapping or settling."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def release_database() -> None:
    """End the test thread's own transaction, so the server thread is never kept waiting on
    SQLite's lock and the test's next read sees what the browser did."""
    db.session.remove()


def sign_in(page, app, user) -> None:
    """Give the browser page a session cookie for `user`, as a successful login would.

    For tests of features other than login itself; the accounts tests log in through the form.
    Call it before the page loads anything, so no other response can overwrite the cookie.
    Ends the test's own transaction, as the browser is about to drive the server.
    """
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps(session_for(user))
    page.context.add_cookies(
        [
            {
                "name": app.config["SESSION_COOKIE_NAME"],
                "value": cookie,
                "url": app.config["LIVE_SERVER_URL"],
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    release_database()
