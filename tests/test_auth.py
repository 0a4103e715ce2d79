"""Sign-up, login, logout, the safe `next` redirect, password hashing and create-admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from forum.auth.passwords import UNUSABLE, hash_password, password_problem, verify_password
from forum.auth.service import authenticate
from forum.auth.sessions import LOGIN_ID_KEY
from forum.auth.views import LOGIN_FAILED, USERNAME_TAKEN
from forum.extensions import db
from forum.models import LoginSession, User
from forum.redirects import safe_next
from tests.conftest import HTMX, login
from tests.factories import PASSWORD

BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
GOOD_PASSWORD = "plum tree under snow"


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def logged_in_as(client) -> str | None:
    """The username the client's session is logged in as, read from the page header."""
    html = client.get("/").get_data(as_text=True)
    if "Signed in as" not in html:
        return None
    return html.split("Signed in as <strong>", 1)[1].split("</strong>", 1)[0]


def log_in(client, username: str = "mira_member", password: str = PASSWORD) -> None:
    """Log in through the login form, as a browser does."""
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303


def session_of(client) -> dict:
    """A copy of what the client's session cookie holds (as someone copying the cookie would)."""
    with client.session_transaction() as session:
        return dict(session)


def client_with(app, cookie: dict):
    """Another browser that replays a copied session cookie."""
    other = app.test_client()
    with other.session_transaction() as session:
        session.update(cookie)
    return other


def login_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LoginSession))


# --- sign-up -------------------------------------------------------------------------------


def test_signup_page_has_labelled_fields(client):
    html = client.get("/signup").get_data(as_text=True)
    for field_id in ("username", "password", "email"):
        assert f'<label for="{field_id}"' in html
    assert 'name="csrf_token"' in html


def test_signup_creates_member_logs_in_and_returns(client, app):
    response = client.post(
        "/signup",
        data={
            "username": "Rosa.B",
            "password": GOOD_PASSWORD,
            "next": "/diseases/x?sort=new",
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/diseases/x?sort=new"
    user = db.session.scalar(select(User).where(User.username_key == "rosa.b"))
    assert user.username == "Rosa.B" and user.role == "member" and user.email is None
    assert user.password_hash.startswith("$argon2id$")
    assert logged_in_as(client) == "Rosa.B"


def test_signup_with_htmx_redirects_by_header(client):
    response = client.post(
        "/signup", data={"username": "rosa", "password": GOOD_PASSWORD}, headers=BOOSTED
    )

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"
    assert user_count() == 1


def test_signup_ignores_spaces_around_the_username(client):
    response = client.post("/signup", data={"username": " rosa\t", "password": GOOD_PASSWORD})
    assert response.status_code == 303
    assert db.session.scalar(select(User.username)) == "rosa"


@pytest.mark.parametrize("url", ["/login", "/signup"])
def test_head_request_answers_like_get(client, url):
    assert client.head(url).status_code == 200


@pytest.mark.parametrize(
    "email", ["not-an-address", "two@@example.org", "a b@example.org", "x@" + "e" * 250 + ".org"]
)
def test_signup_refuses_a_malformed_email(client, email):
    response = client.post(
        "/signup", data={"username": "rosa", "password": GOOD_PASSWORD, "email": email}
    )
    assert response.status_code == 422
    assert user_count() == 0


def test_signup_keeps_email_when_given(client):
    client.post(
        "/signup",
        data={"username": "rosa", "password": GOOD_PASSWORD, "email": " rosa@example.org "},
    )
    assert db.session.scalar(select(User.email)) == "rosa@example.org"


@pytest.mark.parametrize(
    "password",
    [
        "ten chars!",  # exactly 10
        "🦋🦋🦋🦋🦋🦋🦋🦋🦋🦋",  # emoji count as characters
        "  spaces at both ends  ",
        "x" * 128 + "y",
    ],
)
def test_signup_accepts_any_password_of_ten_characters_or_more(client, password):
    response = client.post("/signup", data={"username": "rosa", "password": password})

    assert response.status_code == 303
    user = db.session.scalar(select(User))
    assert verify_password(user.password_hash, password)
    assert authenticate("rosa", password) is not None


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("ro", GOOD_PASSWORD, "3 to 30 characters"),
        ("r" * 31, GOOD_PASSWORD, "3 to 30 characters"),
        ("rosa b", GOOD_PASSWORD, "3 to 30 characters"),
        ("rosa<script>", GOOD_PASSWORD, "3 to 30 characters"),
        ("rösa", GOOD_PASSWORD, "3 to 30 characters"),
        ("rosa", "short one", "at least 10 characters"),
        ("rosa", "1234567890", "most common"),
        ("rosa", "QwertyUiop", "most common"),
        ("rosa", "password123", "most common"),
        ("rosa_b_long", "rosa_b_long", "must not be your username"),
        ("rosa", "x" * 1025, "at most 1024"),
    ],
)
def test_signup_refuses_bad_usernames_and_passwords(client, username, password, message):
    response = client.post("/signup", data={"username": username, "password": password})

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count() == 0


