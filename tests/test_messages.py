"""Private conversations: the list, one conversation, writing with and without htmx, the poll,
blocking, reporting, account deletion and the export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Message, MessageReport, ModerationAction, Notification
from tests.conftest import HTMX, login
from tests.connect_factories import make_block, make_conversation, make_request
from tests.factories import PASSWORD, make_user


@pytest.fixture
def pair(app):
    mira = make_user("mira")
    noor = make_user("noor")
    conversation = make_conversation(
        mira, noor, (mira, "Hello Noor."), (noor, "Hi Mira!\nHow are you?")
    )
    return mira, noor, conversation


def _messages(conversation):
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        )
    )


def _client_for(app, user):
    other = app.test_client()
    login(other, user)
    return other


def test_the_list_shows_each_conversation_newest_first_with_the_last_line(client, pair):
    mira, noor, _ = pair
    older = make_user("older")
    make_conversation(mira, older, (older, "An old message."), age=timedelta(days=2))
    login(client, mira)
    html = client.get("/messages").get_data(as_text=True)
    assert html.index("noor") < html.index("older")
    assert "Hi Mira!" in html and "How are you?" not in html  # the first line of the last one
    assert "An old message." in html


def test_only_the_two_members_read_a_conversation(client, pair):
    mira, noor, conversation = pair
    login(client, noor)
    assert "Hello Noor." in client.get(f"/messages/{conversation.id}").get_data(as_text=True)
    for outsider in (make_user("outsider"), make_user("moderator_max", role="moderator")):
        login(client, outsider)
        response = client.get(f"/messages/{conversation.id}")
        assert response.status_code == 404
        assert "Hello Noor." not in response.get_data(as_text=True)
        assert client.post(f"/messages/{conversation.id}", data={"body": "x"}).status_code == 404
    assert len(_messages(conversation)) == 2


def test_a_plain_post_stores_the_message_notifies_and_redirects(client, pair):
    mira, noor, conversation = pair
    login(client, mira)
    response = client.post(f"/messages/{conversation.id}", data={"body": "Shall we talk **soon**?"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/messages/{conversation.id}")
    last = _messages(conversation)[-1]
    assert (last.sender_id, last.body_html) == (
        mira.id,
        "<p>Shall we talk <strong>soon</strong>?</p>\n",
    )
    told = db.session.scalar(select(Notification).where(Notification.user_id == noor.id))
    assert (told.event, told.url) == ("message", f"/messages/{conversation.id}")
    assert "soon" not in told.summary


def test_an_htmx_post_answers_the_list_and_an_empty_box(client, pair):
    mira, _, conversation = pair
    login(client, mira)
    response = client.post(
        f"/messages/{conversation.id}", data={"body": "Sent without reload."}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="message-list"' in html and "Sent without reload." in html
    assert 'id="message-form"' in html and 'hx-swap-oob="true"' in html
    assert "Sent without reload." not in html.split('id="message-form"')[1]  # the box is empty
    assert _messages(conversation)[-1].body_md == "Sent without reload."


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_an_empty_message_is_refused_with_422(client, pair, htmx):
    mira, _, conversation = pair
    login(client, mira)
    response = client.post(
        f"/messages/{conversation.id}", data={"body": "   "}, headers=HTMX if htmx else {}
    )
    assert response.status_code == 422
    assert "Write something before sending." in response.get_data(as_text=True)
    if htmx:
        assert response.headers["HX-Retarget"] == "#message-form"
    assert len(_messages(conversation)) == 2


def test_the_poll_answers_204_until_a_newer_message_comes(app, client, pair):
    mira, noor, conversation = pair
    login(client, mira)
    newest = _messages(conversation)[-1].id
    url = f"/messages/{conversation.id}?after={newest}"
    assert client.get(url, headers=HTMX).status_code == 204
    _client_for(app, noor).post(f"/messages/{conversation.id}", data={"body": "Are you there?"})
    response = client.get(url, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Are you there?" in html
    assert "HX-Request" in response.headers["Vary"]
    # The poller comes back with the new cursor.
    assert f"after={_messages(conversation)[-1].id}" in html
    # Without htmx the same URL is the whole page.
    assert "<html" in client.get(url).get_data(as_text=True)


def test_messages_are_rate_limited_like_comments(app, client, pair):
    mira, _, conversation = pair
    app.config["RATELIMIT_POST_MEMBER"] = "2 per minute"
    login(client, mira)
    for n in range(2):
        assert (
            client.post(f"/messages/{conversation.id}", data={"body": f"m{n}"}).status_code == 303
        )
    response = client.post(f"/messages/{conversation.id}", data={"body": "one more"}, headers=HTMX)
    assert response.status_code == 429
    assert "one more" in response.get_data(as_text=True)  # the text is kept in the box
    assert int(response.headers["Retry-After"]) > 0
    assert len(_messages(conversation)) == 4


def test_the_ban_hook_stops_requests_and_messages(app, client, pair, monkeypatch):
    """forum.messages.service.may_contact is where moderation's ban check joins."""
    mira, noor, conversation = pair
    monkeypatch.setattr(
        "forum.messages.service.may_contact", lambda sender: "You are banned from contacting."
    )
    monkeypatch.setattr(
        "forum.contacts.service.may_contact", lambda sender: "You are banned from contacting."
    )
    login(client, mira)
    assert client.post(f"/messages/{conversation.id}", data={"body": "Hi"}).status_code == 403
    noor.contact_policy = "anyone"
    db.session.commit()
    assert client.post("/members/noor/connect", data={"note": "Hi"}).status_code == 403
    assert len(_messages(conversation)) == 2


