"""The cache of visitors' pages: never stale after a write, never a member's page, never another
visitor's CSRF token, and 304 for a browser that already has the page."""

from __future__ import annotations

import re
import uuid

import pytest
import redis
from flask import g, has_app_context
from itsdangerous import URLSafeTimedSerializer

from forum import pagecache
from forum.comments.service import recount_comments
from forum.extensions import db
from forum.models import Comment, Question
from forum.moderation import service as moderation
from tests.conftest import HTMX, ForumClient, login, make_test_app
from tests.factories import make_comment

REDIS_URL = "redis://127.0.0.1:6379/11"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app_config():
    return {"PAGE_CACHE_SECONDS": 300}


@pytest.fixture
def disease(make):
    return make.make_disease("Scleromyxedema")


@pytest.fixture
def question(make, disease):
    return make.make_question(disease, "What helps with stiff hands?")


@pytest.fixture
def author(make):
    return make.make_user("ines_author")


def page_url(question) -> str:
    return f"/diseases/scleromyxedema/questions/{question.slug}"


class BrowserClient(ForumClient):
    """A client that, like a browser against a real server, never sees another request's `g`.

    The `app` fixture keeps one app context for the whole test, so Flask-WTF's signed token
    of one client's request would otherwise be handed to the next client's.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


def visitor(app):
    return BrowserClient(app, app.response_class, use_cookies=True)


def member_of(app, user):
    client = visitor(app)
    login(client, user)
    return client


def cached_twice(client, url):
    """Load `url` twice as the same visitor; the second answer comes from the cache."""
    first = client.get(url)
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Page-Cache"] in ("miss", "hit")
    assert second.headers["X-Page-Cache"] == "hit"
    return second


def token_of(response) -> str:
    return TOKEN.search(response.get_data(as_text=True)).group(1)


def token_owner(client, token: str) -> bool:
    """True when `token` is the CSRF token of `client`'s session (signed at any second)."""
    serializer = URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token")
    with client.session_transaction() as session:
        return serializer.loads(token) == session.get("csrf_token")


def without_tokens(response) -> str:
    html = response.get_data(as_text=True)
    return html.replace(token_of(response), "TOKEN")


def stored_bodies(app) -> list[bytes]:
    store = app.extensions["pagecache"]
    return [b"".join(entry.parts) for _, entry in store._items.values()]


# -- hits, and what a hit gives --------------------------------------------------------------


def test_a_visitor_gets_the_same_page_from_the_cache(app, question):
    client = visitor(app)
    first = client.get(page_url(question))
    second = client.get(page_url(question))

    assert second.headers["X-Page-Cache"] == "hit"
    # The same page; the token is signed with the time, so it may differ by a second.
    assert without_tokens(second) == without_tokens(first)
    assert second.headers["Content-Type"] == "text/html; charset=utf-8"
    assert second.headers["Cache-Control"] == "private, no-cache"
    assert "Content-Security-Policy" in second.headers
    assert "Cookie" in second.headers["Vary"]


def test_every_visitor_page_kind_is_cached(app, question, make, disease):
    make.make_map_entry(disease, country="FR")
    for url in (
        "/",
        "/?q=scler",
        "/diseases/scleromyxedema",
        "/diseases/scleromyxedema/questions",
        page_url(question),
        "/diseases/scleromyxedema/map",
        "/diseases/scleromyxedema/map/countries/FR",
    ):
        cached_twice(visitor(app), url)


def test_the_htmx_search_fragment_and_the_page_are_kept_apart(app, disease):
    client = visitor(app)
    cached_twice(client, "/?q=scler")
    fragment = client.get("/?q=scler", headers=HTMX)

    assert fragment.headers["X-Page-Cache"] == "miss"
    assert "<html" not in fragment.get_data(as_text=True)
    again = client.get("/?q=scler", headers=HTMX)
    assert again.headers["X-Page-Cache"] == "hit"
    assert "<html" not in again.get_data(as_text=True)
    assert "<html" in client.get("/?q=scler").get_data(as_text=True)


