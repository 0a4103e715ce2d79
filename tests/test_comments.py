"""Threaded comments: posting, replying, guests, depth, folding, order, edit, delete, speed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.comments.service import true_comment_count
from forum.extensions import db
from forum.members.service import delete_account
from forum.models import Comment, CommentRevision, Disease, Question
from forum.models.base import utcnow
from tests.conftest import HTMX, login
from tests.factories import make_comment, make_thread
from tests.html import elements, ids, one, parse, text


@pytest.fixture
def app_config():
    # The limits have their own module (test_comments_limits.py); here they would interfere.
    return {"RATELIMIT_POST_MEMBER": "1000 per minute", "RATELIMIT_POST_GUEST": "1000 per minute"}


def page_url(question: Question, **args) -> str:
    disease = db.session.get(Disease, question.disease_id)
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/diseases/{disease.slug}/questions/{question.slug}" + (f"?{query}" if query else "")


def post_url(question: Question) -> str:
    return f"/questions/{question.id}/comments"


def rows(question: Question) -> list[Comment]:
    db.session.expire_all()
    stmt = select(Comment).where(Comment.question_id == question.id).order_by(Comment.id)
    return list(db.session.scalars(stmt))


def stored_count(question: Question) -> int:
    db.session.expire_all()
    return db.session.get(Question, question.id).comment_count


def article(html: str, comment_id: int) -> str:
    """The markup of one comment's <article> in a page."""
    return str(one(html, f"article#comment-{comment_id}"))


def comment_ids(html: str) -> list[int]:
    """The comments on the page (or in a fragment), in the order shown."""
    return ids(html, "article.comment", "comment-")


# -- reading ---------------------------------------------------------------------------------


def test_question_page_shows_form_and_thread_with_authors_roles_and_times(
    client, make, question, member
):
    disease = db.session.get(Disease, question.disease_id)
    make.make_map_entry(disease, member, role="caregiver")
    top = make_comment(question, member, "None that I can see.", age=timedelta(hours=3))
    make_comment(question, body="Same here.", parent=top, guest_name="Ana")

    html = client.get(page_url(question)).get_data(as_text=True)

    assert 'id="comment-form"' in html and '<label for="comment-form-body">' in html
    first = article(html, top.id)
    assert "None that I can see." in first
    assert f'href="/members/{member.username}"' in first
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[\d:]+Z" title="[^"]+UTC">3 hours ago', first
    )
    assert ">Reply</a>" in first and ">Permalink</a>" in first
    assert ">Edit</a>" not in first and ">Delete<" not in first  # only the author sees them
    assert "Caregiver" not in first  # a community role is for members' eyes only
    login(client, make.make_user("reading_member"))
    assert "Caregiver" in article(client.get(page_url(question)).get_data(as_text=True), top.id)
    reply = article(html, top.id + 1)
    assert "Ana" in reply and "badge-guest" in reply and 'class="comment depth-1"' in reply
    assert "2 comments" in html


def test_author_sees_edit_and_delete(member_client, question, member):
    comment = make_comment(question, member)
    html = member_client.get(page_url(question)).get_data(as_text=True)
    mine = article(html, comment.id)
    assert ">Edit</a>" in mine and ">Delete</button>" in mine
    # Without JavaScript the delete button opens a page that asks first (a GET form).
    delete_url = f"/comments/{comment.id}/delete"
    assert f'action="{delete_url}"' in mine and f'hx-post="{delete_url}"' in mine
    confirm = member_client.get(delete_url)
    assert confirm.status_code == 200 and "Delete your comment?" in confirm.get_data(as_text=True)


def test_anonymous_map_entry_keeps_the_role_private(client, make, question, member):
    disease = db.session.get(Disease, question.disease_id)
    make.make_map_entry(disease, member, role="patient", anonymous=True)
    comment = make_comment(question, member)
    login(client, make.make_user("reading_member"))
    html = client.get(page_url(question)).get_data(as_text=True)
    assert "Person with the disease" not in article(html, comment.id)


def test_deleted_member_is_shown_as_such(client, make, question):
    leaver = make.make_user("leaving_lee")
    comment = make_comment(question, leaver, body="Old words.")
    delete_account(leaver)  # the comment stays, with neither author nor guest name
    db.session.commit()
    mine = article(client.get(page_url(question)).get_data(as_text=True), comment.id)
    assert "[deleted member]" in mine and "badge-guest" not in mine


def test_pages_show_stored_html_and_never_render_markdown(client, question, monkeypatch):
    comment = make_comment(question, body="*source*")
    comment.body_html = "<p>stored rendering</p>"
    db.session.commit()

    def refuse(_source):
        raise AssertionError("Markdown rendered during a page view")

    monkeypatch.setattr("forum.markdown.render_comment", refuse)
    monkeypatch.setattr("forum.comments.service.render_comment", refuse)
    html = client.get(page_url(question)).get_data(as_text=True)
    assert "stored rendering" in html