def test_signup_refuses_a_taken_username_regardless_of_case(client, make):
    make.make_user("Rosa")

    response = client.post("/signup", data={"username": "rOSA", "password": GOOD_PASSWORD})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert USERNAME_TAKEN in html
    assert user_count() == 1
    assert logged_in_as(client) is None


def test_signup_error_with_htmx_is_422_like_the_page(client):
    response = client.post(
        "/signup", data={"username": "ro", "password": GOOD_PASSWORD}, headers=BOOSTED
    )
    assert response.status_code == 422
    assert "3 to 30 characters" in response.get_data(as_text=True)
    assert user_count() == 0


def test_signup_form_does_not_echo_the_password(client):
    html = client.post("/signup", data={"username": "ro", "password": GOOD_PASSWORD}).get_data(
        as_text=True
    )
    assert GOOD_PASSWORD not in html


# --- login ---------------------------------------------------------------------------------


def test_login_logs_in_and_returns_to_next(client, member):
    response = client.post(
        "/login",
        data={
            "username": "MIRA_member",
            "password": PASSWORD,
            "next": "/diseases/x",
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/diseases/x"
    assert logged_in_as(client) == "mira_member"


def test_login_with_htmx_redirects_by_header(client, member):
    response = client.post(
        "/login", data={"username": "mira_member", "password": PASSWORD}, headers=BOOSTED
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"
    assert logged_in_as(client) == "mira_member"


def test_login_page_carries_next_into_the_form(client):
    html = client.get("/login?next=/diseases/x%3Fsort%3Dnew").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/diseases/x?sort=new"' in html


def test_login_page_drops_an_unsafe_next(client):
    html = client.get("/login?next=//evil.example").get_data(as_text=True)
    assert "evil.example" not in html.split("<main", 1)[1]


def test_wrong_password_and_unknown_user_get_the_same_answer(client, member):
    wrong_password = client.post("/login", data={"username": "mira_member", "password": "nope"})
    unknown_user = client.post("/login", data={"username": "nobody_here", "password": "nope"})

    assert wrong_password.status_code == unknown_user.status_code == 422
    assert LOGIN_FAILED in wrong_password.get_data(as_text=True)
    assert LOGIN_FAILED in unknown_user.get_data(as_text=True)
    # Same page apart from the username echoed back into its field and the
    # CSRF token, whose signature carries the second it was made.
    assert page_without_token(wrong_password, "mira_member") == page_without_token(
        unknown_user, "nobody_here"
    )
    assert logged_in_as(client) is None


SIGNED_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}")


def page_without_token(response, username):
    return SIGNED_TOKEN.sub("TOKEN", response.get_data(as_text=True).replace(username, "U"))


def test_login_starts_a_new_session(client, member):
    with client.session_transaction() as session:
        session["planted"] = "by someone before login"

    client.post("/login", data={"username": "mira_member", "password": PASSWORD})

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == member.session_token
        login_id = session[LOGIN_ID_KEY]
    assert db.session.get(LoginSession, login_id).user_id == member.id


def test_a_new_login_in_the_same_browser_ends_the_one_before(client, member, make):
    make.make_user("second_member")
    log_in(client)
    first_cookie = session_of(client)

    log_in(client, "second_member")

    assert logged_in_as(client) == "second_member"
    assert logged_in_as(client_with(client.application, first_cookie)) is None
    assert login_count() == 1


def test_login_upgrades_a_hash_made_with_old_parameters(client, make):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user = make.make_user("old_timer")
    user.password_hash = weak.hash(PASSWORD)
    db.session.commit()

    response = client.post("/login", data={"username": "old_timer", "password": PASSWORD})

    assert response.status_code == 303
    db.session.expire_all()
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(user.password_hash, PASSWORD)


def test_passwords_are_argon2id_with_19_mib_and_two_passes():
    stored = hash_password("a passphrase of some length")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_unusable_hash_never_logs_in(client, make):
    make.make_user("demo_member").password_hash = "!"
    db.session.commit()
    response = client.post("/login", data={"username": "demo_member", "password": "!"})
    assert response.status_code == 422


def test_common_password_list_is_shipped_and_large():
    from forum.auth.passwords import common_passwords

    assert len(common_passwords()) >= 9_900
    assert "iloveyou" in common_passwords()
    assert password_problem("correct horse battery staple") is None


# --- logout --------------------------------------------------------------------------------


def test_logout_is_post_only(member_client):
    response = member_client.get("/logout")
    assert response.status_code == 405
    assert logged_in_as(member_client) == "mira_member"


def test_logout_ends_the_session_and_the_old_cookie_stays_useless(client, app, member):
    log_in(client)
    stolen = session_of(client)
    assert logged_in_as(client_with(app, stolen)) == "mira_member"

    response = client.post("/logout")

    assert response.status_code == 303
    assert logged_in_as(client) is None
    # Replaying the cookie from before the logout does not log anyone in.
    assert logged_in_as(client_with(app, stolen)) is None


def test_logout_ends_only_this_browsers_session(app, client, member):
    phone, laptop = client, app.test_client()
    log_in(phone)
    log_in(laptop)
    phone_cookie = session_of(phone)

    phone.post("/logout")

    assert logged_in_as(phone) is None
    assert logged_in_as(client_with(app, phone_cookie)) is None
    assert logged_in_as(laptop) == "mira_member"
    assert login_count() == 1


def test_a_login_lasts_no_longer_than_the_session_lifetime(app, client, member):
    app.permanent_session_lifetime = timedelta(days=30)
    log_in(client)
    login = db.session.scalar(select(LoginSession))
    login.created_at -= timedelta(days=29)
    db.session.commit()
    assert logged_in_as(client) == "mira_member"  # renewed cookies do not extend it

    login.created_at -= timedelta(days=2)
    db.session.commit()
    assert logged_in_as(client) is None

    # Expired logins are cleared away when someone logs in.
    log_in(app.test_client())
    assert login_count() == 1


def test_logout_with_htmx_redirects_by_header(member_client):
    response = member_client.post("/logout", headers=BOOSTED)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"
    assert logged_in_as(member_client) is None


def test_header_shows_logout_button_and_login_link_with_next(client, member):
    html = client.get("/?q=sclero").get_data(as_text=True)
    assert 'href="/login?next=/?q%3Dsclero"' in html
    login(client, member)
    html = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in html and "Log out" in html


# --- the safe `next` ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/diseases/alkaptonuria",
        "/diseases/x/questions?sort=new&page=2",
        "/?q=a%20b",
        "/diseases/caf%C3%A9",
        "/diseases/café#comments",
    ],
)
def test_safe_next_accepts_local_paths(url):
    assert safe_next(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://evil.example/",
        "http://evil.example",
        "//evil.example",
        "///evil.example",
        "////evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/\\/evil.example",
        "https:/evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,hi",
        "evil.example",
        "diseases/x",
        " /diseases",
        " //evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "/%2F/evil.example",
        "/%2f%2fevil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "/%252F%252Fevil.example",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "/\u3000/evil.example",
        "/\u200b/evil.example",
        "/" + "a" * 2001,
    ],
)
def test_safe_next_refuses_anything_that_could_leave_the_site(url):
    assert safe_next(url) is None


