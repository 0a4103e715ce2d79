"""The thread list shared by ordinary members (forum/comments/shared_list.py): rendered once,
handed only to members who would see it exactly so, never stale after a write."""

from __future__ import annotations

import pytest
from flask import g
from markupsafe import Markup

from forum.comments import shared_list
from forum.comments.threads import ThreadPage
from forum.extensions import db
from forum.models import Ban
from forum.moderation import service as moderation
from forum.moderation.service import load_target
from forum.pagecache import MemoryStore
from tests.factories import make_comment
from tests.html import elements, text
from tests.test_pagecache import member_of, page_url


@pytest.fixture
def app_config():
    return {"PAGE_CACHE_SECONDS": 300, "QUERY_COUNT_HEADER": True}


@pytest.fixture
def disease(make):
    return make.make_disease("Scleromyxedema")


@pytest.fixture
def question(make, disease):
    return make.make_question(disease, "What helps with stiff hands?")


@pytest.fixture
def thread(make, question):
    """Two comments by other people, one a reply."""
    ines = make.make_user("ines_author")
    top = make_comment(question, ines, "Warm water in the morning.")
    make_comment(question, make.make_user("bo_reply"), "Same here.", parent=top)
    db.session.commit()
    return top


def comment_list(client, question):
    g.pop("query_count", None)  # the test's app context outlives each request
    response = client.get(page_url(question))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html, int(response.headers["X-Query-Count"])


def actions(html) -> list[str]:
    return [
        text(a) for a in elements(html, "#comment-list .comment-actions a, .comment-actions button")
    ]


def test_two_members_get_the_same_list_and_the_second_costs_fewer_queries(
    app, make, question, thread
):
    first, first_queries = comment_list(member_of(app, make.make_user("ana")), question)
    second, second_queries = comment_list(member_of(app, make.make_user("ben")), question)

    def threads(html):
        return html[html.index('id="comment-list"') : html.index('id="comments-more"')]

    assert threads(first) == threads(second)
    assert "Warm water in the morning." in second and "Same here." in second
    assert actions(second).count("Reply") == 2 and actions(second).count("Report") == 2
    assert second_queries < first_queries


def test_a_member_who_wrote_under_the_question_sees_their_own_controls(app, make, question, thread):
    carla = make.make_user("carla")
    make_comment(question, carla, "Gloves at night.")
    db.session.commit()
    # Another member's visit keeps the list, Carla's comment in it with Report.
    other, _ = comment_list(member_of(app, make.make_user("dan")), question)
    assert "Gloves at night." in other and "Edit" not in actions(other)

    html, _ = comment_list(member_of(app, carla), question)

    assert "Gloves at night." in html
    assert "Edit" in actions(html) and "Delete" in actions(html)


def test_a_new_comment_shows_at_once_to_members_served_the_kept_list(app, make, question, thread):
    ana = member_of(app, make.make_user("ana"))
    comment_list(ana, question)
    make_comment(question, make.make_user("eve"), "Paraffin baths helped me.")
    db.session.commit()

    html, _ = comment_list(ana, question)

    assert "Paraffin baths helped me." in html


def test_a_hidden_comment_is_a_notice_for_members_and_text_for_its_author(
    app, make, question, thread
):
    ana = member_of(app, make.make_user("ana"))
    comment_list(ana, question)
    mona = make.make_user("mona_mod", role="moderator")
    moderation.hide_item(mona, load_target("comment", thread.id), "misinformation")
    db.session.commit()

    html, _ = comment_list(ana, question)
    author_html, _ = comment_list(
        member_of(app, db.session.get(type(mona), thread.author_id)), question
    )

    assert "Warm water in the morning." not in html and "removed by a moderator" in html.lower()
    assert "Warm water in the morning." in author_html


def test_moderators_and_banned_members_get_lists_of_their_own(app, make, question, thread):
    comment_list(member_of(app, make.make_user("ana")), question)
    mona = make.make_user("mona_mod", role="moderator")
    banned = make.make_user("bert_banned")
    db.session.add(Ban(user_id=banned.id, moderator_id=mona.id, reason="Spam."))
    db.session.commit()

    moderator_html, _ = comment_list(member_of(app, mona), question)
    banned_html, _ = comment_list(member_of(app, banned), question)

    assert "Moderate" in actions(moderator_html)
    assert "Reply" not in actions(banned_html) and "Moderate" not in actions(banned_html)
    assert "Warm water in the morning." in banned_html


def test_the_kept_list_holds_no_csrf_token(app, make, question, thread):
    html, _ = comment_list(member_of(app, make.make_user("ana")), question)
    listed = html[html.index('id="comment-list"') : html.index('id="comments-more"')]
    assert "csrf_token" not in listed


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_SECONDS": 0, "QUERY_COUNT_HEADER": True}])
def test_off_without_the_page_cache(make, question, thread, app):
    first, first_queries = comment_list(member_of(app, make.make_user("ana")), question)
    second, second_queries = comment_list(member_of(app, make.make_user("ben")), question)
    assert first_queries == second_queries


def test_a_worker_keeps_lists_up_to_its_byte_budget():
    store = MemoryStore(max_bytes=1000)
    page = ThreadPage([], "oldest", 1, False)
    store.set("first", shared_list.SharedList(Markup("x" * 600), page), ttl=60)
    store.set("second", shared_list.SharedList(Markup("y" * 600), page), ttl=60)
    store.set("too big", shared_list.SharedList(Markup("z" * 1001), page), ttl=60)

    assert store.get("first") is None  # the least recently used went to make room
    assert store.get("second").html == "y" * 600
    assert store.get("too big") is None
