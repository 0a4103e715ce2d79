"""The attacks of a first public day, run against every route of the app's url_map.

Each route must be listed in ROUTES below with how to call it: a new endpoint that is not
listed fails the suite, and once listed it is attacked like the others (CSRF, state changes on
GET, authorization, oversized bodies, security headers, de-anonymisation of map members).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed

from forum.auth.service import reset_token
from forum.extensions import db
from forum.mail.service import unsubscribe_token, verification_token
from forum.models import (
    Comment,
    ContactRequest,
    Conversation,
    Disease,
    MapEntry,
    Message,
    MessageReport,
    Notification,
    Question,
    User,
)
from forum.models.base import utcnow
from tests.comment_factories import make_comment
from tests.conftest import HTMX, login
from tests.connect_factories import make_block, make_conversation, make_request, verify
from tests.factories import PASSWORD, make_disease, make_map_entry, make_question, make_user

NEW_PASSWORD = "plum tree under snow"
EVIL = "evil.example"


# --- the world every attack runs in --------------------------------------------------------


@dataclass
class World:
    alice: User  # the attacked member: owns c1, is on d1's map by name
    bob: User  # the attacker: another member
    quinn: User  # on d1's map anonymously, nothing else
    hana: User  # on d1's map anonymously, and comments under q1
    d1: Disease
    d2: Disease
    q1: Question  # d1's question, asked by bob
    q2: Question  # d2's question
    c1: Comment  # alice's comment under q1
    c2: Comment  # bob's comment under q1
    c3: Comment  # bob's comment under q2 (another disease)
    hana_comment: Comment
    # Connect: hana asked alice to connect (open); alice and hana also have a conversation;
    # alice blocked quinn; alice has an unread notification and an unverified address.
    request: ContactRequest | None = None
    conversation: Conversation | None = None
    hana_message: Message | None = None
    reported_message: Message | None = None
    report: MessageReport | None = None
    notification: Notification | None = None


@pytest.fixture
def world(app) -> World:
    alice = make_user("alice_a")
    bob = make_user("bob_b")
    quinn = make_user("quiet_quinn")
    hana = make_user("hidden_hana")
    d1 = make_disease("Scleromyxedema")
    d2 = make_disease("Fibrodysplasia ossificans progressiva", synonyms=("FOP",))
    q1 = make_question(d1, title="Is scleromyxedema hereditary?", author_id=bob.id)
    q2 = make_question(d2, title="How is FOP diagnosed?", author_id=bob.id)
    c1 = make_comment(q1, alice, "Alice's first comment.")
    c2 = make_comment(q1, bob, "Bob's comment.")
    c3 = make_comment(q2, bob, "Bob on another disease.")
    hana_comment = make_comment(q1, hana, "Hana writes under her name.")
    make_map_entry(d1, alice, "FR", region="Lyon")
    make_map_entry(d1, quinn, "FR", region="Quietville", anonymous=True, since_year=2011)
    make_map_entry(d1, hana, "DE", role="caregiver", region="Hanaburg", anonymous=True)
    world = World(alice, bob, quinn, hana, d1, d2, q1, q2, c1, c2, c3, hana_comment)
    _connect_world(world)
    return world


def _connect_world(w: World) -> None:
    w.bob.contact_policy = "anyone"
    w.alice.email = "alice.before@example.org"  # not verified yet
    verify(w.hana, "hana@example.org")
    w.request = make_request(w.hana, w.alice, "Hana would like to talk.")
    w.conversation = make_conversation(
        w.alice, w.hana, (w.hana, "First words from Hana."), (w.hana, "Second words from Hana.")
    )
    w.reported_message, w.hana_message = db.session.scalars(
        select(Message).where(Message.conversation_id == w.conversation.id).order_by(Message.id)
    ).all()
    w.report = MessageReport(message_id=w.reported_message.id, reporter_id=w.alice.id)
    db.session.add(w.report)
    make_block(w.alice, w.quinn)
    w.notification = Notification(user_id=w.alice.id, event="reply", url="/", summary="A title")
    db.session.add(w.notification)
    db.session.commit()


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table as the database holds it (what was committed)."""
    db.session.rollback()
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    db.session.rollback()
    return state


def as_user(client, user: User | None) -> None:
    if user is not None:
        login(client, user)


# --- every route, and how to call it --------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """How to call one endpoint of the url_map in the world above."""

    url: object  # World -> str
    data: object = None  # World -> dict, for POST
    # "public": anyone; "login": needs a logged-in member (acts on their own data only);
    # "owner": needs the member who owns the object in the URL (alice owns c1).
    access: str = "public"
    # A GET that answers only htmx-style with an empty body or redirects is still a GET.


def _q1_url(w: World) -> str:
    return f"/diseases/{w.d1.slug}/questions/{w.q1.slug}"