# -- blocking ---------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_blocking_stops_messages_both_ways_and_the_blocked_is_not_told(app, client, pair, htmx):
    mira, noor, conversation = pair
    login(client, noor)
    response = client.post(f"/messages/{conversation.id}/block", headers=HTMX if htmx else {})
    assert response.status_code == (204 if htmx else 303)
    page = client.get(f"/messages/{conversation.id}").get_data(as_text=True)
    assert 'id="message-form"' not in page and "You blocked mira" in page
    assert client.post(f"/messages/{conversation.id}", data={"body": "x"}).status_code == 409

    blocked = _client_for(app, mira)
    before = blocked.get(f"/messages/{conversation.id}").get_data(as_text=True)
    assert 'id="message-form"' in before and "block" not in before.lower().split("message-form")[0]
    response = blocked.post(f"/messages/{conversation.id}", data={"body": "Still there?"})
    assert response.status_code == 303  # as if delivered
    assert "Still there?" in blocked.get(f"/messages/{conversation.id}").get_data(as_text=True)
    assert "Still there?" not in client.get(f"/messages/{conversation.id}").get_data(as_text=True)
    assert "Still there?" not in client.get("/messages").get_data(as_text=True)
    assert not db.session.scalar(
        select(Notification).where(Notification.user_id == noor.id, Notification.event == "message")
    )


# -- reports ----------------------------------------------------------------------------------


def _conversation_of_eight(mira, noor):
    lines = [(noor if n % 2 else mira, f"Line {n}.") for n in range(9)]
    return make_conversation(mira, noor, *lines)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_received_message_can_be_reported_once(client, app, htmx):
    mira, noor = make_user("mira"), make_user("noor")
    conversation = _conversation_of_eight(mira, noor)
    target = _messages(conversation)[5]  # "Line 5." from noor
    login(client, mira)
    url = f"/messages/{conversation.id}/report/{target.id}"
    response = client.post(url, data={"reason": "Rude."}, headers=HTMX if htmx else {})
    assert response.status_code == (200 if htmx else 303)
    client.post(url, data={"reason": "Again."})
    [report] = db.session.scalars(select(MessageReport)).all()
    assert (report.message_id, report.reporter_id, report.reason) == (target.id, mira.id, "Rude.")
    own = _messages(conversation)[4]  # mira's own line
    assert client.post(f"/messages/{conversation.id}/report/{own.id}").status_code == 404


def test_moderators_read_only_the_reported_message_and_three_around_it(client, app):
    mira, noor = make_user("mira"), make_user("noor")
    conversation = _conversation_of_eight(mira, noor)
    target = _messages(conversation)[5]
    login(client, mira)
    client.post(f"/messages/{conversation.id}/report/{target.id}", data={"reason": "Rude."})
    report = db.session.scalar(select(MessageReport))

    login(client, make_user("member_mo"))
    assert client.get(f"/messages/reports/{report.id}").status_code == 403
    assert client.get("/messages/reports").status_code == 403

    login(client, make_user("mod", role="moderator"))
    assert "Rude." in client.get("/messages/reports").get_data(as_text=True)
    html = client.get(f"/messages/reports/{report.id}").get_data(as_text=True)
    shown = [n for n in range(9) if f"Line {n}." in html]
    assert shown == [2, 3, 4, 5, 6, 7, 8]
    assert client.get(f"/messages/{conversation.id}").status_code == 404