def test_an_unknown_disease_is_a_404_and_not_cached(app, disease):
    client = visitor(app)
    for _ in range(2):
        response = client.get("/diseases/nothing-here")
        assert response.status_code == 404
        assert "X-Page-Cache" not in response.headers


# -- never a member's page ---------------------------------------------------------------------


def test_a_visitor_never_gets_a_page_rendered_for_a_member(app, question, member):
    member_page = member_of(app, member).get(page_url(question))
    assert "Signed in as" in member_page.get_data(as_text=True)
    assert "X-Page-Cache" not in member_page.headers

    page = visitor(app).get(page_url(question))

    assert page.headers["X-Page-Cache"] == "miss"
    html = page.get_data(as_text=True)
    assert "Signed in as" not in html and "mira_member" not in html
    assert all(b"mira_member" not in body for body in stored_bodies(app))


def test_a_member_never_gets_the_visitors_page(app, question, member):
    cached_twice(visitor(app), page_url(question))

    page = member_of(app, member).get(page_url(question))

    assert "X-Page-Cache" not in page.headers
    assert "Signed in as" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private"


def test_a_visitor_with_a_message_waiting_is_not_served_from_the_cache(app, question):
    cached_twice(visitor(app), page_url(question))
    client = visitor(app)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "You are logged out.")]

    page = client.get(page_url(question))

    assert "X-Page-Cache" not in page.headers
    assert "You are logged out." in page.get_data(as_text=True)


def test_a_guest_who_gave_a_name_gets_their_own_page(app, question):
    cached_twice(visitor(app), page_url(question))
    client = visitor(app)
    with client.session_transaction() as session:
        session["guest_name"] = "Rosa Guest"

    page = client.get(page_url(question))

    assert "X-Page-Cache" not in page.headers
    assert 'value="Rosa Guest"' in page.get_data(as_text=True)


# -- CSRF tokens ---------------------------------------------------------------------------------


def test_each_visitor_gets_the_token_of_their_own_session(app, question):
    clients = [visitor(app) for _ in range(3)]
    tokens = []
    for client in clients:
        page = client.get(page_url(question))
        token = token_of(page)
        assert token_owner(client, token)  # the token of this client's session
        assert f'"X-CSRFToken": "{token}"' in page.get_data(as_text=True)
        tokens.append(token)

    assert [c.get(page_url(question)).headers["X-Page-Cache"] for c in clients] == ["hit"] * 3
    assert len(set(tokens)) == 3
    for body in stored_bodies(app):
        assert not any(token.encode() in body for token in tokens)


def test_a_first_visit_served_from_the_cache_starts_a_session_with_a_new_token(app, question):
    cached_twice(visitor(app), page_url(question))
    newcomer = visitor(app)

    page = newcomer.get(page_url(question))

    assert page.headers["X-Page-Cache"] == "hit"
    assert "Set-Cookie" in page.headers
    assert token_owner(newcomer, token_of(page))


def test_a_guest_comments_from_a_cached_page_without_javascript(app, question):
    cached_twice(visitor(app), page_url(question))
    guest = visitor(app)
    page = guest.get(page_url(question))
    assert page.headers["X-Page-Cache"] == "hit"

    # A plain form post: the token travels in the form, as a browser without JavaScript sends it.
    response = guest.post(
        f"/questions/{question.id}/comments",
        data={
            "csrf_token": token_of(page),
            "guest_name": "Rosa Guest",
            "body": "Warm water before stretching.",
        },
        csrf=False,
    )

    assert response.status_code == 303
    assert db.session.query(Comment).filter_by(guest_name="Rosa Guest").count() == 1


def test_another_visitors_token_is_refused(app, question):
    first = visitor(app)
    stolen = token_of(first.get(page_url(question)))
    other = visitor(app)
    other.get(page_url(question))

    response = other.post(
        f"/questions/{question.id}/comments",
        data={"csrf_token": stolen, "guest_name": "Rosa Guest", "body": "Hello."},
        csrf=False,
    )

    assert response.status_code == 400


# -- never stale after a write ---------------------------------------------------------------