POST_ROUTES: dict[str, Route] = {
    "auth.login": Route(
        lambda w: "/login", lambda w: {"username": "alice_a", "password": PASSWORD}
    ),
    "auth.signup": Route(
        lambda w: "/signup", lambda w: {"username": "new_member", "password": NEW_PASSWORD}
    ),
    "auth.logout": Route(lambda w: "/logout", lambda w: {}, "login"),
    "members.password": Route(
        lambda w: "/account/password",
        lambda w: {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        "login",
    ),
    "members.email": Route(
        lambda w: "/account/email", lambda w: {"email": "alice@example.org"}, "login"
    ),
    "members.delete": Route(lambda w: "/account/delete", lambda w: {"password": PASSWORD}, "login"),
    "comments.create": Route(
        lambda w: f"/questions/{w.q1.id}/comments",
        lambda w: {"body": "A new comment.", "guest_name": "Guest Gail"},
    ),
    "comments.update": Route(
        lambda w: f"/comments/{w.c1.id}/edit", lambda w: {"body": "Changed by someone."}, "owner"
    ),
    "comments.delete": Route(
        lambda w: f"/comments/{w.c1.id}/delete", lambda w: {"confirm": "yes"}, "owner"
    ),
    "questions.vote": Route(lambda w: f"{_q1_url(w)}/vote", lambda w: {}, "login"),
    "questions.ask": Route(
        lambda w: f"/diseases/{w.d1.slug}/questions/ask",
        lambda w: {"title": "Does it affect the kidneys?", "prompt": "kidneys"},
        "login",
    ),
    "maps.join": Route(
        lambda w: f"/diseases/{w.d2.slug}/map/join",
        lambda w: {"role": "patient", "country": "Spain", "visibility": "named"},
        "login",
    ),
    "maps.edit": Route(
        lambda w: f"/diseases/{w.d1.slug}/map/entry",
        lambda w: {
            "role": "patient",
            "country": "France",
            "region": "Paris",
            "visibility": "named",
        },
        "login",
    ),
    "maps.leave": Route(lambda w: f"/diseases/{w.d1.slug}/map/leave", lambda w: {}, "login"),
    "auth.forgot_password": Route(
        lambda w: "/password/forgot", lambda w: {"email": "hana@example.org"}
    ),
    "auth.reset_password": Route(
        lambda w: f"/password/reset/{reset_token(w.hana)}",
        lambda w: {"new_password": NEW_PASSWORD},
    ),
    "contacts.ask": Route(
        lambda w: "/members/bob_b/connect", lambda w: {"note": "May we talk?"}, "login"
    ),
    "contacts.accept": Route(
        lambda w: f"/contacts/requests/{w.request.id}/accept", lambda w: {}, "owner"
    ),
    "contacts.decline": Route(
        lambda w: f"/contacts/requests/{w.request.id}/decline", lambda w: {}, "owner"
    ),
    "contacts.block_sender": Route(
        lambda w: f"/contacts/requests/{w.request.id}/block", lambda w: {}, "owner"
    ),
    "contacts.unblock": Route(
        lambda w: f"/contacts/blocked/{w.quinn.id}/unblock", lambda w: {}, "owner"
    ),
    "contacts.policy": Route(lambda w: "/contacts/policy", lambda w: {"policy": "anyone"}, "login"),
    "messages.send": Route(
        lambda w: f"/messages/{w.conversation.id}", lambda w: {"body": "Hello Hana."}, "owner"
    ),
    "messages.block": Route(
        lambda w: f"/messages/{w.conversation.id}/block", lambda w: {}, "owner"
    ),
    "messages.report": Route(
        lambda w: f"/messages/{w.conversation.id}/report/{w.hana_message.id}",
        lambda w: {"reason": "Unkind."},
        "owner",
    ),
    "notifications.open": Route(
        lambda w: f"/notifications/{w.notification.id}/open", lambda w: {}, "owner"
    ),
    "notifications.read_all": Route(lambda w: "/notifications/read", lambda w: {}, "login"),
    "notifications.settings": Route(
        lambda w: "/notifications/settings",
        lambda w: {
            "reply": "off",
            "question_comment": "off",
            "contact_request": "daily",
            "request_accepted": "daily",
            "message": "daily",
            "moderation": "daily",
        },
        "login",
    ),
    "mail.verify": Route(lambda w: f"/email/verify/{verification_token(w.alice)}", lambda w: {}),
    "mail.resend": Route(lambda w: "/account/email/verification", lambda w: {}, "login"),
    # Authorized by its signed token alone: mail clients post here without a session (RFC 8058).
    "mail.unsubscribe": Route(
        lambda w: f"/unsubscribe/{unsubscribe_token(w.alice.id, 'reply')}",
        lambda w: {"List-Unsubscribe": "One-Click"},
    ),
}

# Routes whose signed URL token is the authority instead of a CSRF token: they are attacked
# with forged and foreign tokens instead (test_signed_link_routes_refuse_forged_tokens).
CSRF_EXEMPT = {"mail.unsubscribe"}

GET_ROUTES: dict[str, Route] = {
    "home.index": Route(lambda w: "/?q=scler"),
    "home.healthz": Route(lambda w: "/healthz"),
    "static": Route(lambda w: "/static/css/site.css"),
    "auth.login": Route(lambda w: "/login?next=/account"),
    "auth.signup": Route(lambda w: "/signup?next=/account"),
    "members.show": Route(lambda w: "/members/alice_a?tab=comments"),
    "members.settings": Route(lambda w: "/account", access="login"),
    "members.export": Route(lambda w: "/account/export", access="login"),
    "diseases.show": Route(lambda w: f"/diseases/{w.d1.slug}"),
    "questions.index": Route(lambda w: f"/diseases/{w.d1.slug}/questions?sort=new"),
    "questions.show": Route(_q1_url),
    "questions.ask": Route(lambda w: f"/diseases/{w.d1.slug}/questions/ask", access="login"),
    "comments.index": Route(lambda w: f"/questions/{w.q1.id}/comments?page=1"),
    "comments.show": Route(lambda w: f"/comments/{w.c1.id}"),
    "comments.replies": Route(lambda w: f"/comments/{w.c1.id}/replies"),
    "comments.reply": Route(lambda w: f"/comments/{w.c1.id}/reply"),
    "comments.edit": Route(lambda w: f"/comments/{w.c1.id}/edit", access="owner"),
    "comments.confirm_delete": Route(lambda w: f"/comments/{w.c1.id}/delete", access="owner"),
    "maps.show": Route(lambda w: f"/diseases/{w.d1.slug}/map"),
    "maps.country": Route(lambda w: f"/diseases/{w.d1.slug}/map/countries/FR"),
    "maps.join": Route(lambda w: f"/diseases/{w.d2.slug}/map/join", access="login"),
    "maps.edit": Route(lambda w: f"/diseases/{w.d1.slug}/map/entry", access="login"),
    "auth.forgot_password": Route(lambda w: "/password/forgot"),
    "auth.reset_password": Route(lambda w: f"/password/reset/{reset_token(w.hana)}"),
    "contacts.ask": Route(lambda w: "/members/bob_b/connect", access="login"),
    "contacts.index": Route(lambda w: "/contacts", access="login"),
    "messages.index": Route(lambda w: "/messages", access="login"),
    "messages.show": Route(lambda w: f"/messages/{w.conversation.id}?after=0", access="owner"),
    "messages.reports": Route(lambda w: "/messages/reports", access="login"),
    "messages.reported": Route(lambda w: f"/messages/reports/{w.report.id}", access="login"),
    "notifications.index": Route(lambda w: "/notifications", access="login"),
    "notifications.count": Route(lambda w: "/notifications/count", access="login"),
    "notifications.settings": Route(lambda w: "/notifications/settings", access="login"),
    "mail.verify": Route(lambda w: f"/email/verify/{verification_token(w.alice)}"),
    "mail.unsubscribe": Route(lambda w: f"/unsubscribe/{unsubscribe_token(w.alice.id, 'all')}"),
    "mail.admin": Route(lambda w: "/admin/mail", access="login"),
}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _rules(app, methods: set[str]) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if (rule.methods or set()) & methods}