# -- posting ---------------------------------------------------------------------------------


def test_member_posts_a_comment_without_htmx(member_client, question, member):
    response = member_client.post(post_url(question), data={"body": "Hello *all*"})

    [comment] = rows(question)
    assert response.status_code == 303
    # Back on the question page, at the new comment (not on a page of its own).
    assert response.headers["Location"] == page_url(question) + f"#comment-{comment.id}"
    assert comment.author_id == member.id and comment.guest_name is None
    assert comment.root_id == comment.id and comment.depth == 0
    assert comment.body_md == "Hello *all*" and comment.body_html == "<p>Hello <em>all</em></p>\n"
    assert stored_count(question) == 1
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hello <em>all</em>" in article(page, comment.id)
    assert "Your comment is posted." in page


def test_member_posts_a_comment_with_htmx(member_client, question):
    response = member_client.post(
        post_url(question), data={"body": "Hello", "order": "oldest"}, headers=HTMX
    )

    [comment] = rows(question)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    # A fresh, empty form takes the old one's place; the comment goes to the end of the list.
    assert html.lstrip().startswith('<form id="comment-form"')
    assert 'hx-swap-oob="beforeend:#comment-list"' in html
    # A new top-level comment starts a thread element of its own, as on a loaded page.
    assert (
        f'<div id="thread-{comment.id}" class="thread">\n<article id="comment-{comment.id}"' in html
    )
    assert '<span id="comment-count" hx-swap-oob="true">1 comment</span>' in html


def test_newest_first_puts_an_htmx_comment_at_the_top(member_client, question):
    response = member_client.post(
        post_url(question), data={"body": "Hi", "order": "newest"}, headers=HTMX
    )
    assert 'hx-swap-oob="afterbegin:#comment-list"' in response.get_data(as_text=True)


def test_reply_without_htmx_returns_to_the_thread_at_the_reply(member_client, question):
    parent = make_comment(question, body="Question?")
    response = member_client.post(
        post_url(question), data={"body": "Answer.", "parent_id": str(parent.id)}
    )

    reply = rows(question)[-1]
    assert response.status_code == 303
    assert response.headers["Location"] == page_url(question) + f"#comment-{reply.id}"
    assert (reply.parent_id, reply.root_id, reply.depth) == (parent.id, parent.id, 1)
    assert db.session.get(Comment, parent.id).reply_count == 1
    assert stored_count(question) == 2
    thread = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert comment_ids(thread) == [parent.id, reply.id]
    assert "Your reply is posted." in thread


def test_reply_with_htmx_goes_after_its_parent(member_client, question):
    parent = make_comment(question)
    response = member_client.post(
        post_url(question), data={"body": "Answer.", "parent_id": str(parent.id)}, headers=HTMX
    )

    reply = rows(question)[-1]
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert response.headers["HX-Retarget"] == (f"#thread-{parent.id}-more, #thread-{parent.id}-end")
    assert html.lstrip().startswith(f'<article id="comment-{reply.id}" class="comment depth-1">')
    assert 'id="thread-' not in html  # a reply joins its parent's thread, not a new one
    assert "<form id=" not in html  # no form comes back: the reply form's slot is emptied
    assert reply.parent_id == parent.id


def test_reply_form_is_a_fragment_for_htmx_and_a_page_without(client, question):
    parent = make_comment(question, guest_name="Ana")

    fragment = client.get(f"/comments/{parent.id}/reply", headers=HTMX)
    page = client.get(f"/comments/{parent.id}/reply")

    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<form id="reply-form-{parent.id}"')
    assert f'name="parent_id" type="hidden" value="{parent.id}"' in html
    assert f'<label for="reply-form-{parent.id}-body">Your reply</label>' in html
    assert "HX-Request" in fragment.headers["Vary"]
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "Reply to Ana" in page.get_data(as_text=True)
    cancel = client.get(f"/comments/{parent.id}/reply?cancel=1", headers=HTMX)
    assert cancel.get_data(as_text=True) == ""


def test_reply_and_edit_forms_take_the_focus_but_the_main_box_does_not(
    member_client, question, member
):
    comment = make_comment(question, member)
    page = member_client.get(page_url(question)).get_data(as_text=True)
    reply = member_client.get(f"/comments/{comment.id}/reply", headers=HTMX).get_data(as_text=True)
    edit = member_client.get(f"/comments/{comment.id}/edit", headers=HTMX).get_data(as_text=True)

    assert "autofocus" not in page  # focusing the main box would scroll the page down to it
    for html, form in ((reply, "reply"), (edit, "edit")):
        assert one(html, f'textarea[id^="{form}-form-"]').has_attr("autofocus")