# -- a moderator's answer to a report ----------------------------------------------------------


@pytest.fixture
def reported(pair):
    """Mira reported Noor's "Hi Mira!"; the report and the message's id."""
    mira, noor, conversation = pair
    message = _messages(conversation)[1]
    report = MessageReport(message_id=message.id, reporter_id=mira.id, reason="Unkind.")
    db.session.add(report)
    db.session.commit()
    return report.id, message.id


def _state(report_id: int, message_id: int):
    """(report closed?, message removed?, the log's (action, target_type, reason) rows)."""
    db.session.rollback()
    report = db.session.get(MessageReport, report_id)
    message = db.session.get(Message, message_id)
    log = db.session.execute(
        select(ModerationAction.action, ModerationAction.target_type, ModerationAction.reason)
    ).all()
    return report.resolved_at is not None, message.removed_at is not None, [tuple(r) for r in log]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_moderator_dismisses_a_report_and_the_message_stays(app, client, pair, reported, htmx):
    mira, _noor, conversation = pair
    report_id, message_id = reported
    login(client, make_user("mod", role="moderator"))
    assert 'href="/messages/reports"' in client.get("/moderation").get_data(as_text=True)
    page = client.get(f"/messages/reports/{report_id}").get_data(as_text=True)
    assert "Dismiss the report" in page and "Remove the message" in page

    url = f"/messages/reports/{report_id}/dismiss"
    response = client.post(url, headers=HTMX if htmx else {})

    if htmx:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" not in html and f'id="message-report-{report_id}"' in html
        assert "Report dismissed: the message stays." in html
        assert "This report is closed." in html and "Dismiss the report" not in html
        assert "Hi Mira!" in html
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/messages/reports")
        html = client.get("/messages/reports").get_data(as_text=True)
        assert "Report dismissed: the message stays." in html
        assert "No reported messages." in html
    assert _state(report_id, message_id) == (True, False, [("dismiss", "message", "")])
    assert "Hi Mira!" in _client_for(app, mira).get(f"/messages/{conversation.id}").get_data(
        as_text=True
    )
    # A dismissal is not in the public log, and a second one finds nothing to close.
    assert "Nothing has been moderated yet." in client.get("/moderation/log").get_data(as_text=True)
    again = client.post(url, headers=HTMX if htmx else {})
    assert again.status_code == 409
    assert "This report is already closed." in again.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_moderator_removes_a_reported_message(app, client, pair, reported, htmx):
    mira, noor, conversation = pair
    report_id, message_id = reported
    login(client, make_user("mod", role="moderator"))

    url = f"/messages/reports/{report_id}/remove"
    response = client.post(url, data={"reason": "harassment"}, headers=HTMX if htmx else {})

    if htmx:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" not in html and "Message removed" in html
        assert "message removed" in html and "Hi Mira!" not in html
        assert "This report is closed." in html and "Remove the message" not in html
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/messages/reports")
        html = client.get("/messages/reports").get_data(as_text=True)
        assert "Message removed" in html and "No reported messages." in html
    assert _state(report_id, message_id) == (True, True, [("hide", "message", "harassment")])
    for member in (mira, noor):
        html = _client_for(app, member).get(f"/messages/{conversation.id}").get_data(as_text=True)
        assert "message removed" in html and "How are you?" not in html
        assert "Hello Noor." in html  # only the reported message goes
    # The public log says a private message went and why, never its text, sender or conversation.
    log = client.get("/moderation/log").get_data(as_text=True)
    assert "Removed a private message" in log and "Reason: harassment" in log
    assert "Hi Mira" not in log and "noor" not in log and f"/messages/{conversation.id}" not in log
    [told] = db.session.scalars(select(Notification).where(Notification.user_id == noor.id)).all()
    assert told.summary == "A moderator removed your message: harassment"
    again = client.post(url, data={"reason": "spam"}, headers=HTMX if htmx else {})
    assert again.status_code == 409
    assert "This message is already removed." in again.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_removing_a_message_without_a_reason_is_refused_with_422(client, reported, htmx):
    report_id, message_id = reported
    login(client, make_user("mod", role="moderator"))
    response = client.post(
        f"/messages/reports/{report_id}/remove",
        data={"reason": "", "detail": "my words"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose the reason everyone will read." in html and 'value="my words"' in html
    assert ("<html" in html) is not htmx
    assert _state(report_id, message_id) == (False, False, [])


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("who", ["visitor", "reporter", "sender", "member"])
@pytest.mark.parametrize("action", ["dismiss", "remove"])
def test_only_moderators_answer_a_message_report(client, pair, reported, action, who, htmx):
    mira, noor, _ = pair
    report_id, message_id = reported
    user = {"visitor": None, "reporter": mira, "sender": noor, "member": make_user("other")}[who]
    if user is not None:
        login(client, user)
    response = client.post(
        f"/messages/reports/{report_id}/{action}",
        data={"reason": "spam"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 403
    assert _state(report_id, message_id) == (False, False, [])


def test_a_moderator_cannot_remove_an_administrators_message(client, app):
    admin, mira = make_user("ada", role="admin"), make_user("mira")
    conversation = make_conversation(admin, mira, (admin, "From the admin."))
    [message] = _messages(conversation)
    report = MessageReport(message_id=message.id, reporter_id=mira.id)
    db.session.add(report)
    db.session.commit()
    report_id = report.id
    login(client, make_user("mod", role="moderator"))
    page = client.get(f"/messages/reports/{report_id}").get_data(as_text=True)
    assert "Moderators cannot act against an administrator." in page
    assert "Remove the message" not in page and "Dismiss the report" in page
    response = client.post(f"/messages/reports/{report_id}/remove", data={"reason": "spam"})
    assert response.status_code == 403
    assert _state(report_id, message.id) == (False, False, [])


# -- accounts ---------------------------------------------------------------------------------


def test_deleting_an_account_removes_its_message_text(app, client, pair):
    mira, noor, conversation = pair
    login(client, noor)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code in (204, 303)
    assert not db.session.scalars(select(Message).where(Message.body_md.like("%Hi Mira%"))).all()
    other = _client_for(app, mira)
    page = other.get(f"/messages/{conversation.id}").get_data(as_text=True)
    assert "[deleted member]" in page and "message removed" in page
    assert "Hello Noor." in page  # mira's own words stay hers
    assert 'id="message-form"' not in page
    listing = other.get("/messages").get_data(as_text=True)
    assert "[deleted member]" in listing and "message removed" in listing


def test_the_export_holds_the_members_own_messages_and_requests(client, pair):
    mira, noor, _ = pair
    make_request(mira, noor, "Mira's note.", status="accepted")
    make_request(noor, mira, "Noor's note.", status="declined")
    login(client, mira)
    data = client.get("/account/export").get_json()
    assert [m["body_markdown"] for m in data["messages"]] == ["Hello Noor."]
    sent, received = data["contact_requests"]
    assert sent == {
        **sent,
        "direction": "sent",
        "other_member": "noor",
        "note_markdown": "Mira's note.",
    }
    assert received["direction"] == "received" and "note_markdown" not in received


def test_the_list_and_page_cost_a_fixed_number_of_queries(client, pair, count_queries):
    mira, _, conversation = pair

    def cost(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    login(client, mira)
    few = (cost("/messages"), cost(f"/messages/{conversation.id}"))
    for n in range(10):
        make_conversation(mira, make_user(f"friend{n}"), (mira, f"Note {n}"))
    for n in range(10):
        client.post(f"/messages/{conversation.id}", data={"body": f"More {n}"})
    assert (cost("/messages"), cost(f"/messages/{conversation.id}")) == few


def test_a_blocked_pair_stays_blocked_after_unblock_for_withheld_messages(app, client, pair):
    mira, noor, conversation = pair
    make_block(noor, mira)
    login(client, mira)
    client.post(f"/messages/{conversation.id}", data={"body": "While blocked."})
    login(client, noor)
    client.post(f"/contacts/blocked/{mira.id}/unblock")
    assert "While blocked." not in client.get(f"/messages/{conversation.id}").get_data(as_text=True)