def test_every_route_of_the_url_map_is_attacked(app):
    """A new endpoint must be added to POST_ROUTES / GET_ROUTES, so it gets attacked too."""
    assert _rules(app, WRITE_METHODS) == set(POST_ROUTES)
    assert _rules(app, {"GET"}) == set(GET_ROUTES)
    for rule in app.url_map.iter_rules():
        assert not (rule.methods or set()) & {"PUT", "PATCH", "DELETE"}, rule


# --- CSRF -----------------------------------------------------------------------------------


def _post(client, w: World, endpoint: str, **kwargs):
    route = POST_ROUTES[endpoint]
    return client.post(route.url(w), data=route.data(w), **kwargs)


def _poster(w: World, endpoint: str) -> User | None:
    return None if POST_ROUTES[endpoint].access == "public" else w.alice


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("token", ["missing", "forged", "other-session"])
@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_post_without_a_valid_csrf_token_gets_400_and_changes_nothing(
    app, client, world, endpoint, token, htmx
):
    if endpoint in CSRF_EXEMPT:
        pytest.skip("authorized by its signed token; see test_signed_link_routes_refuse_...")
    as_user(client, _poster(world, endpoint))
    headers = dict(HTMX) if htmx else {}
    if token == "forged":
        headers["X-CSRFToken"] = "ImFhYWEi.ZZZZZZ.forged-signature"
    elif token == "other-session":
        # A real token, but minted for another visitor's session (what an attacker's page has).
        other = app.test_client()
        other.get("/login")
        headers["X-CSRFToken"] = other.csrf_token()
    before = snapshot()

    response = _post(client, world, endpoint, headers=headers, csrf=False)

    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_the_same_post_with_the_token_does_change_the_database(client, world, endpoint, htmx):
    """Proves the requests above would have done something: the token was the only wall."""
    as_user(client, _poster(world, endpoint))
    before = snapshot()

    response = _post(client, world, endpoint, headers=HTMX if htmx else {})

    assert response.status_code < 400, response.get_data(as_text=True)[:500]
    assert snapshot() != before


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_a_token_in_the_query_string_is_not_enough(client, world, endpoint):
    if endpoint in CSRF_EXEMPT:
        pytest.skip("authorized by its signed token")
    as_user(client, _poster(world, endpoint))
    token = client.csrf_token()
    before = snapshot()
    route = POST_ROUTES[endpoint]
    response = client.post(
        f"{route.url(world)}?csrf_token={token}", data=route.data(world), csrf=False
    )
    assert response.status_code == 400
    assert snapshot() == before


SIGNED_LINK_ROUTES = ["mail.unsubscribe", "mail.verify", "auth.reset_password"]


@pytest.mark.parametrize("forgery", ["tampered", "foreign-key", "garbage"])
@pytest.mark.parametrize("endpoint", SIGNED_LINK_ROUTES)
def test_signed_link_routes_refuse_forged_tokens(app, client, world, endpoint, forgery):
    """A link's token is its only authority: a changed, foreign or made-up one changes nothing."""
    from itsdangerous import URLSafeSerializer

    route = POST_ROUTES[endpoint]
    prefix, token = route.url(world).rsplit("/", 1)
    if forgery == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif forgery == "foreign-key":
        # Signed, with the right salt and data, but by someone else's secret.
        salt = {"mail.unsubscribe": "unsubscribe", "mail.verify": "email-verification"}.get(
            endpoint, "password-reset"
        )
        token = URLSafeSerializer("not-the-site-secret", salt=salt).dumps({"u": world.alice.id})
    else:
        token = "x" * 40
    before = snapshot()
    response = client.post(f"{prefix}/{token}", data=route.data(world))
    assert response.status_code == 404
    assert snapshot() == before


# --- no state change on GET or HEAD -----------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("who", ["visitor", "owner", "other"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("endpoint", sorted(GET_ROUTES))
def test_get_and_head_change_nothing(client, world, endpoint, htmx, who, method):
    as_user(client, {"visitor": None, "owner": world.alice, "other": world.bob}[who])
    before = snapshot()
    response = client.open(
        GET_ROUTES[endpoint].url(world), method=method, headers=HTMX if htmx else {}
    )
    assert response.status_code < 500
    response.close()
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_get_on_a_post_only_url_changes_nothing(app, client, world, endpoint):
    as_user(client, _poster(world, endpoint))
    url = POST_ROUTES[endpoint].url(world)
    try:
        app.url_map.bind("localhost").match(url, method="GET")
        shared_with_a_page = True
    except MethodNotAllowed:
        shared_with_a_page = False
    before = snapshot()
    response = client.get(url)
    if not shared_with_a_page:
        assert response.status_code == 405
    assert snapshot() == before