@pytest.mark.parametrize("next_url", ["//evil.example", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(client, member, next_url):
    response = client.post(
        "/login",
        data={
            "username": "mira_member",
            "password": PASSWORD,
            "next": next_url,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


# --- needing an account -------------------------------------------------------------------


def test_logged_out_visitor_is_sent_to_login_and_back(client):
    response = client.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/account&why=account"


def test_logged_out_htmx_request_gets_hx_redirect_to_the_page_it_came_from(client):
    response = client.post(
        "/account/delete",
        headers={
            **HTMX,
            "HX-Current-URL": "http://localhost/diseases/x?sort=new",
        },
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/diseases/x?sort%3Dnew&why=account"
    assert response.get_data() == b""


def test_logged_out_htmx_request_from_another_site_returns_home(client):
    response = client.post(
        "/account/delete",
        headers={
            **HTMX,
            "HX-Current-URL": "https://evil.example/diseases/x",
        },
    )
    assert response.headers["HX-Redirect"] == "/login?next=/&why=account"


# --- create-admin --------------------------------------------------------------------------


def test_create_admin_with_password_from_environment(app, monkeypatch):
    monkeypatch.setenv("FORUM_ADMIN_PASSWORD", GOOD_PASSWORD)

    result = app.test_cli_runner().invoke(args=["create-admin", "Root_Admin"])

    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.username, user.role) == ("Root_Admin", "admin")
    assert verify_password(user.password_hash, GOOD_PASSWORD)


def test_create_admin_prompts_for_the_password(app, monkeypatch):
    monkeypatch.delenv("FORUM_ADMIN_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(
        args=["create-admin", "root"], input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role)) == "admin"


def test_create_admin_refuses_a_common_password(app, monkeypatch):
    monkeypatch.setenv("FORUM_ADMIN_PASSWORD", "password123")
    result = app.test_cli_runner().invoke(args=["create-admin", "root"])
    assert result.exit_code != 0
    assert user_count() == 0


def test_create_admin_promotes_an_existing_member(app, member):
    result = app.test_cli_runner().invoke(args=["create-admin", "MIRA_MEMBER"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert member.role == "admin"


def test_unknown_username_costs_a_hash_check_like_a_wrong_password(
    client, member, make, monkeypatch
):
    from forum.auth import passwords

    checks = []
    real_checks = []  # ones that ran Argon2, not an early "no" for an unusable hash
    real_verify = passwords.verify_password
    real_hasher = passwords.hasher

    def counting_verify(*args):
        checks.append(1)
        return real_verify(*args)

    class CountingHasher:
        def __getattr__(self, name):
            return getattr(real_hasher, name)

        def verify(self, *args):
            real_checks.append(1)
            return real_hasher.verify(*args)

    monkeypatch.setattr(passwords, "hasher", CountingHasher())

    monkeypatch.setattr("forum.auth.passwords.verify_password", counting_verify)
    monkeypatch.setattr("forum.auth.service.verify_password", counting_verify)

    make.make_user("demo_member").password_hash = UNUSABLE
    db.session.commit()

    client.post("/login", data={"username": "mira_member", "password": "wrong guess"})
    client.post("/login", data={"username": "nobody_here", "password": "wrong guess"})
    client.post("/login", data={"username": "demo_member", "password": "wrong guess"})

    # Without it, a fast answer would tell that a name is free, or a demo account.
    assert len(checks) == 3
    assert len(real_checks) == 3