def _write_then_read(app, url, write, expect):
    """Cache `url`, make a write as someone else, then a visitor must see `expect` at once."""
    reader = visitor(app)
    before = cached_twice(reader, url).get_data(as_text=True)
    assert expect not in before
    write()
    after = reader.get(url)
    assert after.headers["X-Page-Cache"] == "miss"
    assert expect in after.get_data(as_text=True)
    assert reader.get(url).headers["X-Page-Cache"] == "hit"


def test_a_guest_comment_shows_at_once(app, question):
    def write():
        response = visitor(app).post(
            f"/questions/{question.id}/comments",
            data={"guest_name": "Rosa Guest", "body": "Soaking my hands helps."},
        )
        assert response.status_code == 303

    _write_then_read(app, page_url(question), write, "Soaking my hands helps.")


def test_a_members_htmx_reply_shows_at_once(app, question, author, member):
    parent = make_comment(question, author, "First comment.")

    def write():
        response = member_of(app, member).post(
            f"/questions/{question.id}/comments",
            data={"parent_id": parent.id, "body": "A reply from a member."},
            headers=HTMX,
        )
        assert response.status_code == 200

    _write_then_read(app, page_url(question), write, "A reply from a member.")


def test_an_edit_shows_at_once(app, question, member):
    comment = make_comment(question, member, "Before the edit.")

    def write():
        response = member_of(app, member).post(
            f"/comments/{comment.id}/edit", data={"body": "After the edit."}
        )
        assert response.status_code == 303

    _write_then_read(app, page_url(question), write, "After the edit.")


def test_a_delete_shows_at_once(app, question, member):
    make_comment(question, member, "Kept comment.")
    comment = make_comment(question, member, "Comment to delete.")
    reader = visitor(app)
    assert "Comment to delete." in cached_twice(reader, page_url(question)).get_data(as_text=True)

    response = member_of(app, member).post(
        f"/comments/{comment.id}/delete", data={"confirm": "yes"}
    )

    assert response.status_code == 303
    after = reader.get(page_url(question))
    assert after.headers["X-Page-Cache"] == "miss"
    assert "Comment to delete." not in after.get_data(as_text=True)


def test_a_vote_shows_at_once_on_the_question_and_the_disease_page(app, question, member):
    vote_url = f"/diseases/scleromyxedema/questions/{question.slug}/vote"
    reader = visitor(app)
    for url in (page_url(question), "/diseases/scleromyxedema"):
        cached_twice(reader, url)

    response = member_of(app, member).post(vote_url, headers=HTMX)
    assert response.status_code == 200

    for url in (page_url(question), "/diseases/scleromyxedema"):
        after = reader.get(url)
        assert after.headers["X-Page-Cache"] == "miss"
        assert 'class="vote-count">1<' in after.get_data(as_text=True)


def test_a_new_question_shows_at_once(app, disease, member):
    def write():
        response = member_of(app, member).post(
            "/diseases/scleromyxedema/questions/ask",
            data={"title": "Does cold weather make it worse?"},
        )
        assert response.status_code == 303

    _write_then_read(
        app,
        "/diseases/scleromyxedema/questions?sort=new",
        write,
        "Does cold weather make it worse?",
    )


MAP_FORM = {"role": "patient", "country": "Norway", "region": "Bergen", "visibility": "named"}


def test_joining_the_map_shows_at_once_on_the_map_and_the_home_page(app, disease, member):
    reader = visitor(app)
    for url in ("/diseases/scleromyxedema/map", "/"):
        cached_twice(reader, url)

    response = member_of(app, member).post("/diseases/scleromyxedema/map/join", data=MAP_FORM)
    assert response.status_code == 303

    map_page = reader.get("/diseases/scleromyxedema/map")
    assert map_page.headers["X-Page-Cache"] == "miss"
    assert "Norway: 1 member" in map_page.get_data(as_text=True)
    home = reader.get("/")
    assert home.headers["X-Page-Cache"] == "miss"
    assert "1 member ·" in home.get_data(as_text=True)