# --- authorization ----------------------------------------------------------------------------


def _protected(routes: dict[str, Route], kind: str) -> list[str]:
    return sorted(e for e, r in routes.items() if r.access == kind)


def _assert_sent_to_login(response, htmx: bool) -> None:
    if htmx:
        assert response.status_code == 401
        target = response.headers["HX-Redirect"]
    else:
        assert response.status_code in (302, 303)
        target = response.headers["Location"]
    assert urlsplit(target).path == "/login"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    "endpoint",
    # Logging out while logged out has nothing to protect.
    [
        e
        for e in _protected(POST_ROUTES, "owner") + _protected(POST_ROUTES, "login")
        if e != "auth.logout"
    ],
)
def test_logged_out_posts_are_sent_to_login_and_change_nothing(client, world, endpoint, htmx):
    before = snapshot()
    response = _post(client, world, endpoint, headers=HTMX if htmx else {})
    _assert_sent_to_login(response, htmx)
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    "endpoint", _protected(GET_ROUTES, "owner") + _protected(GET_ROUTES, "login")
)
def test_logged_out_gets_of_private_pages_are_sent_to_login(client, world, endpoint, htmx):
    response = client.get(GET_ROUTES[endpoint].url(world), headers=HTMX if htmx else {})
    _assert_sent_to_login(response, htmx)
    assert "alice" not in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("endpoint", _protected(POST_ROUTES, "owner"))
def test_another_member_cannot_edit_or_delete(client, world, endpoint, htmx):
    login(client, world.bob)
    before = snapshot()
    response = _post(client, world, endpoint, headers=HTMX if htmx else {})
    assert response.status_code in (403, 404)
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", _protected(GET_ROUTES, "owner"))
def test_another_member_cannot_open_the_edit_or_delete_page(client, world, endpoint):
    login(client, world.bob)
    response = client.get(GET_ROUTES[endpoint].url(world))
    assert response.status_code in (403, 404)
    assert "first comment" not in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", ["maps.edit", "maps.leave"])
def test_map_changes_only_ever_touch_the_members_own_entry(client, world, endpoint):
    """Bob has no entry on d1's map: his edit or leave must not reach Alice's."""
    login(client, world.bob)
    before = snapshot()
    response = _post(client, world, endpoint)
    assert response.status_code in (302, 303)
    assert snapshot() == before


def test_a_comment_id_of_another_member_in_the_edit_form_is_not_used(client, world):
    """Hidden fields cannot redirect an edit: the URL's comment is checked, not the form's."""
    login(client, world.bob)
    before = snapshot()
    response = client.post(
        f"/comments/{world.c1.id}/edit", data={"body": "hijack", "comment_id": world.c2.id}
    )
    assert response.status_code == 403
    assert snapshot() == before


# --- IDOR: ids that belong elsewhere -----------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("parent", ["other-question", "missing", "deleted", "negative", "huge"])
def test_a_reply_whose_parent_is_not_in_this_thread_is_refused(client, world, parent, htmx):
    login(client, world.bob)
    if parent == "deleted":
        world.c1.deleted_at = utcnow()
        db.session.commit()
    parent_id = {
        "other-question": world.c3.id,
        "missing": 999_999,
        "deleted": world.c1.id,
        "negative": "-1",
        "huge": "99999999999999999999",
    }[parent]
    before = snapshot()
    response = client.post(
        f"/questions/{world.q1.id}/comments",
        data={"body": "A reply that must not land.", "parent_id": parent_id},
        headers=HTMX if htmx else {},
    )
    assert response.status_code in (200, 404, 422)
    html = response.get_data(as_text=True)
    assert "A reply that must not land." in html  # the text is kept for the writer
    assert snapshot() == before


