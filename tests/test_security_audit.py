"""The attacks of a first public day, run against every route of the app's url_map.

Each route must be listed in ROUTES below with how to call it: a new endpoint that is not
listed fails the suite, and once listed it is attacked like the others (CSRF, state changes on
GET, authorization, oversized bodies, security headers, caching, de-anonymisation of map
members).

Most attacks change nothing, so the module's tests share one world (one database, built once);
each checks on teardown that the world is as it was. A test whose requests do change it (a
successful post, a login, a rate limit's allowed requests) takes the `own` fixture: a database
and world of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed

from forum.auth.service import reset_token
from forum.comments.service import recount_comments
from forum.extensions import db, limiter
from forum.htmx import HTMX_HEADERS
from forum.mail.service import unsubscribe_token, verification_token
from forum.models import (
    Ban,
    Comment,
    MapEntry,
    Message,
    MessageReport,
    Notification,
    Question,
    Report,
    User,
)
from forum.models.base import utcnow
from tests.conftest import HTMX, make_test_app, session_for
from tests.connect_factories import make_block, make_conversation, make_request, verify
from tests.factories import (
    PASSWORD,
    make_comment,
    make_disease,
    make_map_entry,
    make_question,
    make_user,
)
from tests.html import attr, parse

NEW_PASSWORD = "plum tree under snow"
EVIL = "evil.example"


# --- the world every attack runs in --------------------------------------------------------


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    session: dict  # what logging in leaves in the session (its login row is in the world)


@dataclass(frozen=True)
class Row:
    id: int
    slug: str = ""
    name: str = ""


@dataclass(frozen=True)
class World:
    """Plain values, not ORM objects: a module's tests share one world across sessions."""

    alice: Member  # the attacked member: owns c1, is on d1's map by name
    bob: Member  # the attacker: another member
    quinn: Member  # on d1's map anonymously, nothing else
    hana: Member  # on d1's map anonymously, and comments under q1
    d1: Row
    d2: Row
    q1: Row  # d1's question, asked by bob
    q2: Row  # d2's question
    c1: Row  # alice's comment under q1
    c2: Row  # bob's comment under q1
    c3: Row  # bob's comment under q2 (another disease)
    hana_comment: Row
    gone: Row  # bob's comment under q1, deleted by him
    # Moderation: a moderator and an administrator, and what their actions need to act on.
    mona: Member  # a moderator
    ada: Member  # an administrator
    benny: Member  # a member banned until lifted
    hidden: Row  # bob's comment under q1, hidden by mona (restore acts on it)
    held: Row  # a guest's comment under q1 awaiting review (approve, reject)
    # Connect: hana asked alice to connect (open); alice and hana also have a conversation;
    # alice blocked quinn; alice has an unread notification and an unverified address.
    request: Row
    conversation: Row
    hana_message: Row
    reported_message: Row
    report: Row
    notification: Row


def _user(member: Member) -> User:
    """The ORM row of a world member (signed tokens are made from it)."""
    return db.session.get(User, member.id)