def test_changing_and_leaving_the_map_show_at_once(app, disease, member, make):
    make.make_map_entry(disease, member, country="NO")
    client = member_of(app, member)

    def move():
        response = client.post(
            "/diseases/scleromyxedema/map/entry", data=MAP_FORM | {"country": "Peru"}
        )
        assert response.status_code == 303

    _write_then_read(app, "/diseases/scleromyxedema/map", move, "Peru: 1 member")

    def leave():
        assert client.post("/diseases/scleromyxedema/map/leave").status_code == 303

    _write_then_read(app, "/diseases/scleromyxedema/map", leave, "Peru: no members")


def test_a_deleted_account_leaves_every_page_at_once(app, question, make):
    leaving = make.make_user("leaving_member")
    make_comment(question, leaving, "Words of a member who leaves.")
    reader = visitor(app)
    assert "leaving_member" in cached_twice(reader, page_url(question)).get_data(as_text=True)

    response = member_of(app, leaving).post(
        "/account/delete", data={"password": "correct horse battery"}
    )

    assert response.status_code == 303
    html = reader.get(page_url(question)).get_data(as_text=True)
    assert "leaving_member" not in html and "[deleted member]" in html


def test_a_moderation_recount_shows_at_once(app, question, author):
    comment = make_comment(question, author, "A comment a moderator hides.")
    reader = visitor(app)
    assert "1 comment" in cached_twice(reader, page_url(question)).get_data(as_text=True)

    # What a moderation action does: change the rows, then recount through the service.
    db.session.get(Comment, comment.id).hidden_at = comment.created_at
    recount_comments(question.id)
    db.session.commit()

    html = reader.get(page_url(question)).get_data(as_text=True)
    assert "A comment a moderator hides." not in html


def test_a_write_in_one_worker_is_seen_by_another(app, question, database_url, author):
    """Two apps on one database stand for two gunicorn workers, each with its own memory."""
    url, question_id = page_url(question), question.id  # read before another app's context
    other_worker = make_test_app(database_url, PAGE_CACHE_SECONDS=300)
    reader = visitor(other_worker)
    with other_worker.app_context():
        cached_twice(reader, url)

    response = visitor(app).post(
        f"/questions/{question_id}/comments",
        data={"guest_name": "Rosa Guest", "body": "Posted through the first worker."},
    )
    assert response.status_code == 303

    with other_worker.app_context():
        after = reader.get(url)
        assert after.headers["X-Page-Cache"] == "miss"
        assert "Posted through the first worker." in after.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_a_rolled_back_write_leaves_the_cached_page_in_use(app, question):
    reader = visitor(app)
    cached_twice(reader, page_url(question))

    pagecache.invalidate_question(question.id)
    db.session.rollback()

    assert reader.get(page_url(question)).headers["X-Page-Cache"] == "hit"


# -- conditional requests ------------------------------------------------------------------------