def test_a_question_of_another_disease_cannot_be_voted_through_this_disease(client, world):
    login(client, world.alice)
    before = snapshot()
    response = client.post(f"/diseases/{world.d1.slug}/questions/{world.q2.slug}/vote")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    "url",
    [
        "/comments/99999999999999999999",
        "/comments/99999999999999999999/replies",
        "/comments/2147483648/edit",
        "/questions/99999999999999999999/comments",
        "/questions/{q}/comments?page=1000000000000000&after=99999999999999999999",
        "/diseases/{d}/questions?page=99999999999999999999",
        "/members/alice_a?page=99999999999999999999",
        "/diseases/a%00b",
        "/members/a%00b",
        "/?q=%00",
        "/diseases/{d}/map/countries/F%00",
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_out_of_range_ids_and_nul_characters_are_a_client_error(client, world, url, htmx):
    """Values no database column can hold must answer 4xx (or a redirect), never a 500."""
    login(client, world.alice)
    response = client.get(url.format(q=world.q1.id, d=world.d1.slug), headers=HTMX if htmx else {})
    assert 300 <= response.status_code < 500
    if "%00" in url:
        assert response.status_code == 400


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_a_nul_character_in_a_form_is_refused_and_nothing_stored(client, world, endpoint):
    as_user(client, _poster(world, endpoint))
    route = POST_ROUTES[endpoint]
    data = {key: f"{value}\x00" for key, value in route.data(world).items()} or {"x": "\x00"}
    before = snapshot()
    response = client.post(route.url(world), data=data)
    assert response.status_code == 400
    assert snapshot() == before


# --- oversized bodies ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_a_body_over_the_limit_gets_413_and_changes_nothing(app, client, world, endpoint):
    as_user(client, _poster(world, endpoint))
    before = snapshot()
    data = dict(POST_ROUTES[endpoint].data(world))
    data["body"] = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(POST_ROUTES[endpoint].url(world), data=data)
    assert response.status_code == 413
    assert snapshot() == before


# --- open redirects -----------------------------------------------------------------------------

REDIRECT_PAYLOADS = [
    f"https://{EVIL}/",
    f"//{EVIL}/",
    f"///{EVIL}/",
    f"/\\{EVIL}",
    f"\\\\{EVIL}",
    f"/%2F{EVIL}",
    f"/%2f%2f{EVIL}",
    f"/%5C{EVIL}",
    f"/%252F%252F{EVIL}",
    f" //{EVIL}",
    f"/\t/{EVIL}",
    f"/%09/{EVIL}",
    f"/%0d%0aLocation:%20https://{EVIL}",
    f"/\r\nSet-Cookie: x=1\r\nLocation: https://{EVIL}",
    f"https:{EVIL}",
    f"https:/{EVIL}",
    f"javascript:alert(document.domain)//{EVIL}",
    f"data:text/html,<script>location='https://{EVIL}'</script>",
    f"/.//{EVIL}",
    f"/\u3002{EVIL}",
    f"\u2215\u2215{EVIL}",
    f"/\uff0f{EVIL}",
    f"http://localhost@{EVIL}/",
]


def _assert_stays_on_site(target: str | None, nested: bool = False) -> None:
    assert target is not None
    assert EVIL not in urlsplit(urljoin("http://localhost/page", target)).netloc
    if nested:
        # A `next` inside the login URL is checked again when the login form is posted
        # (test_login_next_never_leaves_the_site); here it must at least name no other host.
        return
    assert target.startswith("/") and not target.startswith("//")
    assert "\\" not in target
    assert not re.search(r"[\x00-\x20\x7f]", target)
    # What the browser will open, with percent-encoding undone, is still a path of this site.
    # The login and sign-up pages honour `next`: the target after logging in must be safe too.
    parts = urlsplit(target)
    if parts.path in ("/login", "/signup"):
        for value in parse_qs(parts.query).get("next", []):
            _assert_stays_on_site(value, nested=True)


def _redirect_target(response) -> str | None:
    return response.headers.get("HX-Redirect") or response.headers.get("Location")


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
def test_login_next_never_leaves_the_site(client, world, payload, htmx):
    response = client.post(
        "/login",
        data={"username": "alice_a", "password": PASSWORD, "next": payload},
        headers=HTMX if htmx else {},
    )
    assert response.status_code in (204, 303)
    _assert_stays_on_site(_redirect_target(response))


@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
def test_login_page_next_is_dropped_when_unsafe_and_logged_in_redirect_stays(
    client, world, payload
):
    html = client.get("/login", query_string={"next": payload}).get_data(as_text=True)
    hidden = re.search(r'<input[^>]*name="next"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', hidden)
    if value and value.group(1):
        _assert_stays_on_site(unescape(value.group(1)))
    login(client, world.alice)
    response = client.get("/login", query_string={"next": payload})
    assert response.status_code == 303
    _assert_stays_on_site(response.headers["Location"])


@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
def test_signup_next_never_leaves_the_site(client, world, payload):
    response = client.post(
        "/signup", data={"username": "new_member", "password": NEW_PASSWORD, "next": payload}
    )
    assert response.status_code == 303
    _assert_stays_on_site(response.headers["Location"])


@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
def test_vote_next_and_referer_never_leave_the_site(client, world, payload):
    login(client, world.alice)
    url = f"{_q1_url(world)}/vote"
    by_next = client.post(url, data={"next": payload})
    _assert_stays_on_site(by_next.headers["Location"])
    if "\n" in payload:
        return  # no client can send a header with a newline in it
    for referer in (payload, f"http://localhost{payload}", f"https://{EVIL}{payload}"):
        by_referer = client.post(url, headers={"Referer": referer})
        _assert_stays_on_site(by_referer.headers["Location"])


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
def test_logged_out_actions_send_to_login_with_a_safe_next(client, world, payload, htmx):
    headers = {} if "\n" in payload else {"Referer": f"http://localhost{payload}"}
    headers.update(HTMX if htmx else {})
    if htmx and "\n" not in payload:
        headers["HX-Current-URL"] = f"http://localhost{payload}"
    for response in (
        client.post(f"{_q1_url(world)}/vote", data={"next": payload}, headers=headers),
        client.post(f"/diseases/{world.d2.slug}/map/join", headers=headers),
        client.get(f"/account?next={payload}", headers=headers),
    ):
        _assert_stays_on_site(_redirect_target(response))


# --- stored XSS ------------------------------------------------------------------------------

XSS_PAYLOADS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<div hx-get="/evil" hx-trigger="load">x</div>',
    '<a data-hx-post="/evil" hx-on:click="alert(1)">x</a>',
    '[x](https://ok.example "t\\" hx-get=\\"/evil\\" x=\\"")',
    '"><svg onload=alert(1)>',
    "'><svg/onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<form action="https://evil.example"><button>x</button></form>',
    "<style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "{{ 7777*7 }}{% raw %}",
]
TEMPLATE_INJECTION_RESULT = "54439"