def build_world() -> World:
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
    gone = make_comment(q1, bob, "Bob took this back.", deleted=True)
    make_map_entry(d1, alice, "FR", region="Lyon")
    make_map_entry(d1, quinn, "FR", region="Quietville", anonymous=True, since_year=2011)
    make_map_entry(d1, hana, "DE", role="caregiver", region="Hanaburg", anonymous=True)
    mona = make_user("mona_mod", role="moderator")
    ada = make_user("ada_admin", role="admin")
    benny = make_user("benny_banned")
    db.session.add(Ban(user_id=benny.id, moderator_id=mona.id, reason="Spam."))
    hidden = make_comment(q1, bob, "Bob's removed words.", hidden=True)
    hidden.hidden_reason = "spam"
    held = make_comment(q1, body="A guest's words awaiting review.")
    held.held_at = utcnow()
    # An open report on c2 (dismiss acts on it), and q2's discussion locked (unlock acts on it).
    db.session.add(
        Report(target_type="comment", target_id=c2.id, reporter_id=hana.id, reason="spam")
    )
    db.session.get(Question, q2.id).locked_at = utcnow()
    db.session.flush()
    recount_comments(q1.id)
    db.session.commit()
    bob.contact_policy = "anyone"
    alice.email = "alice.before@example.org"  # not verified yet
    verify(hana, "hana@example.org")
    request = make_request(hana, alice, "Hana would like to talk.")
    conversation = make_conversation(
        alice, hana, (hana, "First words from Hana."), (hana, "Second words from Hana.")
    )
    reported_message, hana_message = db.session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
    ).all()
    report = MessageReport(message_id=reported_message.id, reporter_id=alice.id)
    db.session.add(report)
    make_block(alice, quinn)
    notification = Notification(user_id=alice.id, event="reply", url="/", summary="A title")
    db.session.add(notification)
    db.session.commit()

    def member(user: User) -> Member:
        return Member(user.id, user.username, session_for(user))

    def row(thing) -> Row:
        return Row(thing.id, getattr(thing, "slug", ""), getattr(thing, "name", ""))

    members = [member(user) for user in (alice, bob, quinn, hana)]
    rows = [row(thing) for thing in (d1, d2, q1, q2, c1, c2, c3, hana_comment, gone)]
    staff = [member(user) for user in (mona, ada, benny)]
    connect = [row(thing) for thing in (request, conversation, hana_message, reported_message)]
    connect += [row(report), row(notification)]
    return World(*members, *rows, *staff, row(hidden), row(held), *connect)


@pytest.fixture(scope="module")
def shared_world(database_factory, tmp_path_factory):
    """One app, database and world for the module's read-only tests, and the world's rows."""
    url = database_factory.create(tmp_path_factory.mktemp("audit"))
    app = make_test_app(url)
    with app.app_context():
        world = build_world()
        rows = snapshot()
    yield app, world, rows
    with app.app_context():
        db.engine.dispose()
    database_factory.drop(url)


@pytest.fixture
def app(shared_world):
    """The shared world's app (this module's `client` talks to it). A test that would change
    the world uses `own` instead; one that changes it anyway fails here."""
    app, _world, rows = shared_world
    with app.app_context():
        limiter.reset()
        yield app
        changed = snapshot() != rows
        db.session.remove()
    assert not changed, "a test changed the shared world: give it its own (the `own` fixture)"


@pytest.fixture
def world(shared_world, app) -> World:
    return shared_world[1]


@dataclass
class Own:
    app: object
    client: object
    world: World


@pytest.fixture
def own(database_url):
    """A database, app, client and world of the test's own, for tests that change the world."""
    app = make_test_app(database_url)
    with app.app_context():
        limiter.reset()
        yield Own(app, app.test_client(), build_world())
        db.session.remove()
        db.engine.dispose()


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


def as_user(client, user: Member | None) -> None:
    """Log `user` in on `client` with the world's login (no new login row)."""
    if user is not None:
        with client.session_transaction() as session:
            session.update(user.session)