def test_a_comment_alone_for_htmx_and_its_thread_as_a_page(member_client, question, member):
    parent = make_comment(question)
    comment = make_comment(question, member, "Mine", parent=parent)

    # Cancelling an edit asks for the comment alone, to put back in place of the form.
    fragment = member_client.get(f"/comments/{comment.id}", headers=HTMX)
    page = member_client.get(f"/comments/{comment.id}")

    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<article id="comment-{comment.id}"')
    assert comment_ids(html) == [comment.id] and "HX-Request" in fragment.headers["Vary"]
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert comment_ids(page.get_data(as_text=True)) == [parent.id, comment.id]


def test_guest_posts_with_a_display_name_and_gets_a_guest_mark(client, question):
    response = client.post(post_url(question), data={"body": "Hi", "guest_name": "  Zoé  L. "})

    [comment] = rows(question)
    assert response.status_code == 303
    assert comment.author_id is None and comment.guest_name == "Zoé L."
    html = client.get(page_url(question)).get_data(as_text=True)
    assert "badge-guest" in article(html, comment.id)
    # The name is offered again in the next form.
    assert 'value="Zoé L."' in html


@pytest.mark.parametrize("name", ["mira_member", "MIRA_MEMBER", "Mira_Member"])
def test_guest_cannot_take_a_members_name(client, question, member, name):
    response = client.post(post_url(question), data={"body": "Kept text", "guest_name": name})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A member already uses that name" in html and "Kept text" in html
    assert rows(question) == []


def test_guest_comments_can_be_turned_off(app, client, question):
    app.config["GUEST_COMMENTS"] = False
    page = client.get(page_url(question)).get_data(as_text=True)
    assert 'id="comment-form"' not in page and "to join the discussion" in page

    plain = client.post(post_url(question), data={"body": "Hi", "guest_name": "Ana"})
    fragment = client.post(
        post_url(question), data={"body": "Hi", "guest_name": "Ana"}, headers=HTMX
    )

    assert plain.status_code == 303 and "/login" in plain.headers["Location"]
    assert fragment.status_code == 401 and "/login" in fragment.headers["HX-Redirect"]
    assert rows(question) == []


def test_a_post_without_csrf_token_is_refused(client, question):
    response = client.post(post_url(question), data={"body": "Hi", "guest_name": "Ana"}, csrf=False)
    assert response.status_code == 400
    assert rows(question) == []


# -- bad input -------------------------------------------------------------------------------


def _bad_parent(kind: str, question: Question, make) -> str:
    if kind == "missing":
        return "99999"
    if kind == "malformed":
        return "12abc"
    if kind == "huge":
        return "9" * 30
    if kind == "other thread":
        other = make.make_question(db.session.get(Disease, question.disease_id), "Elsewhere?")
        return str(make_comment(other).id)
    removed = make_comment(question, body="gone")
    if kind == "hidden":
        removed.hidden_at = utcnow()
    else:
        removed.deleted_at = utcnow()
    db.session.commit()
    return str(removed.id)


BAD_BODIES = {
    "empty": ("", "Write something"),
    "blank": ("  \n\t ", "Write something"),
    "too long": ("x" * 10_001, "at most 10,000 characters"),
}
BAD_PARENTS = {
    "missing": "does not exist",
    "malformed": "does not exist",
    "huge": "does not exist",
    "other thread": "another discussion",
    "hidden": "has been removed",
    "deleted": "has been removed",
}


@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize("with_htmx", [False, True], ids=["plain", "htmx"])
def test_bad_text_is_refused_with_the_text_kept(member_client, question, kind, with_htmx):
    body, message = BAD_BODIES[kind]
    before = len(rows(question))
    response = member_client.post(
        post_url(question), data={"body": body}, headers=HTMX if with_htmx else {}
    )

    html = response.get_data(as_text=True)
    assert message in html
    if kind == "too long":
        assert body in html
    assert response.status_code == 422
    if with_htmx:
        assert "<html" not in html
        assert 'class="comment-form has-errors"' in html
    else:
        assert "<html" in html
    assert len(rows(question)) == before and stored_count(question) == 0


@pytest.mark.parametrize("kind", BAD_PARENTS)
@pytest.mark.parametrize("with_htmx", [False, True], ids=["plain", "htmx"])
def test_bad_parent_is_refused_with_the_text_kept(member_client, make, question, kind, with_htmx):
    parent_id = _bad_parent(kind, question, make)
    before = len(rows(question))
    count = stored_count(question)
    response = member_client.post(
        post_url(question),
        data={"body": "My typed reply", "parent_id": parent_id},
        headers=HTMX if with_htmx else {},
    )

    html = response.get_data(as_text=True)
    assert BAD_PARENTS[kind] in html and "My typed reply" in html
    assert 'role="alert"' in html
    assert response.status_code == 422
    assert len(rows(question)) == before and stored_count(question) == count