def test_a_browser_with_the_page_gets_304_until_it_changes(app, question):
    reader = visitor(app)
    page = cached_twice(reader, page_url(question))
    etag = page.headers["ETag"]
    assert etag.startswith('W/"')

    again = reader.get(page_url(question), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""

    visitor(app).post(
        f"/questions/{question.id}/comments",
        data={"guest_name": "Rosa Guest", "body": "A change to the page."},
    )
    changed = reader.get(page_url(question), headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_a_304_needs_the_same_visitors_session(app, question):
    reader = visitor(app)
    etag = cached_twice(reader, page_url(question)).headers["ETag"]

    other = visitor(app)
    other.get(page_url(question))
    response = other.get(page_url(question), headers={"If-None-Match": etag})

    # The other visitor's copy would carry someone else's token: they get the page itself.
    assert response.status_code == 200
    assert token_owner(other, token_of(response))


def test_a_miss_also_answers_304(app, question):
    reader = visitor(app)
    etag = reader.get(page_url(question)).headers["ETag"]
    pagecache.clear()

    assert reader.get(page_url(question), headers={"If-None-Match": etag}).status_code == 304


# -- off, and in Redis -----------------------------------------------------------------------------


def test_the_cache_is_off_with_zero_seconds(database_url, question):
    url = page_url(question)  # read before another app's context
    app = make_test_app(database_url, PAGE_CACHE_SECONDS=0)
    with app.app_context():
        client = visitor(app)
        client.get(url)
        response = client.get(url)
        assert "X-Page-Cache" not in response.headers
        assert "ETag" not in response.headers
        db.session.remove()
        db.engine.dispose()


def test_pages_in_redis_are_shared_and_invalidated(database_url, question):
    url, question_id = page_url(question), question.id  # read before another app's context
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        probe.ping()
    except redis.exceptions.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    finally:
        probe.close()
    prefix = f"test:{uuid.uuid4().hex}:"
    settings = {"PAGE_CACHE_SECONDS": 300, "REDIS_URL": REDIS_URL, "PAGE_CACHE_PREFIX": prefix}
    first, second = make_test_app(database_url, **settings), make_test_app(database_url, **settings)
    try:
        with first.app_context():
            assert visitor(first).get(url).headers["X-Page-Cache"] == "miss"
        with second.app_context():
            client = visitor(second)
            shared = client.get(url)
            assert shared.headers["X-Page-Cache"] == "hit"  # stored by the other instance
            assert token_owner(client, token_of(shared))
            client.post(
                f"/questions/{question_id}/comments",
                data={"guest_name": "Rosa Guest", "body": "Seen through Redis."},
            )
        with first.app_context():
            after = visitor(first).get(url)
            assert after.headers["X-Page-Cache"] == "miss"
            assert "Seen through Redis." in after.get_data(as_text=True)
    finally:
        for app in (first, second):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        with first.app_context():
            pagecache.clear()


def test_a_failing_redis_is_a_miss_not_an_error(database_url, question):
    url = page_url(question)  # read before another app's context
    app = make_test_app(database_url, PAGE_CACHE_SECONDS=300, REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        client = visitor(app)
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_a_write_leaves_other_diseases_pages_cached(app, question, make):
    make.make_disease("Alkaptonuria")
    reader = visitor(app)
    cached_twice(reader, "/diseases/alkaptonuria")

    visitor(app).post(
        f"/questions/{question.id}/comments",
        data={"guest_name": "Rosa Guest", "body": "Only this disease changes."},
    )

    assert reader.get("/diseases/alkaptonuria").headers["X-Page-Cache"] == "hit"
    assert reader.get("/").headers["X-Page-Cache"] == "miss"  # the home page lists all


def _moderator(make):
    return make.make_user("mona_mod", role="moderator")


def test_hiding_and_restoring_a_comment_show_at_once(app, question, author, make):
    mona = _moderator(make)
    comment = make_comment(question, author, "Words a moderator will hide.")
    reader = visitor(app)
    assert "Words a moderator will hide." in cached_twice(reader, page_url(question)).get_data(
        as_text=True
    )

    moderation.hide_item(mona, moderation.load_target("comment", comment.id), "spam")
    db.session.commit()
    html = reader.get(page_url(question)).get_data(as_text=True)
    assert "Words a moderator will hide." not in html and "removed by a moderator" in html.lower()

    moderation.restore_item(mona, moderation.load_target("comment", comment.id))
    db.session.commit()
    assert "Words a moderator will hide." in reader.get(page_url(question)).get_data(as_text=True)


def test_locking_a_discussion_shows_at_once(app, question, make):
    mona = _moderator(make)
    reader = visitor(app)
    assert "locked by a moderator" not in cached_twice(reader, page_url(question)).get_data(
        as_text=True
    )

    moderation.lock_question(mona, db.session.get(Question, question.id))
    db.session.commit()
    assert "locked by a moderator" in reader.get(page_url(question)).get_data(as_text=True)


def test_hiding_a_question_takes_it_off_the_cached_disease_page(app, question, disease, make):
    mona = _moderator(make)
    reader = visitor(app)
    disease_url = f"/diseases/{disease.slug}"
    assert question.title in cached_twice(reader, disease_url).get_data(as_text=True)

    moderation.hide_item(mona, moderation.load_target("question", question.id), "spam")
    db.session.commit()
    assert question.title not in reader.get(disease_url).get_data(as_text=True)