VOID_OK_TAGS = {
    "a", "abbr", "article", "aside", "blockquote", "body", "br", "button", "caption", "code",
    "datalist", "div", "em", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "head", "header", "hr", "html", "input", "label", "legend", "li", "link", "main",
    "meta", "nav", "ol", "option", "p", "path", "pre", "section", "select", "span", "strong",
    "svg", "table", "tbody", "td", "textarea", "th", "thead", "time", "title", "tr", "ul",
    "script",
}  # fmt: skip


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def assert_no_injected_markup(html: str) -> None:
    """Only the site's own markup: no script but htmx, no handlers, no hostile URLs or hx-*."""
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.elements:
        assert tag in VOID_OK_TAGS, (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/vendor/htmx-"), attrs
        if tag == "svg":
            assert attrs.get("id") == "world-map", attrs
        if tag == "form":
            assert attrs.get("action", "/").startswith("/"), attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            if name.startswith(("hx-", "data-hx-")):
                assert "/evil" not in value and "alert(" not in value, (tag, attrs)
            if name in ("href", "src", "action", "formaction", "hx-get", "hx-post"):
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                assert not squeezed.startswith(("javascript:", "data:", "vbscript:")), attrs
    assert TEMPLATE_INJECTION_RESULT not in html


def _pages_showing_user_content(client, w: World, comment_id: int) -> list[str]:
    """Every page and fragment that shows a comment, question, region, name or email."""
    q = _q1_url(w)
    urls = [
        q,
        f"{q}?comment_order=newest",
        f"/comments/{comment_id}",
        f"/comments/{comment_id}/reply",
        f"/comments/{comment_id}/edit",
        f"/comments/{comment_id}/delete",
        f"/questions/{w.q1.id}/comments?page=1",
        f"/diseases/{w.d1.slug}",
        f"/diseases/{w.d1.slug}/questions",
        f"/diseases/{w.d1.slug}/questions?sort=new",
        f"/diseases/{w.d1.slug}/map",
        f"/diseases/{w.d1.slug}/map/countries/FR",
        f"/diseases/{w.d1.slug}/map/entry",
        "/members/alice_a",
        "/members/alice_a?tab=comments",
        "/account",
        "/",
    ]
    pages = []
    for url in urls:
        for headers in ({}, HTMX):
            response = client.get(url, headers=headers)
            assert response.status_code in (200, 303, 401, 403), url
            pages.append(response.get_data(as_text=True))
    pages.append(client.get(f"/comments/{comment_id}/replies", headers=HTMX).get_data(as_text=True))
    return pages


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_stored_xss_in_every_text_input_is_inert_everywhere(client, world, payload):
    login(client, world.alice)
    assert (
        client.post(
            f"/questions/{world.q1.id}/comments", data={"body": f"Look: {payload}"}
        ).status_code
        == 303
    )
    comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()).limit(1))
    reply = client.post(
        f"/questions/{world.q1.id}/comments",
        data={"body": f"Reply: {payload}", "parent_id": comment.id},
        headers=HTMX,
    )
    assert reply.status_code == 200
    assert_no_injected_markup(reply.get_data(as_text=True))
    edited = client.post(f"/comments/{comment.id}/edit", data={"body": f"Edit: {payload}"})
    assert edited.status_code == 303
    asked = client.post(
        f"/diseases/{world.d1.slug}/questions/ask",
        data={"title": f"Why {payload[:150]} here", "prompt": payload[:300]},
    )
    assert asked.status_code == 303
    joined = client.post(
        f"/diseases/{world.d1.slug}/map/entry",
        data={
            "role": "patient",
            "country": "France",
            "region": payload[:80],
            "visibility": "named",
        },
    )
    assert joined.status_code == 303
    client.post("/account/email", data={"email": f"{payload.replace(' ', '')[:200]}@x.example"})

    for html in _pages_showing_user_content(client, world, comment.id):
        assert_no_injected_markup(html)

    export = client.get("/account/export")
    assert export.mimetype == "application/json"
    assert export.headers["X-Content-Type-Options"] == "nosniff"
    assert export.headers["Content-Disposition"].startswith("attachment;")
    assert export.get_json()["map_entries"][0]["region"] == payload[:80]


@pytest.mark.parametrize("payload", [p for p in XSS_PAYLOADS if len(p) <= 40])
def test_stored_xss_in_a_guest_name_is_inert(client, world, payload):
    response = client.post(
        f"/questions/{world.q1.id}/comments", data={"body": "Hello.", "guest_name": payload}
    )
    if response.status_code != 303:
        return  # refused as a name: nothing to render
    comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()).limit(1))
    for html in _pages_showing_user_content(client, world, comment.id):
        assert_no_injected_markup(html)
    login(client, world.bob)
    for html in _pages_showing_user_content(client, world, comment.id):
        assert_no_injected_markup(html)


@pytest.mark.parametrize(
    "username",
    ["<script>x", "a\"onmouseover='x'", "ab c", "ab/c", "ab%2fc", "..", "ab\u202ecd", "a\nbc"],
)
def test_usernames_cannot_carry_markup_or_path_tricks(client, world, username):
    before = snapshot()
    response = client.post("/signup", data={"username": username, "password": NEW_PASSWORD})
    assert response.status_code == 422
    assert snapshot() == before


# --- reflected XSS -----------------------------------------------------------------------------

REFLECTED = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    "url",
    [
        "/?q={p}",
        "/login?next={p}",
        "/signup?next={p}",
        "/diseases/{d}/questions?sort={p}&page=1",
        "/diseases/{d}/questions?page={p}",
        "/members/alice_a?tab={p}&page={p}",
        "{q}?comment_order={p}&comment_page={p}",
        "/questions/{qid}/comments?order={p}&page={p}&after={p}",
        "/comments/{c}/reply?cancel={p}",
        "/diseases/{d}/map/countries/{p}",
        "/diseases/{p}",
        "/members/{p}",
        "/no-such-page/{p}",
    ],
)
def test_reflected_xss_through_the_query_string_is_inert(client, world, url, htmx):
    login(client, world.alice)
    target = url.format(
        p=REFLECTED, d=world.d1.slug, q=_q1_url(world), qid=world.q1.id, c=world.c1.id
    )
    response = client.get(target, headers=HTMX if htmx else {})
    assert response.status_code < 500
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert_no_injected_markup(html)


# --- Unicode tricks in names ------------------------------------------------------------------


