"""Where people land: login that says why and comes back to the form wanted, comments that
fail or succeed without JavaScript landing at their place on the question page, repeats and
posts from a tab whose login ended."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Comment, Disease, Question
from tests.conftest import HTMX, login
from tests.factories import PASSWORD, make_comment

# A boosted link click (hx-boost on <body>): htmx sends these with the ordinary GET.
BOOSTED = {**HTMX, "HX-Boosted": "true"}


@pytest.fixture
def app_config():
    return {"RATELIMIT_POST_MEMBER": "1000 per minute", "RATELIMIT_POST_GUEST": "1000 per minute"}


@pytest.fixture
def disease(make):
    return make.make_disease("Scleromyxedema")


@pytest.fixture
def question(make, disease):
    return make.make_question(disease, "Is scleromyxedema hereditary?")


def q_url(question: Question, **args) -> str:
    disease = db.session.get(Disease, question.disease_id)
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/diseases/{disease.slug}/questions/{question.slug}" + (f"?{query}" if query else "")


def login_target(response) -> tuple[str, str | None]:
    """(next, why) of the login URL a response sends the visitor to."""
    target = response.headers.get("HX-Redirect") or response.headers["Location"]
    parts = urlsplit(target)
    assert parts.path == "/login", target
    query = parse_qs(parts.query)
    return query["next"][0], query.get("why", [None])[0]


def rows(question: Question) -> list[Comment]:
    db.session.expire_all()
    stmt = select(Comment).where(Comment.question_id == question.id).order_by(Comment.id)
    return list(db.session.scalars(stmt))


# -- login says why and comes back to the form ------------------------------------------------


@pytest.mark.parametrize("headers", [{}, BOOSTED, HTMX], ids=["plain", "boosted", "htmx"])
@pytest.mark.parametrize(
    "path, reason",
    [
        ("/diseases/scleromyxedema/questions/ask", "Log in to ask a question."),
        ("/diseases/scleromyxedema/map/join", "Log in to join this community."),
        ("/diseases/scleromyxedema/map/entry", "Log in to change your entry on the map."),
        ("/account", "Log in to see your account."),
    ],
)
def test_a_form_that_needs_an_account_sends_to_login_and_back_to_that_form(
    client, disease, path, reason, headers
):
    # The visitor clicked the link on the disease page; htmx says so in HX-Current-URL.
    headers = {**headers, "HX-Current-URL": "http://localhost/diseases/scleromyxedema"}
    response = client.get(path, headers=headers)

    assert response.status_code == (401 if headers.get("HX-Request") else 303)
    next_url, why = login_target(response)
    assert next_url == path  # the form they wanted, not the page they clicked on
    login_page = client.get(response.headers.get("HX-Redirect") or response.headers["Location"])
    assert reason in login_page.text


def test_after_logging_in_the_visitor_is_on_the_form(client, disease, make):
    make.make_user("ana_member")
    start = client.get("/diseases/scleromyxedema/questions/ask", headers=BOOSTED)
    next_url, why = login_target(start)

    response = client.post(
        "/login", data={"username": "ana_member", "password": PASSWORD, "next": next_url}
    )

    assert response.headers["Location"] == "/diseases/scleromyxedema/questions/ask"
    assert "<h1>Ask a question" in client.get(response.headers["Location"]).text


def test_the_reason_survives_a_wrong_password_and_the_way_to_sign_up(client, disease):
    page = client.get("/login?next=/diseases/scleromyxedema/questions/ask&why=ask").text
    assert 'name="why" type="hidden" value="ask"' in page
    assert "why=ask" in re.search(r'href="(/signup[^"]*)">Create an account', page).group(1)

    wrong = client.post(
        "/login",
        data={"username": "x", "password": "y", "next": "/", "why": "ask"},
    )
    assert wrong.status_code == 422 and "Log in to ask a question." in wrong.text
    signup = client.get("/signup?next=/diseases/scleromyxedema/questions/ask&why=ask").text
    assert "Create an account to ask a question." in signup


def test_an_unknown_reason_shows_nothing(client):
    page = client.get("/login?why=%3Cscript%3Eteach+me%3C/script%3E").text
    assert "login-reason" not in page and "teach me" not in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_visitor_voting_is_sent_to_login_with_the_reason(client, question, headers):
    response = client.post(
        f"{q_url(question)}/vote", data={"vote": "up", "next": q_url(question)}, headers=headers
    )
    next_url, why = login_target(response)
    assert next_url == f"{q_url(question)}#question-{question.id}"
    assert why == "vote"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_comment_reply_and_edit_need_an_account_when_guests_cannot_post(
    app, client, question, headers
):
    app.config["GUEST_COMMENTS"] = False
    parent = make_comment(question, body="Hi")
    page = client.get(q_url(question)).text
    login_link = re.search(r'<a href="([^"]+)">Log in</a> to join the discussion', page).group(1)
    assert "why=comment" in login_link and "%23comments" in login_link

    top = client.post(f"/questions/{question.id}/comments", data={"body": "x"}, headers=headers)
    reply = client.post(
        f"/questions/{question.id}/comments",
        data={"body": "x", "parent_id": str(parent.id)},
        headers=headers,
    )
    reply_form = client.get(f"/comments/{parent.id}/reply", headers=headers)
    edit_form = client.get(f"/comments/{parent.id}/edit", headers=headers)

    assert login_target(top) == (f"{q_url(question)}#comments", "comment")
    assert login_target(reply) == (f"{q_url(question)}#comments", "reply")
    assert login_target(reply_form) == (f"/comments/{parent.id}/reply", "reply")
    assert login_target(edit_form) == (f"/comments/{parent.id}/edit", "edit")
    assert rows(question) == [parent]


# -- without JavaScript: errors come back at the form, successes land at the comment -----------


def test_a_refused_comment_comes_back_scrolled_to_the_form_with_a_summary(member_client, question):
    response = member_client.post(f"/questions/{question.id}/comments", data={"body": "x" * 10_001})

    html = response.text
    assert response.status_code == 422
    # The page the browser shows is the form's action with the form's anchor: it opens there.
    assert f'action="/questions/{question.id}/comments#comment-form"' in html
    assert "<title>Error: " in html
    summary = html.index('class="error-summary"')
    form = html.index('<form id="comment-form"')
    assert summary < html.index("<h1") < form
    assert 'href="#comment-form-body">Go to the form</a>' in html
    # The message stands beside the field too, and the text is kept.
    field = html[form:]
    assert "at most 10,000 characters" in field and "x" * 10_001 in field


def test_a_refused_edit_comes_back_in_place_on_the_question_page(member_client, member, question):
    comment = make_comment(question, member, "First words")

    response = member_client.post(f"/comments/{comment.id}/edit", data={"body": "  "})

    html = response.text
    assert response.status_code == 422 and "<h1" in html
    assert f'action="/comments/{comment.id}/edit#edit-form-{comment.id}"' in html
    assert f'<article id="comment-{comment.id}" class="comment depth-0 editing">' in html
    assert "Write something before posting." in html
    assert f'href="#edit-form-{comment.id}-body">Go to the form' in html


def test_a_refused_reply_in_a_long_thread_comes_back_on_its_page_with_the_thread_open(
    app, member_client, question
):
    app.config["COMMENTS_PER_PAGE"] = 2
    roots = [
        make_comment(question, body=f"Root {n}", age=timedelta(hours=10 - n)) for n in range(5)
    ]
    target = roots[4]  # on page 3
    replies = [make_comment(question, body=f"Reply {n}", parent=target) for n in range(5)]

    response = member_client.post(
        f"/questions/{question.id}/comments",
        data={"body": " ", "parent_id": str(replies[4].id)},
    )

    html = response.text
    assert response.status_code == 422
    ids = [int(n) for n in re.findall(r'<article id="comment-(\d+)"', html)]
    assert ids == [target.id, *[r.id for r in replies]]  # unfolded: the parent is shown
    assert f'<form id="reply-form-{replies[4].id}"' in html


def test_after_posting_without_javascript_the_page_opens_at_the_comment(
    app, member_client, question
):
    app.config["COMMENTS_PER_PAGE"] = 2
    roots = [
        make_comment(question, body=f"Root {n}", age=timedelta(hours=10 - n)) for n in range(3)
    ]
    folded_parent = roots[0]
    for n in range(4):
        make_comment(question, body=f"Early reply {n}", parent=folded_parent)

    top = member_client.post(f"/questions/{question.id}/comments", data={"body": "New one"})
    reply = member_client.post(
        f"/questions/{question.id}/comments",
        data={"body": "Late reply", "parent_id": str(folded_parent.id)},
    )

    new_top, late_reply = rows(question)[-2:]
    # A fourth top-level comment with two per page: page 2. The reply is the fifth in its
    # thread, folded away on a plain page: the link opens its thread.
    assert top.headers["Location"] == q_url(question, comment_page=2) + f"#comment-{new_top.id}"
    assert reply.headers["Location"] == (
        q_url(question, thread=folded_parent.id) + f"#comment-{late_reply.id}"
    )
    page = member_client.get(reply.headers["Location"]).text
    assert f'id="comment-{late_reply.id}"' in page and "Your reply is posted." in page
    plain = member_client.get(q_url(question)).text
    assert f'id="comment-{late_reply.id}"' not in plain


def test_after_a_delete_without_javascript_the_page_opens_where_the_comment_was(
    member_client, member, question
):
    parent = make_comment(question, body="Parent")
    mine = make_comment(question, member, "Mine, alone", parent=parent)
    answered = make_comment(question, member, "Mine, answered")
    make_comment(question, body="An answer", parent=answered)

    gone = member_client.post(f"/comments/{mine.id}/delete", data={"confirm": "yes"})
    kept = member_client.post(f"/comments/{answered.id}/delete", data={"confirm": "yes"})

    assert gone.headers["Location"] == q_url(question) + f"#comment-{parent.id}"
    assert kept.headers["Location"] == q_url(question) + f"#comment-{answered.id}"
    assert "Your comment is deleted." in member_client.get(kept.headers["Location"]).text


def test_a_reload_after_posting_never_posts_again(member_client, question):
    """Post/redirect/get: what the browser reloads is the GET it was sent to."""
    response = member_client.post(f"/questions/{question.id}/comments", data={"body": "Once"})
    assert response.status_code == 303
    for _ in range(2):
        assert member_client.get(response.headers["Location"]).status_code == 200
    assert len(rows(question)) == 1


# -- an exact repeat says so ---------------------------------------------------------------


def test_an_exact_repeat_with_htmx_keeps_the_text_and_says_so(member_client, question):
    url = f"/questions/{question.id}/comments"
    member_client.post(url, data={"body": "Same words"}, headers=HTMX)

    again = member_client.post(url, data={"body": "Same words"}, headers=HTMX)

    [comment] = rows(question)
    html = again.text
    assert again.status_code == 409 and "<html" not in html
    assert "You posted exactly this here a moment ago" in html
    assert "Same words</textarea>" in html
    assert f'#comment-{comment.id}">See it</a>' in html


def test_an_exact_repeat_without_javascript_lands_at_the_comment_and_says_so(
    member_client, question
):
    url = f"/questions/{question.id}/comments"
    member_client.post(url, data={"body": "Same words"})
    again = member_client.post(url, data={"body": "Same words"})

    [comment] = rows(question)
    assert again.headers["Location"] == q_url(question) + f"#comment-{comment.id}"
    assert "You had already posted this" in member_client.get(again.headers["Location"]).text


# -- a post from a tab whose login ended ----------------------------------------------------


def _member_form_data(client, question, member, body="My long story") -> dict:
    login(client, member)
    page = client.get(q_url(question)).text
    assert 'name="as_member" type="hidden" value="1"' in page
    return {"body": body, "as_member": "1"}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_post_after_the_login_ended_keeps_the_text_and_says_log_in_again(
    client, question, member, headers
):
    data = _member_form_data(client, question, member)
    with client.session_transaction() as session:
        session.pop("_user_id")  # the login ended (expired, or ended from another device)

    response = client.post(f"/questions/{question.id}/comments", data=data, headers=headers)

    html = response.text
    assert response.status_code == 401
    assert "You were logged out" in html and "My long story</textarea>" in html
    assert 'target="_blank"' in re.search(r"<a [^>]*>Log in again</a>", html).group(0)
    assert 'name="guest_name"' not in html  # never turned into a guest's post
    assert rows(question) == []


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_post_from_a_tab_opened_before_a_logout_keeps_the_text(client, question, member, headers):
    data = _member_form_data(client, question, member)
    token = client.csrf_token()
    client.post("/logout")  # in another tab: the session, and its CSRF token, are gone

    response = client.post(
        f"/questions/{question.id}/comments",
        data={**data, "csrf_token": token},
        headers={**headers, "Origin": "http://localhost"},
        csrf=False,
    )

    html = response.text
    assert response.status_code == 400
    assert "You were logged out" in html and "My long story</textarea>" in html
    assert rows(question) == []
    # The form came back with a token of the present session: after logging in (which starts
    # a new session) the same text posts on the second try, with the member's name.
    login(client, member)
    stale = client.post(
        f"/questions/{question.id}/comments",
        data={**data, "csrf_token": token},
        headers={**headers, "Origin": "http://localhost"},
        csrf=False,
    )
    assert stale.status_code == 400 and "nothing was posted yet" in stale.text
    fresh_token = re.search(r'name="csrf_token" value="([^"]+)"', stale.text).group(1)
    posted = client.post(
        f"/questions/{question.id}/comments",
        data={**data, "csrf_token": fresh_token},
        headers=headers,
        csrf=False,
    )
    assert posted.status_code in (200, 303), posted.text[-3000:]
    [comment] = rows(question)
    assert comment.author_id == member.id and comment.body_md == "My long story"


def test_an_edit_after_the_login_ended_keeps_the_text(client, question, member):
    comment = make_comment(question, member, "Old words")
    login(client, member)
    with client.session_transaction() as session:
        session.pop("_user_id")

    response = client.post(
        f"/comments/{comment.id}/edit", data={"body": "New words", "as_member": "1"}
    )

    assert response.status_code == 401
    assert "You were logged out" in response.text and "New words</textarea>" in response.text
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).body_md == "Old words"


def test_a_cross_site_post_with_a_bad_token_gets_the_plain_400(client, question):
    response = client.post(
        f"/questions/{question.id}/comments",
        data={"body": "Spam", "guest_name": "Visitor", "csrf_token": "forged"},
        headers={"Origin": "https://evil.example"},
        csrf=False,
    )
    assert response.status_code == 400
    assert "Spam" not in response.text and "<textarea" not in response.text


# -- a reply posted live stands where a reload puts it ------------------------------------


def test_a_live_reply_goes_after_the_replies_already_under_its_parent(member_client, question):
    parent = make_comment(question, body="Parent", age=timedelta(hours=4))
    first = make_comment(question, body="First reply", parent=parent, age=timedelta(hours=3))
    make_comment(question, body="Reply to the first", parent=first, age=timedelta(hours=2))
    second = make_comment(question, body="Second reply", parent=parent, age=timedelta(hours=1))

    response = member_client.post(
        f"/questions/{question.id}/comments",
        data={"body": "Late reply to the first", "parent_id": str(first.id)},
        headers=HTMX,
    )

    reply = rows(question)[-1]
    # Before the comment that follows the first reply's subtree (or, where the page folds
    # that away, before the fold, or the thread's end): where a reload shows it.
    assert response.headers["HX-Retarget"] == (
        f"#comment-{second.id}, #thread-{parent.id}-more, #thread-{parent.id}-end"
    )
    assert response.headers["HX-Reswap"] == "beforebegin"
    assert f'<article id="comment-{reply.id}" class="comment depth-2">' in response.text
    assert f'<div id="comment-{first.id}-reply" class="reply-slot" hx-swap-oob="innerHTML">' in (
        response.text
    )
    reloaded = member_client.get(q_url(question, thread=parent.id)).text
    order = [int(n) for n in re.findall(r'<article id="comment-(\d+)"', reloaded)]
    assert order.index(reply.id) == order.index(second.id) - 1


def test_a_live_reply_to_the_last_subtree_goes_to_the_threads_end(member_client, question):
    parent = make_comment(question, body="Parent")
    make_comment(question, body="Only reply", parent=parent)
    response = member_client.post(
        f"/questions/{question.id}/comments",
        data={"body": "Another", "parent_id": str(parent.id)},
        headers=HTMX,
    )
    assert response.headers["HX-Retarget"] == f"#thread-{parent.id}-more, #thread-{parent.id}-end"
    page = member_client.get(q_url(question)).text
    assert f'<span id="thread-{parent.id}-end" class="thread-end"></span>' in page


def test_the_thread_argument_opens_only_a_thread_of_this_question(client, question, make):
    parent = make_comment(question, body="Parent")
    for n in range(5):
        make_comment(question, body=f"Reply {n}", parent=parent)
    folded = client.get(q_url(question, thread="99999")).text
    assert "Show 2 more replies" in folded
    assert client.get(q_url(question, thread="1" * 40)).status_code == 200


def test_edit_and_reply_pages_still_work_as_their_own_pages(member_client, member, question):
    comment = make_comment(question, member, "Mine")
    assert member_client.get(f"/comments/{comment.id}/edit").status_code == 200
    assert member_client.get(f"/comments/{comment.id}/reply").status_code == 200


def test_a_reply_from_a_logged_out_tab_comes_back_under_its_parent(app, client, question, member):
    app.config["GUEST_COMMENTS"] = False
    parent = make_comment(question, body="Parent")
    login(client, member)
    with client.session_transaction() as session:
        session.pop("_user_id")

    response = client.post(
        f"/questions/{question.id}/comments",
        data={"body": "My reply", "as_member": "1", "parent_id": str(parent.id)},
    )

    assert response.status_code == 401
    assert f'<form id="reply-form-{parent.id}"' in response.text
    assert "My reply</textarea>" in response.text