def test_a_reply_error_without_htmx_shows_the_question_page_with_the_form_under_its_parent(
    member_client, question
):
    parent = make_comment(question, guest_name="Ana")
    response = member_client.post(
        post_url(question), data={"body": " ", "parent_id": str(parent.id)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<h1" in html and question.title in html and "Write something" in html
    # The reply form stands right after its parent, and the summary links to its field.
    slot = one(html, f"article#comment-{parent.id}").find_next_sibling()
    assert "reply-slot" in slot["class"]
    assert slot.find("form")["id"] == f"reply-form-{parent.id}"
    assert f'href="#reply-form-{parent.id}-body">Go to the form' in html


def test_an_oversized_request_body_gets_413(app, member_client, question):
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1
    response = member_client.post(post_url(question), data={"body": "x" * too_big})
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)
    assert rows(question) == []


def test_an_identical_comment_twice_is_stored_once(member_client, question):
    first = member_client.post(post_url(question), data={"body": "Twice"})
    second = member_client.post(post_url(question), data={"body": "Twice"})
    again = member_client.post(post_url(question), data={"body": "Twice"}, headers=HTMX)

    [comment] = rows(question)
    assert first.headers["Location"] == second.headers["Location"]
    assert "comment-list" not in again.get_data(as_text=True)  # nothing new to insert
    assert stored_count(question) == 1
    # After the window the same words are a new comment.
    comment.created_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    member_client.post(post_url(question), data={"body": "Twice"})
    assert len(rows(question)) == 2


def test_identical_guest_comments_are_stored_once(client, question):
    for _ in range(2):
        client.post(post_url(question), data={"body": "Hi", "guest_name": "Ana"})
    assert len(rows(question)) == 1


# -- text ------------------------------------------------------------------------------------


def test_markdown_subset_is_sanitized(member_client, question):
    source = (
        "<script>alert(1)</script> <b hx-get='/x'>raw</b>\n\n"
        "[evil](javascript:alert(1)) [ok](https://example.org)\n\n"
        "> quoted\n\n- one\n- two\n\n`code` *em*"
    )
    member_client.post(post_url(question), data={"body": source})
    [comment] = rows(question)

    html = comment.body_html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "hx-get" not in html.replace("&lt;b hx-get", "")
    assert 'href="javascript' not in html.lower()
    assert '<a href="https://example.org" rel="nofollow ugc noopener">ok</a>' in html
    for tag in ("<blockquote>", "<ul>", "<li>one</li>", "<code>code</code>", "<em>em</em>"):
        assert tag in html


def test_sanitizer_strips_htmx_attributes_and_javascript_urls():
    from forum.markdown import _TAGS, _clean

    dirty = (
        '<p hx-get="/x" data-hx-post="/y" onclick="x()">a</p>'
        '<a href="javascript:alert(1)" hx-target="body">b</a>'
    )
    clean = _clean(dirty, _TAGS, "nofollow ugc noopener")
    assert "hx-" not in clean and "onclick" not in clean and "javascript" not in clean


def test_emoji_accents_and_right_to_left_text_round_trip(member_client, question):
    text = "Merci 🙏 café — שלום עליכם — مرحبا\nnaïve 👩🏽‍⚕️"
    member_client.post(post_url(question), data={"body": text})
    [comment] = rows(question)

    assert comment.body_md == text
    html = member_client.get(page_url(question)).get_data(as_text=True)
    mine = article(html, comment.id)
    assert 'dir="auto"' in mine
    assert "Merci 🙏 café — שלום עליכם — مرحبا\nnaïve 👩🏽‍⚕️" in mine


def test_windows_line_endings_are_unified(member_client, question):
    member_client.post(post_url(question), data={"body": "a\r\nb"})
    assert rows(question)[0].body_md == "a\nb"


# -- depth, folding, order, pages ------------------------------------------------------------


def test_a_reply_past_the_depth_limit_is_accepted_at_the_limit_with_a_link(
    app, member_client, question
):
    app.config["COMMENT_MAX_DEPTH"] = 2
    c0 = make_comment(question, guest_name="Ana")
    c1 = make_comment(question, parent=c0)
    c2 = make_comment(question, parent=c1, guest_name="Bo")

    member_client.post(post_url(question), data={"body": "Deep", "parent_id": str(c2.id)})

    deep = rows(question)[-1]
    assert deep.depth == 3 and deep.parent_id == c2.id
    html = member_client.get(page_url(question)).get_data(as_text=True)
    shown = article(html, deep.id)
    assert 'class="comment depth-2"' in shown
    assert f'<a href="#comment-{c2.id}">In reply to Bo</a>' in shown
    assert "In reply to" not in article(html, c2.id)


def test_long_threads_fold_and_the_rest_loads_by_htmx_or_link(app, client, question):
    app.config["REPLIES_SHOWN"] = 2
    root = make_comment(question)
    replies = [make_comment(question, parent=root, body=f"reply {n}") for n in range(5)]

    html = client.get(page_url(question)).get_data(as_text=True)
    assert comment_ids(html) == [root.id, replies[0].id, replies[1].id]
    assert "Show 3 more replies" in html
    assert f'href="/comments/{root.id}#comment-{root.id}"' in html

    fragment = client.get(f"/comments/{root.id}/replies", headers=HTMX)
    plain = client.get(f"/comments/{root.id}/replies")

    # The fragment is the whole thread, unfolded, replacing the folded one on the page.
    whole = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in whole
    [thread] = parse(whole).find_all(True, recursive=False)
    assert thread.name == "div" and thread["id"] == f"thread-{root.id}"
    assert comment_ids(whole) == [root.id, *[r.id for r in replies]]
    assert "more replies" not in whole and "comments-more" not in whole
    assert f'hx-target="#thread-{root.id}" hx-swap="outerHTML"' in html
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(f"/comments/{root.id}#comment-{root.id}")
    thread = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert comment_ids(thread) == [root.id, *[r.id for r in replies]]


def _fold_link(html: str, root_id: int) -> tuple[str, str, str]:
    """The fold control's htmx request: (URL, target, swap)."""
    link = one(html, f"#thread-{root_id}-more [hx-get]")
    return link["hx-get"], link["hx-target"], link["hx-swap"]


def _thread_ids(html: str, root_id: int) -> list[int]:
    """Ids of the comments in one thread's element."""
    return comment_ids(one(html, f"#thread-{root_id}"))


def test_unfolding_after_a_live_reply_lists_every_comment_once(app, member_client, question):
    app.config["REPLIES_SHOWN"] = 2
    root = make_comment(question)
    replies = [make_comment(question, parent=root, body=f"reply {n}") for n in range(4)]
    page = member_client.get(page_url(question)).get_data(as_text=True)
    on_page = comment_ids(page)
    url, target, swap = _fold_link(page, root.id)

    # The reader answers the last reply shown before the fold, by htmx: it joins the page.
    member_client.post(
        post_url(question),
        data={"body": "Live answer", "parent_id": str(replies[1].id)},
        headers=HTMX,
    )
    live = rows(question)[-1]
    on_page.append(live.id)

    # Then opens the fold. Apply the swap the control asks for to the ids on the page.
    fragment = member_client.get(url, headers=HTMX).get_data(as_text=True)
    if (target, swap) == (f"#thread-{root.id}", "outerHTML"):
        on_page = [i for i in on_page if i not in _thread_ids(page, root.id) + [live.id]]
    on_page += comment_ids(fragment)

    assert sorted(on_page) == sorted({root.id, live.id, *[r.id for r in replies]})
    # Everything in its place: the live reply under the comment it answers.
    assert comment_ids(fragment) == [
        root.id,
        replies[0].id,
        replies[1].id,
        live.id,
        replies[2].id,
        replies[3].id,
    ]


def test_order_is_oldest_first_with_a_newest_first_choice(client, question):
    old = make_comment(question, age=timedelta(days=2))
    new = make_comment(question, age=timedelta(days=1))
    reply_a = make_comment(question, parent=old, age=timedelta(hours=5))
    reply_b = make_comment(question, parent=old, age=timedelta(hours=4))

    oldest = client.get(page_url(question)).get_data(as_text=True)
    newest = client.get(page_url(question, comment_order="newest")).get_data(as_text=True)

    assert comment_ids(oldest) == [old.id, reply_a.id, reply_b.id, new.id]
    # Replies stay oldest first under their thread either way.
    assert comment_ids(newest) == [new.id, old.id, reply_a.id, reply_b.id]


def test_top_level_threads_come_a_page_at_a_time(app, client, question):
    app.config["COMMENTS_PER_PAGE"] = 2
    threads = [make_comment(question, age=timedelta(minutes=10 - n)) for n in range(5)]
    reply = make_comment(question, parent=threads[1])

    first = client.get(page_url(question)).get_data(as_text=True)
    assert comment_ids(first) == [threads[0].id, threads[1].id, reply.id]
    assert "More comments" in first and "comment_page=2" in first

    more = client.get(f"/questions/{question.id}/comments?page=2&order=oldest", headers=HTMX)
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and "<html" not in html
    assert comment_ids(html) == [threads[2].id, threads[3].id]
    assert '<div id="comments-more" class="comments-more" hx-swap-oob="true">' in html
    assert "page=3" in html

    last = client.get(f"/questions/{question.id}/comments?page=3", headers=HTMX)
    assert comment_ids(last.get_data(as_text=True)) == [threads[4].id]
    assert "More comments" not in last.get_data(as_text=True)

    plain = client.get(f"/questions/{question.id}/comments?page=2")
    assert plain.status_code == 303 and "comment_page=2" in plain.headers["Location"]
    page_two = client.get(page_url(question, comment_page=2)).get_data(as_text=True)
    assert comment_ids(page_two) == [threads[2].id, threads[3].id]
    assert "Earlier comments" in page_two


# -- edit ------------------------------------------------------------------------------------


def test_edit_form_is_a_fragment_for_htmx_and_a_page_without(member_client, question, member):
    comment = make_comment(question, member, "Frist")

    fragment = member_client.get(f"/comments/{comment.id}/edit", headers=HTMX)
    page = member_client.get(f"/comments/{comment.id}/edit")

    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<article id="comment-{comment.id}"')
    assert "Frist" in html and f'<label for="edit-form-{comment.id}-body">' in html
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)