@pytest.mark.parametrize(
    "username",
    [
        "Alice_A",
        "ALICE_A",
        " alice_a ",
        "ａｌｉｃｅ_ａ",  # fullwidth: NFKC folds it to alice_a
        "аlice_a",  # Cyrillic а
        "alice_a\u200b",
        "alice\u00ada",
        "alıce_a",  # dotless i
    ],
)
def test_no_second_account_under_a_lookalike_username(client, world, username):
    before = snapshot()
    response = client.post("/signup", data={"username": username, "password": NEW_PASSWORD})
    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize(
    "guest_name",
    ["alice_a", "ALICE_A", "Alice_A ", "ａｌｉｃｅ_ａ", "alice_a\u200b", "\u202ealice_a"],
)
def test_a_guest_cannot_take_a_members_name(client, world, guest_name):
    before = snapshot()
    response = client.post(
        f"/questions/{world.q1.id}/comments", data={"body": "Trust me.", "guest_name": guest_name}
    )
    assert response.status_code == 422
    assert snapshot() == before


# --- rate limits -----------------------------------------------------------------------------


def _limited_actions(w: World):
    """(setting, who, request maker, how many rows the allowed requests add)."""
    q = _q1_url(w)
    return {
        "login": ("RATELIMIT_LOGIN_IP", None, lambda c, n: c.post(
            "/login", data={"username": f"nobody{n}", "password": "wrong password"})),
        "login-account": ("RATELIMIT_LOGIN_ACCOUNT", None, lambda c, n: c.post(
            "/login", data={"username": "alice_a", "password": "wrong password"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})),
        "signup": ("RATELIMIT_SIGNUP", None, lambda c, n: c.post(
            "/signup", data={"username": f"newbie{n}", "password": NEW_PASSWORD})),
        "comment-member": ("RATELIMIT_POST_MEMBER", w.alice, lambda c, n: c.post(
            f"/questions/{w.q1.id}/comments", data={"body": f"Comment {n}"})),
        "comment-guest": ("RATELIMIT_POST_GUEST", None, lambda c, n: c.post(
            f"/questions/{w.q1.id}/comments", data={"body": f"Guest {n}", "guest_name": "Gail"})),
        "comment-edit": ("RATELIMIT_POST_MEMBER", w.alice, lambda c, n: c.post(
            f"/comments/{w.c1.id}/edit", data={"body": f"Edit {n}"})),
        "vote": ("RATELIMIT_VOTE", w.alice, lambda c, n: c.post(f"{q}/vote")),
        "vote-visitor": ("RATELIMIT_VOTE", None, lambda c, n: c.post(f"{q}/vote")),
        "ask": ("RATELIMIT_QUESTION", w.alice, lambda c, n: c.post(
            f"/diseases/{w.d1.slug}/questions/ask",
            data={"title": f"Is question number {n} ever answered?"})),
        "map-join": ("RATELIMIT_MAP", w.bob, lambda c, n: c.post(
            f"/diseases/{w.d1.slug}/map/join" if n == 0 else f"/diseases/{w.d1.slug}/map/entry",
            data={"role": "patient", "country": "Spain", "region": f"R{n}",
                  "visibility": "named"})),
        "password-check": ("RATELIMIT_LOGIN_ACCOUNT", w.alice, lambda c, n: c.post(
            "/account/password",
            data={"current_password": f"guess number {n}", "new_password": NEW_PASSWORD})),
        "delete-check": ("RATELIMIT_LOGIN_ACCOUNT", w.alice, lambda c, n: c.post(
            "/account/delete", data={"password": f"guess number {n}"})),
        "password-reset": ("RATELIMIT_PASSWORD_RESET", None, lambda c, n: c.post(
            "/password/forgot", data={"email": f"someone{n}@example.org"})),
        "contact-request": ("RATELIMIT_POST_MEMBER", w.alice, lambda c, n: c.post(
            "/members/bob_b/connect", data={"note": f"Note {n}"})),
        "message": ("RATELIMIT_POST_MEMBER", w.alice, lambda c, n: c.post(
            f"/messages/{w.conversation.id}", data={"body": f"Message {n}"})),
    }  # fmt: skip


LIMITED = [
    "login", "login-account", "signup", "comment-member", "comment-guest", "comment-edit",
    "vote", "vote-visitor", "ask", "map-join", "password-check", "delete-check",
    "password-reset", "contact-request", "message",
]  # fmt: skip


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("action", LIMITED)
def test_rate_limits_hold_and_say_when_to_retry(app, client, world, action, htmx):
    setting, who, send = _limited_actions(world)[action]
    app.config[setting] = "2 per minute"
    as_user(client, who)
    headers = HTMX if htmx else {}
    for n in range(2):
        response = _with_headers(send, client, n, headers)
        assert response.status_code != 429, action
    before = snapshot()

    limited = _with_headers(send, client, 2, headers)

    # Some htmx fragments come back as 200 with the message (htmx 2 swaps 2xx only).
    assert limited.status_code == 429 or (htmx and limited.status_code == 200), action
    assert int(limited.headers["Retry-After"]) > 0
    assert snapshot() == before


def _with_headers(send, client, n, headers):
    original = client.open

    def open_with_headers(*args, **kwargs):
        kwargs["headers"] = {**headers, **(kwargs.get("headers") or {})}
        return original(*args, **kwargs)

    client.open = open_with_headers
    try:
        return send(client, n)
    finally:
        client.open = original


def test_every_limited_action_is_listed(world):
    assert set(LIMITED) == set(_limited_actions(world))


# --- headers and cookies -----------------------------------------------------------------------