# --- every route, and how to call it --------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """How to call one endpoint of the url_map in the world above."""

    url: object  # World -> str
    data: object = None  # World -> dict, for POST
    # "public": anyone; "login": needs a logged-in member (acts on their own data only);
    # "owner": needs the member who owns the object in the URL (alice owns c1);
    # "moderator" / "admin": moderators and admins (admins only); pages 404, actions 403 else.
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
    "moderation.report": Route(
        lambda w: f"/moderation/report/comment/{w.c2.id}",
        lambda w: {"reason": "misinformation", "note": "Wrong."},
        "login",
    ),
    "moderation.dismiss": Route(
        lambda w: f"/moderation/items/comment/{w.c2.id}/dismiss", lambda w: {}, "moderator"
    ),
    "moderation.hide": Route(
        lambda w: f"/moderation/items/comment/{w.c2.id}/hide",
        lambda w: {"reason": "spam"},
        "moderator",
    ),
    "moderation.restore": Route(
        lambda w: f"/moderation/items/comment/{w.hidden.id}/restore", lambda w: {}, "moderator"
    ),
    "moderation.lock": Route(
        lambda w: f"/moderation/questions/{w.q1.id}/lock", lambda w: {}, "moderator"
    ),
    "moderation.unlock": Route(
        lambda w: f"/moderation/questions/{w.q2.id}/unlock", lambda w: {}, "moderator"
    ),
    "moderation.approve": Route(
        lambda w: f"/moderation/comments/{w.held.id}/approve", lambda w: {}, "moderator"
    ),
    "moderation.reject": Route(
        lambda w: f"/moderation/comments/{w.held.id}/reject", lambda w: {}, "moderator"
    ),
    "moderation.ban": Route(
        lambda w: f"/moderation/members/{w.bob.id}/ban",
        lambda w: {"length": "day", "reason": "Insults."},
        "moderator",
    ),
    "moderation.unban": Route(
        lambda w: f"/moderation/members/{w.benny.id}/unban", lambda w: {}, "moderator"
    ),
    "moderation.set_role": Route(
        lambda w: "/moderation/roles", lambda w: {"username": "bob_b", "role": "moderator"}, "admin"
    ),
    "auth.forgot_password": Route(
        lambda w: "/password/forgot", lambda w: {"email": "hana@example.org"}
    ),
    "auth.reset_password": Route(
        lambda w: f"/password/reset/{reset_token(_user(w.hana))}",
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
    "messages.dismiss_report": Route(
        lambda w: f"/messages/reports/{w.report.id}/dismiss", lambda w: {}, "moderator"
    ),
    "messages.remove_message": Route(
        lambda w: f"/messages/reports/{w.report.id}/remove",
        lambda w: {"reason": "harassment"},
        "moderator",
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
    "mail.verify": Route(
        lambda w: f"/email/verify/{verification_token(_user(w.alice))}", lambda w: {}
    ),
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
    "health.healthz": Route(lambda w: "/healthz"),
    "health.readyz": Route(lambda w: "/readyz"),
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
    "maps.small_map": Route(lambda w: f"/diseases/{w.d1.slug}/map/small.svg"),
    "pages.about": Route(lambda w: "/about"),
    "pages.guidelines": Route(lambda w: "/guidelines"),
    "pages.privacy": Route(lambda w: "/privacy"),
    "pages.contact": Route(lambda w: "/contact"),
    "maps.join": Route(lambda w: f"/diseases/{w.d2.slug}/map/join", access="login"),
    "maps.edit": Route(lambda w: f"/diseases/{w.d1.slug}/map/entry", access="login"),
    "moderation.report": Route(lambda w: f"/moderation/report/comment/{w.c2.id}", access="login"),
    "moderation.log": Route(lambda w: "/moderation/log?page=1"),
    "moderation.queue_page": Route(lambda w: "/moderation", access="moderator"),
    "moderation.item": Route(lambda w: f"/moderation/items/comment/{w.c2.id}", access="moderator"),
    "moderation.bans_page": Route(lambda w: "/moderation/bans", access="moderator"),
    "moderation.roles_page": Route(lambda w: "/moderation/roles", access="admin"),
    "auth.forgot_password": Route(lambda w: "/password/forgot"),
    "auth.reset_password": Route(lambda w: f"/password/reset/{reset_token(_user(w.hana))}"),
    "contacts.ask": Route(lambda w: "/members/bob_b/connect", access="login"),
    "contacts.index": Route(lambda w: "/contacts", access="login"),
    "messages.index": Route(lambda w: "/messages", access="login"),
    "messages.show": Route(lambda w: f"/messages/{w.conversation.id}?after=0", access="owner"),
    "messages.reports": Route(lambda w: "/messages/reports", access="login"),
    "messages.reported": Route(lambda w: f"/messages/reports/{w.report.id}", access="login"),
    "notifications.index": Route(lambda w: "/notifications", access="login"),
    "notifications.count": Route(lambda w: "/notifications/count", access="login"),
    "notifications.settings": Route(lambda w: "/notifications/settings", access="login"),
    "mail.verify": Route(lambda w: f"/email/verify/{verification_token(_user(w.alice))}"),
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
    access = POST_ROUTES[endpoint].access
    return {"public": None, "moderator": w.mona, "admin": w.ada}.get(access, w.alice)


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
def test_the_same_post_with_the_token_does_change_the_database(own, endpoint, htmx):
    """Proves the requests above would have done something: the token was the only wall."""
    client, world = own.client, own.world
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
    # /readyz answers 503 on purpose here: the test database is built without Alembic.
    unready = endpoint == "health.readyz" and response.status_code == 503
    assert response.status_code < 500 or unready
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
    as_user(client, world.bob)
    before = snapshot()
    response = _post(client, world, endpoint, headers=HTMX if htmx else {})
    assert response.status_code in (403, 404)
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", _protected(GET_ROUTES, "owner"))
def test_another_member_cannot_open_the_edit_or_delete_page(client, world, endpoint):
    as_user(client, world.bob)
    response = client.get(GET_ROUTES[endpoint].url(world))
    assert response.status_code in (403, 404)
    assert "first comment" not in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", ["maps.edit", "maps.leave"])
def test_map_changes_only_ever_touch_the_members_own_entry(client, world, endpoint):
    """Bob has no entry on d1's map: his edit or leave must not reach Alice's."""
    as_user(client, world.bob)
    before = snapshot()
    response = _post(client, world, endpoint)
    assert response.status_code in (302, 303)
    assert snapshot() == before


STAFF_POSTS = _protected(POST_ROUTES, "moderator") + _protected(POST_ROUTES, "admin")
STAFF_PAGES = _protected(GET_ROUTES, "moderator") + _protected(GET_ROUTES, "admin")


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("who", ["visitor", "member", "banned"])
@pytest.mark.parametrize("endpoint", STAFF_POSTS)
def test_moderation_actions_are_403_for_everyone_but_moderators(client, world, endpoint, who, htmx):
    as_user(client, {"visitor": None, "member": world.alice, "banned": world.benny}[who])
    before = snapshot()
    response = _post(client, world, endpoint, headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_moderator_cannot_change_roles(client, world, htmx):
    as_user(client, world.mona)
    before = snapshot()
    response = _post(client, world, "moderation.set_role", headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("who", ["visitor", "member"])
@pytest.mark.parametrize("endpoint", STAFF_PAGES)
def test_moderation_pages_are_404_for_everyone_but_moderators(client, world, endpoint, who, htmx):
    as_user(client, world.alice if who == "member" else None)
    response = client.get(GET_ROUTES[endpoint].url(world), headers=HTMX if htmx else {})
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "removed words" not in text and "awaiting review" not in text


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("who", ["mona", "ada"])
@pytest.mark.parametrize("endpoint", STAFF_PAGES)
def test_moderation_pages_change_nothing_for_moderators(client, world, endpoint, who, htmx, method):
    as_user(client, getattr(world, who))
    before = snapshot()
    response = client.open(
        GET_ROUTES[endpoint].url(world), method=method, headers=HTMX if htmx else {}
    )
    expected = 404 if (GET_ROUTES[endpoint].access == "admin" and who == "mona") else 200
    assert response.status_code == expected
    assert response.headers["Cache-Control"] == "no-store" or expected == 404
    response.close()
    assert snapshot() == before


def test_a_comment_id_of_another_member_in_the_edit_form_is_not_used(client, world):
    """Hidden fields cannot redirect an edit: the URL's comment is checked, not the form's."""
    as_user(client, world.bob)
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
    as_user(client, world.bob)
    parent_id = {
        "other-question": world.c3.id,
        "missing": 999_999,
        "deleted": world.gone.id,
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
    as_user(client, world.alice)
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
    as_user(client, world.alice)
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
def test_login_next_never_leaves_the_site(own, payload, htmx):
    client = own.client
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
    value = attr(html, 'input[name="next"]', "value")
    if value:
        _assert_stays_on_site(value)
    as_user(client, world.alice)
    response = client.get("/login", query_string={"next": payload})
    assert response.status_code == 303
    _assert_stays_on_site(response.headers["Location"])


@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
def test_signup_next_never_leaves_the_site(own, payload):
    client = own.client
    response = client.post(
        "/signup", data={"username": "new_member", "password": NEW_PASSWORD, "next": payload}
    )
    assert response.status_code == 303
    _assert_stays_on_site(response.headers["Location"])


@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
def test_vote_next_and_referer_never_leave_the_site(own, payload):
    client, world = own.client, own.world
    as_user(client, world.alice)
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
    # The logo (an inline SVG), the small map image, names kept in their direction, and
    # long comments folded under "Read more".
    "circle", "g", "img", "bdi", "details", "summary",
}  # fmt: skip


def assert_no_injected_markup(html: str) -> None:
    """Only the site's own markup: no script but htmx, no handlers, no hostile URLs or hx-*."""
    for element in parse(html).find_all(True):
        tag, attrs = element.name, element.attrs
        assert tag in VOID_OK_TAGS, (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/vendor/htmx-"), attrs
        if tag == "svg":
            assert attrs.get("id") == "world-map" or attrs.get("class") == "logo", attrs
        if tag == "img":
            assert re.fullmatch(r"/diseases/[^/]+/map/small\.svg", attrs.get("src", "")), attrs
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
def test_stored_xss_in_every_text_input_is_inert_everywhere(own, payload):
    client, world = own.client, own.world
    as_user(client, world.alice)
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
def test_stored_xss_in_a_guest_name_is_inert(own, payload):
    client, world = own.client, own.world
    response = client.post(
        f"/questions/{world.q1.id}/comments", data={"body": "Hello.", "guest_name": payload}
    )
    if response.status_code != 303:
        return  # refused as a name: nothing to render
    comment = db.session.scalar(select(Comment).order_by(Comment.id.desc()).limit(1))
    for html in _pages_showing_user_content(client, world, comment.id):
        assert_no_injected_markup(html)
    as_user(client, world.bob)
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
        "/moderation/log?page={p}",
        "/moderation/report/comment/{c}?cancel={p}",
        "/no-such-page/{p}",
    ],
)
def test_reflected_xss_through_the_query_string_is_inert(client, world, url, htmx):
    as_user(client, world.alice)
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
            "/login", data={"username": "alice_a", "password": "wrong password"})),
        "login-account-untrusted": ("RATELIMIT_LOGIN_ACCOUNT_UNTRUSTED", None, lambda c, n: c.post(
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
        "report": ("RATELIMIT_REPORT", w.alice, lambda c, n: c.post(
            [f"/moderation/report/comment/{w.c2.id}",
             f"/moderation/report/comment/{w.hana_comment.id}",
             f"/moderation/report/question/{w.q1.id}"][n],
            data={"reason": "spam"})),
        "password-reset": ("RATELIMIT_PASSWORD_RESET", None, lambda c, n: c.post(
            "/password/forgot", data={"email": f"someone{n}@example.org"})),
        "contact-request": ("RATELIMIT_POST_MEMBER", w.alice, lambda c, n: c.post(
            "/members/bob_b/connect", data={"note": f"Note {n}"})),
        "message": ("RATELIMIT_POST_MEMBER", w.alice, lambda c, n: c.post(
            f"/messages/{w.conversation.id}", data={"body": f"Message {n}"})),
    }  # fmt: skip


LIMITED = [
    "login", "login-account", "login-account-untrusted", "signup", "comment-member",
    "comment-guest", "comment-edit",
    "vote", "vote-visitor", "ask", "map-join", "password-check", "delete-check", "report",
    "password-reset", "contact-request", "message",
]  # fmt: skip


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("action", LIMITED)
def test_rate_limits_hold_and_say_when_to_retry(own, action, htmx):
    app, client, world = own.app, own.client, own.world
    setting, who, send = _limited_actions(world)[action]
    app.config[setting] = "2 per minute"
    as_user(client, who)
    headers = HTMX if htmx else {}
    for n in range(2):
        response = _with_headers(send, client, n, headers)
        assert response.status_code != 429, action
    before = snapshot()

    limited = _with_headers(send, client, 2, headers)

    assert limited.status_code == 429, action
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
    as_user(client, world.alice)
    response = client.open(
        GET_ROUTES[endpoint].url(world), method=method, headers=HTMX if htmx else {}
    )
    assert_security_headers(response)
    response.close()


@pytest.mark.parametrize(
    "kind",
    ["404", "405", "csrf-400", "413", "429", "redirect", "login-redirect-htmx", "nul-400"],
)
def test_security_headers_on_error_and_redirect_responses(app, client, world, kind, monkeypatch):
    if kind == "404":
        response = client.get("/no/such/page", headers=HTMX)
    elif kind == "405":
        response = client.get("/logout")
    elif kind == "csrf-400":
        response = client.post("/logout", csrf=False, headers=HTMX)
    elif kind == "413":
        response = client.post("/login", data={"username": "x" * 70_000})
    elif kind == "429":
        monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_IP", "1 per minute")
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


def test_session_cookie_flags(own):
    client = own.client
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
    as_user(client, world.alice)
    response = client.get(url.format(c=world.conversation.id))
    assert response.headers["Cache-Control"] == "no-store"


def test_the_polled_unread_count_is_private_and_revalidated(client, world):
    as_user(client, world.alice)
    response = client.get("/notifications/count", headers=HTMX)
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["ETag"]


@pytest.mark.parametrize("endpoint", ["maps.show", "maps.country", "maps.join", "maps.edit"])
def test_map_pages_are_noindex(client, world, endpoint):
    as_user(client, world.alice)
    response = client.get(GET_ROUTES[endpoint].url(world))
    assert "noindex" in response.headers["X-Robots-Tag"]


def _without_csrf_tokens(html: bytes) -> bytes:
    """The page with its CSRF tokens blanked: they carry the second they were signed in."""
    html = re.sub(rb'("X-CSRFToken": ")[^"]*', rb"\1", html)
    return re.sub(rb'(name="csrf_token" value=")[^"]*', rb"\1", html)


@pytest.mark.parametrize("who", ["visitor", "member"])
@pytest.mark.parametrize("endpoint", sorted(GET_ROUTES))
def test_an_answer_that_differs_for_htmx_varies_on_every_htmx_header(client, world, endpoint, who):
    """A cache must never give a fragment to a page load, or a page to htmx."""
    as_user(client, world.alice if who == "member" else None)
    url = GET_ROUTES[endpoint].url(world)
    page, fragment = client.get(url), client.get(url, headers=HTMX)

    def answer(response):
        body = _without_csrf_tokens(response.get_data())
        response.close()
        return response.status_code, response.headers.get("Location"), body

    if answer(page) != answer(fragment):
        for response in (page, fragment):
            assert set(HTMX_HEADERS) <= set(response.vary), (endpoint, response.vary)


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
        as_user(client, world.bob)
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
            for comment in parse(text).select(f"article#comment-{world.hana_comment.id}"):
                assert not comment.select(".badge-role"), url
                assert "Caregiver" not in comment.get_text(), url
            # Her profile never lists the disease she joined anonymously.
            if url.startswith("/members/hidden_hana"):
                assert "community-list" not in text, url


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_an_anonymous_members_profile_shows_no_community(client, world, who):
    if who == "member":
        as_user(client, world.bob)
    text = client.get("/members/quiet_quinn").get_data(as_text=True)
    assert world.d1.name not in text
    assert "Quietville" not in text


def test_the_anonymous_member_sees_their_own_entry_and_no_one_else_does(client, world):
    as_user(client, world.quinn)
    assert world.d1.name in client.get("/members/quiet_quinn").get_data(as_text=True)
    export = client.get("/account/export").get_json()
    assert export["map_entries"][0]["region"] == "Quietville"


def test_visitors_see_counts_only_never_names_or_regions(client, world):
    text = client.get(f"/diseases/{world.d1.slug}/map/countries/FR").get_data(as_text=True)
    assert "alice_a" not in text and "Lyon" not in text
    assert "2 members" in text


def test_a_country_list_for_members_names_only_named_members(client, world):
    as_user(client, world.bob)
    text = client.get(f"/diseases/{world.d1.slug}/map/countries/FR", headers=HTMX).get_data(
        as_text=True
    )
    assert "alice_a" in text and "Lyon" in text
    assert len(parse(text).select("li")) == 1  # Quinn is counted, not listed


def test_leaving_the_map_removes_the_entry_at_once(own):
    client, world = own.client, own.world
    as_user(client, world.alice)
    client.post(f"/diseases/{world.d1.slug}/map/leave")
    assert db.session.scalar(select(MapEntry).where(MapEntry.user_id == world.alice.id)) is None
    as_user(client, world.bob)
    text = client.get(f"/diseases/{world.d1.slug}/map/countries/FR").get_data(as_text=True)
    assert "alice_a" not in text and "Lyon" not in text