def test_author_edits_without_htmx_and_the_old_version_is_kept(member_client, question, member):
    comment = make_comment(question, member, "Frist")

    response = member_client.post(f"/comments/{comment.id}/edit", data={"body": "First"})

    assert response.status_code == 303
    assert response.headers["Location"] == page_url(question) + f"#comment-{comment.id}"
    assert "Your changes are saved." in member_client.get(response.headers["Location"]).text
    [stored] = rows(question)
    assert stored.body_md == "First" and stored.body_html == "<p>First</p>\n"
    assert stored.edited_at is not None
    revisions = db.session.scalars(select(CommentRevision.body_md)).all()
    assert revisions == ["Frist"]
    html = member_client.get(page_url(question)).get_data(as_text=True)
    assert ">edited</span>" in article(html, comment.id)


def test_author_edits_with_htmx(member_client, question, member):
    comment = make_comment(question, member, "Frist")

    response = member_client.post(
        f"/comments/{comment.id}/edit", data={"body": "First"}, headers=HTMX
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<article id="comment-{comment.id}"')
    assert "<p>First</p>" in html and "edited" in html
    assert rows(question)[0].body_md == "First"


@pytest.mark.parametrize("with_htmx", [False, True], ids=["plain", "htmx"])
def test_an_empty_edit_is_refused_with_the_text_kept(member_client, question, member, with_htmx):
    comment = make_comment(question, member, "Original")
    response = member_client.post(
        f"/comments/{comment.id}/edit", data={"body": "   "}, headers=HTMX if with_htmx else {}
    )
    assert response.status_code == 422
    assert "Write something" in response.get_data(as_text=True)
    assert rows(question)[0].body_md == "Original"


def test_editing_after_the_window_is_refused(member_client, question, member):
    comment = make_comment(question, member, "Original", age=timedelta(minutes=31))
    assert member_client.get(f"/comments/{comment.id}/edit").status_code == 403
    response = member_client.post(f"/comments/{comment.id}/edit", data={"body": "Late"})
    assert response.status_code == 403
    assert rows(question)[0].body_md == "Original"
    html = member_client.get(page_url(question)).get_data(as_text=True)
    assert ">Edit</a>" not in article(html, comment.id)


OTHERS_ACTIONS = [
    ("get", "/comments/{id}/edit", None),
    ("post", "/comments/{id}/edit", {"body": "Hijacked"}),
    ("get", "/comments/{id}/delete", None),
    ("post", "/comments/{id}/delete", {"confirm": "yes"}),
]


@pytest.mark.parametrize(("method", "path", "data"), OTHERS_ACTIONS)
@pytest.mark.parametrize("with_htmx", [False, True], ids=["plain", "htmx"])
def test_someone_elses_comment_cannot_be_edited_or_deleted(
    client, make, question, member, method, path, data, with_htmx
):
    comment = make_comment(question, member, "Mine")
    login(client, make.make_user("intruder"))

    response = getattr(client, method)(
        path.format(id=comment.id), data=data, headers=HTMX if with_htmx else {}
    )

    assert response.status_code == 403
    [stored] = rows(question)
    assert stored.body_md == "Mine" and stored.deleted_at is None


@pytest.mark.parametrize(("method", "path", "data"), OTHERS_ACTIONS)
def test_visitors_are_sent_to_log_in_to_edit_or_delete(
    client, question, member, method, path, data
):
    comment = make_comment(question, member, "Mine")
    response = getattr(client, method)(path.format(id=comment.id), data=data)
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    assert rows(question)[0].deleted_at is None


# -- delete ----------------------------------------------------------------------------------

# What the confirmation page's form sends, and what htmx sends after its dialog (hx-vals).
CONFIRMED = {"confirm": "yes"}


def test_deleting_a_comment_without_replies_removes_it_from_the_page(
    member_client, question, member
):
    comment = make_comment(question, member, "Regret")

    response = member_client.post(f"/comments/{comment.id}/delete", data=CONFIRMED)

    assert response.status_code == 303 and response.headers["Location"].endswith("#comments")
    [stored] = rows(question)
    assert stored.deleted_at is not None and stored.body_md == "Regret"  # kept for moderators
    assert stored_count(question) == 0
    html = member_client.get(page_url(question)).get_data(as_text=True)
    assert f'id="comment-{comment.id}"' not in html and "Regret" not in html


def test_deleting_a_comment_with_replies_leaves_a_placeholder(member_client, question, member):
    comment = make_comment(question, member, "Regret")
    reply = make_comment(question, parent=comment, body="An answer")

    response = member_client.post(f"/comments/{comment.id}/delete", data=CONFIRMED, headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "[deleted]" in article(html, comment.id) and "Regret" not in html
    assert '<span id="comment-count" hx-swap-oob="true">1 comment</span>' in html
    page = member_client.get(page_url(question)).get_data(as_text=True)
    assert "[deleted]" in article(page, comment.id)
    assert "An answer" in article(page, reply.id)
    assert ">Reply</a>" not in article(page, comment.id)
    assert rows(question)[0].deleted_at is not None


def test_htmx_delete_without_replies_swaps_in_nothing(member_client, question, member):
    comment = make_comment(question, member, "Regret")
    response = member_client.post(f"/comments/{comment.id}/delete", data=CONFIRMED, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<article" not in html and "<html" not in html
    assert rows(question)[0].deleted_at is not None


def test_the_delete_button_asks_first(member_client, question, member):
    comment = make_comment(question, member, "Regret")
    mine = article(member_client.get(page_url(question)).get_data(as_text=True), comment.id)
    # htmx shows a dialog and then sends the confirmation; a plain post sends none.
    assert 'hx-confirm="Delete this comment? This cannot be undone."' in mine
    assert """hx-vals='{"confirm": "yes"}'""" in mine
    assert 'name="confirm"' not in mine


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unconfirmed_delete_without_htmx_shows_a_confirmation_page(
    member_client, question, member, method
):
    comment = make_comment(question, member, "Regret")

    response = getattr(member_client, method)(f"/comments/{comment.id}/delete")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Delete your comment?" in html and "Regret" in html
    assert f'action="/comments/{comment.id}/delete"' in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert f'href="/comments/{comment.id}#comment-{comment.id}">Keep it</a>' in html
    assert rows(question)[0].deleted_at is None and stored_count(question) == 1

    confirmed = member_client.post(f"/comments/{comment.id}/delete", data=CONFIRMED)
    assert confirmed.status_code == 303 and rows(question)[0].deleted_at is not None


def test_an_unconfirmed_htmx_delete_is_refused(member_client, question, member):
    comment = make_comment(question, member, "Regret")
    response = member_client.post(f"/comments/{comment.id}/delete", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "<html" not in html
    assert "nothing was deleted" in html
    assert rows(question)[0].deleted_at is None


def test_a_deleted_comment_has_no_confirmation_page(member_client, question, member):
    comment = make_comment(question, member, "Regret", deleted=True)
    assert member_client.get(f"/comments/{comment.id}/delete").status_code == 404


def test_a_deleted_chain_disappears_only_when_nothing_below_is_visible(client, question):
    top = make_comment(question, body="top")
    middle = make_comment(question, parent=top, body="middle")
    leaf = make_comment(question, parent=middle, body="leaf")
    for comment in (top, middle):
        comment.deleted_at = utcnow()
    db.session.commit()

    html = client.get(page_url(question)).get_data(as_text=True)
    assert comment_ids(html) == [top.id, middle.id, leaf.id]

    leaf.deleted_at = utcnow()
    db.session.commit()
    html = client.get(page_url(question)).get_data(as_text=True)
    assert comment_ids(html) == []


def test_comment_count_stays_true(member_client, client, question, member):
    member_client.post(post_url(question), data={"body": "one"})
    member_client.post(post_url(question), data={"body": "two"}, headers=HTMX)
    first = rows(question)[0]
    member_client.post(post_url(question), data={"body": "three", "parent_id": str(first.id)})
    member_client.post(post_url(question), data={"body": ""})  # refused
    member_client.post(f"/comments/{first.id}/delete", data=CONFIRMED)
    member_client.post(f"/comments/{first.id}/delete", data=CONFIRMED)  # twice: counted once

    assert stored_count(question) == true_comment_count(question.id) == 2
    listing = client.get(page_url(question).rsplit("/", 1)[0]).get_data(as_text=True)
    assert "2 comments" in listing


# -- speed -----------------------------------------------------------------------------------


def _page_queries(client, count_queries, question) -> int:
    client.get(page_url(question))  # warm up: the first request loads settings and templates
    with count_queries() as counter:
        response = client.get(page_url(question))
    assert response.status_code == 200
    return counter.count


def test_thread_page_costs_the_same_queries_for_10_and_500_comments(
    app, client, make, count_queries
):
    app.config["COMMENTS_PER_PAGE"] = 500
    app.config["REPLIES_SHOWN"] = 500
    disease = make.make_disease("Alkaptonuria", synonyms=())
    small = make.make_question(disease, "Small thread?")
    large = make.make_question(disease, "Large thread?")
    author = make.make_user("writer")
    make.make_map_entry(disease, author, role="researcher")
    make_thread(small, 10, author)
    make_thread(large, 500, author)

    login(client, make.make_user("reading_member"))
    few = _page_queries(client, count_queries, small)
    many = _page_queries(client, count_queries, large)

    assert few == many
    html = client.get(page_url(large)).get_data(as_text=True)
    assert len(comment_ids(html)) == 500 and "Researcher" in html


def test_a_thousand_comments_render_on_one_page(app, client, question, member):
    app.config["COMMENTS_PER_PAGE"] = 1000
    app.config["REPLIES_SHOWN"] = 1000
    make_thread(question, 1000, member)

    response = client.get(page_url(question))

    assert response.status_code == 200
    assert len(comment_ids(response.get_data(as_text=True))) == 1000


def test_a_chain_a_thousand_replies_deep_renders(client, question, member):
    make_thread(question, 1000, member, chain=True)
    deepest = rows(question)[-1]

    response = client.get(f"/comments/{deepest.id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(comment_ids(html)) == 1000
    assert f'<article id="comment-{deepest.id}" class="comment depth-6">' in html
    # Folded on the question page, the chain still renders from the same flat list.
    assert client.get(page_url(question)).status_code == 200
    # Replying at the bottom of the chain works too.
    login(client, member)
    client.post(post_url(question), data={"body": "1001", "parent_id": str(deepest.id)})
    assert rows(question)[-1].depth == 1000


def test_thread_queries_use_no_per_comment_loading(app, client, question, member, count_queries):
    make_thread(question, 30, member)
    first_id = rows(question)[0].id
    with count_queries() as counter:
        client.get(f"/comments/{first_id}")
    comment_selects = [s for s in counter.statements if "FROM comments" in s]
    assert len(comment_selects) <= 2
    assert db.session.scalar(select(func.count(Comment.id))) == 30


def test_more_comments_continue_after_the_last_thread_shown(app, client, question):
    """Newest first, a comment posted after the page loaded must not push a thread into the
    next batch twice: the htmx "More comments" link continues after the last thread shown."""
    app.config["COMMENTS_PER_PAGE"] = 2
    threads = [make_comment(question, age=timedelta(minutes=10 - n)) for n in range(5)]
    first = client.get(page_url(question, comment_order="newest")).get_data(as_text=True)
    assert comment_ids(first) == [threads[4].id, threads[3].id]
    [more_link] = [a["hx-get"] for a in elements(first, "[hx-get]") if "More comments" in text(a)]
    assert f"after={threads[3].id}" in more_link

    make_comment(question, body="Posted while the page was open.")
    more = client.get(more_link, headers=HTMX).get_data(as_text=True)

    assert comment_ids(more) == [threads[2].id, threads[1].id]


def test_a_depth_limit_beyond_the_styled_steps_still_indents(app, client, question):
    app.config["COMMENT_MAX_DEPTH"] = 12
    app.config["REPLIES_SHOWN"] = 50
    parent = make_comment(question)
    for _ in range(11):
        parent = make_comment(question, parent=parent)

    html = client.get(page_url(question)).get_data(as_text=True)

    depths = {a["class"] for a in elements(html, "article.comment")}
    assert "comment depth-8" in depths
    assert not depths & {f"comment depth-{n}" for n in range(9, 20)}


def test_the_longest_comment_of_emoji_fits_in_a_request(member_client, question):
    """10,000 characters is the limit on the text, not the bytes its form encoding takes."""
    body = "😀" * 10_000
    response = member_client.post(
        f"/questions/{question.id}/comments", data={"body": body}, headers=HTMX
    )
    assert response.status_code == 200
    assert db.session.scalar(db.select(Comment.body_md).order_by(Comment.id.desc())) == body