def assert_security_headers(response) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp
    assert re.search(r"script-src 'self'(;|$)", csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "object-src 'none'" in csp and "base-uri 'self'" in csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy")
    assert response.headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("endpoint", sorted(GET_ROUTES))
def test_security_headers_on_every_page_and_fragment(client, world, endpoint, htmx, method):
    login(client, world.alice)
    response = client.open(
        GET_ROUTES[endpoint].url(world), method=method, headers=HTMX if htmx else {}
    )
    assert_security_headers(response)
    response.close()


@pytest.mark.parametrize(
    "kind",
    ["404", "405", "csrf-400", "413", "429", "redirect", "login-redirect-htmx", "nul-400"],
)
def test_security_headers_on_error_and_redirect_responses(app, client, world, kind):
    if kind == "404":
        response = client.get("/no/such/page", headers=HTMX)
    elif kind == "405":
        response = client.get("/logout")
    elif kind == "csrf-400":
        response = client.post("/logout", csrf=False, headers=HTMX)
    elif kind == "413":
        response = client.post("/login", data={"username": "x" * 70_000})
    elif kind == "429":
        app.config["RATELIMIT_LOGIN_IP"] = "1 per minute"
        client.post("/login", data={"username": "a", "password": "b"})
        response = client.post("/login", data={"username": "a", "password": "b"})
        assert response.status_code == 429
    elif kind == "redirect":
        response = client.get("/account")
    elif kind == "login-redirect-htmx":
        response = client.post(f"{_q1_url(world)}/vote", headers=HTMX)
    else:
        response = client.get("/?q=%00")
        assert response.status_code == 400
    assert_security_headers(response)


def test_session_cookie_flags(client, world):
    response = client.post("/login", data={"username": "alice_a", "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


@pytest.mark.parametrize(
    "url",
    [
        "/account",
        "/account/export",
        "/members/alice_a",
        "/contacts",
        "/messages",
        "/messages/{c}",
        "/notifications",
        "/notifications/settings",
        "/members/bob_b/connect",
    ],
)
def test_pages_with_private_data_are_never_stored(client, world, url):
    login(client, world.alice)
    response = client.get(url.format(c=world.conversation.id))
    assert response.headers["Cache-Control"] == "no-store"


def test_the_polled_unread_count_is_private_and_revalidated(client, world):
    login(client, world.alice)
    response = client.get("/notifications/count", headers=HTMX)
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["ETag"]


@pytest.mark.parametrize("endpoint", ["maps.show", "maps.country", "maps.join", "maps.edit"])
def test_map_pages_are_noindex(client, world, endpoint):
    login(client, world.alice)
    response = client.get(GET_ROUTES[endpoint].url(world))
    assert "noindex" in response.headers["X-Robots-Tag"]


# --- de-anonymising members who joined a map anonymously -------------------------------------


def _all_get_urls(w: World) -> list[str]:
    urls = [route.url(w) for route in GET_ROUTES.values()]
    urls += [
        f"/diseases/{w.d1.slug}/map/countries/DE",
        f"/diseases/{w.d1.slug}/map/countries/FR",
        f"/questions/{w.q1.id}/comments?page=1&order=newest",
        f"/comments/{w.hana_comment.id}",
        f"/comments/{w.hana_comment.id}/replies",
        f"/comments/{w.hana_comment.id}/reply",
        "/members/hidden_hana",
        "/members/hidden_hana?tab=comments",
        "/members/alice_a",
        "/?q=",
    ]
    return urls


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_anonymous_map_members_are_never_named_or_placed(client, world, who):
    if who == "member":
        login(client, world.bob)
    for url in _all_get_urls(world):
        for headers in ({}, HTMX):
            response = client.get(url, headers=headers)
            text = response.get_data(as_text=True)
            response.close()
            # Quinn exists only on the map: her name must not appear anywhere at all.
            if not url.startswith("/members/quiet_quinn"):
                assert "quiet_quinn" not in text, url
            # No anonymous member's region or year, on any page.
            for secret in ("Quietville", "Hanaburg", "2011"):
                assert secret not in text, (url, secret)
            # Hana's comments show her name, but never her role in the community.
            match = re.search(
                rf'<article id="comment-{world.hana_comment.id}".*?</article>', text, re.S
            )
            if match:
                assert "badge-role" not in match.group(0), url
                assert "Caregiver" not in match.group(0), url
            # Her profile never lists the disease she joined anonymously.
            if url.startswith("/members/hidden_hana"):
                assert "community-list" not in text, url


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_an_anonymous_members_profile_shows_no_community(client, world, who):
    if who == "member":
        login(client, world.bob)
    text = client.get("/members/quiet_quinn").get_data(as_text=True)
    assert world.d1.name not in text
    assert "Quietville" not in text


def test_the_anonymous_member_sees_their_own_entry_and_no_one_else_does(client, world):
    login(client, world.quinn)
    assert world.d1.name in client.get("/members/quiet_quinn").get_data(as_text=True)
    export = client.get("/account/export").get_json()
    assert export["map_entries"][0]["region"] == "Quietville"


def test_visitors_see_counts_only_never_names_or_regions(client, world):
    text = client.get(f"/diseases/{world.d1.slug}/map/countries/FR").get_data(as_text=True)
    assert "alice_a" not in text and "Lyon" not in text
    assert "2 members" in text


def test_a_country_list_for_members_names_only_named_members(client, world):
    login(client, world.bob)
    text = client.get(f"/diseases/{world.d1.slug}/map/countries/FR", headers=HTMX).get_data(
        as_text=True
    )
    assert "alice_a" in text and "Lyon" in text
    assert text.count("<li>") == 1  # Quinn is counted, not listed


def test_leaving_the_map_removes_the_entry_at_once(client, world):
    login(client, world.alice)
    client.post(f"/diseases/{world.d1.slug}/map/leave")
    assert db.session.scalar(select(MapEntry).where(MapEntry.user_id == world.alice.id)) is None
    login(client, world.bob)
    text = client.get(f"/diseases/{world.d1.slug}/map/countries/FR").get_data(as_text=True)
    assert "alice_a" not in text and "Lyon" not in text
