"""The queue and its actions: who reaches them (moderators and admins; anyone else 404 for
pages and 403 for actions), what each action changes, with and without htmx, and the rule
that a moderator never acts against an administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Ban, Comment, Disease, ModerationAction, Question, Report
from forum.models.base import utcnow
from forum.moderation.rules import AUTO_HIDDEN
from tests.conftest import HTMX
from tests.factories import make_comment
from tests.moderation_world import (
    World,
    as_user,
    build_world,
    fresh,
    log_entries,
    text_of,
)


@pytest.fixture
def world(app) -> World:
    return build_world()


def _report(world, reporter, target_type, target_id, reason="spam", note=""):
    db.session.add(
        Report(
            target_type=target_type,
            target_id=target_id,
            reporter_id=reporter.id,
            reason=reason,
            note=note,
        )
    )
    db.session.commit()


def _ban(member, moderator, **fields):
    db.session.add(Ban(user_id=member.id, moderator_id=moderator.id, reason="Spam.", **fields))
    db.session.commit()


# Every action: (url, form data, how to set the world up so it can succeed).
def _actions(w):
    def held(w):
        comment = make_comment(w.question, guest_name="Gail", held_at=utcnow())
        return comment.id

    return {
        "dismiss": (f"/moderation/items/comment/{w.top.id}/dismiss", {}, None),
        "hide": (f"/moderation/items/comment/{w.top.id}/hide", {"reason": "spam"}, None),
        "restore": (f"/moderation/items/comment/{w.top.id}/restore", {}, None),
        "lock": (f"/moderation/questions/{w.question.id}/lock", {}, None),
        "unlock": (f"/moderation/questions/{w.question.id}/unlock", {}, None),
        "ban": (
            f"/moderation/members/{w.alice.id}/ban",
            {"length": "week", "reason": "Repeated spam."},
            None,
        ),
        "unban": (f"/moderation/members/{w.alice.id}/unban", {}, None),
        "approve": ("/moderation/comments/{held}/approve", {}, held),
        "reject": ("/moderation/comments/{held}/reject", {}, held),
    }


def _prepare(world, action: str):
    """Put the world in the state the action needs (a report, a hidden comment...)."""
    _report(world, world.dave, "comment", world.top.id, "harassment", "Rude.")
    if action == "restore":
        world.top.hidden_at, world.top.hidden_reason = utcnow(), "spam"
    if action == "unlock":
        world.question.locked_at = utcnow()
    if action == "unban":
        _ban(world.alice, world.mona)
    db.session.commit()
    url, data, setup = _actions(world)[action]
    if setup:
        url = url.format(held=setup(world))
    return url, data


def snapshot():
    db.session.rollback()
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        state[table.name] = sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
    db.session.rollback()
    return state


ACTIONS = ["dismiss", "hide", "restore", "lock", "unlock", "ban", "unban", "approve", "reject"]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("who", ["visitor", "member", "author"])
@pytest.mark.parametrize("action", ACTIONS)
def test_only_moderators_may_act_everyone_else_gets_403(client, world, action, who, htmx):
    url, data = _prepare(world, action)
    as_user(client, {"visitor": None, "member": world.dave, "author": world.alice}[who])
    before = snapshot()

    response = client.post(url, data=data, headers=HTMX if htmx else {})

    assert response.status_code == 403
    assert "Only moderators" in text_of(response)
    assert ("<html" in text_of(response)) is not htmx
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("who", ["mona", "ada"])
@pytest.mark.parametrize("action", ACTIONS)
def test_moderators_and_admins_may_act_and_each_action_is_logged(client, world, action, who, htmx):
    url, data = _prepare(world, action)
    as_user(client, getattr(world, who))
    entries_before = len(log_entries())

    response = client.post(url, data=data, headers=HTMX if htmx else {})

    if htmx:
        assert response.status_code == 200, text_of(response)
        assert "<html" not in text_of(response)
    else:
        assert response.status_code == 303
    entries = log_entries()
    assert len(entries) > entries_before
    assert entries[-1].moderator_id == getattr(world, who).id
    assert entries[-1].action == action


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("who", ["visitor", "member"])
@pytest.mark.parametrize(
    "url", ["/moderation", "/moderation/bans", "/moderation/items/comment/{c}", "/moderation/roles"]
)
def test_the_moderators_pages_are_404_for_everyone_else(client, world, url, who, htmx):
    as_user(client, world.dave if who == "member" else None)
    response = client.get(url.format(c=world.top.id), headers=HTMX if htmx else {})
    assert response.status_code == 404


def test_the_roles_page_is_for_administrators_only(client, world):
    as_user(client, world.mona)
    assert client.get("/moderation/roles").status_code == 404
    assert (
        client.post(
            "/moderation/roles", data={"username": "dave_d", "role": "moderator"}
        ).status_code
        == 403
    )
    as_user(client, world.ada)
    assert client.get("/moderation/roles").status_code == 200


# -- the queue -----------------------------------------------------------------------------


def test_the_queue_groups_reports_by_item_urgent_first_then_most_reported(client, world, make):
    erin = make.make_user("erin_reporter")
    _report(world, world.dave, "comment", world.reply.id, "spam")
    _report(world, erin, "comment", world.reply.id, "spam")
    _report(world, world.dave, "comment", world.top.id, "misinformation", "Wrong dose.")
    _report(world, world.bob, "question", world.question.id, "self_harm", "Worrying words.")
    as_user(client, world.mona)

    html = text_of(client.get("/moderation"))

    order = [
        html.index(f'id="mod-question-{world.question.id}"'),
        html.index(f'id="mod-comment-{world.reply.id}"'),
        html.index(f'id="mod-comment-{world.top.id}"'),
    ]
    assert order == sorted(order)
    assert "Urgent: self-harm or crisis" in html
    assert "2 open reports" in html and "Wrong dose." in html
    assert "Bob agrees with Alice." in html  # the item's text
    assert f'href="/comments/{world.reply.id}#comment-{world.reply.id}"' in html
    # The author's history, never the reporters.
    assert "member since" in html
    for reporter in ("dave_d", "erin_reporter"):
        assert reporter not in html
    assert "3 items with open reports" in html


def test_the_queue_costs_the_same_queries_whatever_it_holds(client, world, count_queries, make):
    as_user(client, world.mona)
    _report(world, world.dave, "comment", world.top.id)
    with count_queries() as few:
        assert client.get("/moderation").status_code == 200
    for n in range(8):
        author = make.make_user(f"writer{n}")
        comment = make_comment(world.question, author, f"Comment number {n}")
        _report(world, world.dave, "comment", comment.id)
    make_comment(world.question, guest_name="Gail", held_at=utcnow())
    with count_queries() as many:
        assert client.get("/moderation").status_code == 200
    assert many.count == few.count


# -- what each action does -------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_hide_keeps_replies_takes_the_count_down_and_logs_the_public_reason(client, world, htmx):
    _report(world, world.dave, "comment", world.top.id)
    count = fresh(Question, world.question.id).comment_count
    as_user(client, world.mona)

    response = client.post(
        f"/moderation/items/comment/{world.top.id}/hide",
        data={"reason": "misinformation", "item": f"comment:{world.top.id}", "shown_in": "queue"},
        headers=HTMX if htmx else {"Referer": "http://localhost/moderation"},
    )

    comment = fresh(Comment, world.top.id)
    assert comment.hidden_reason == "medical misinformation"
    assert fresh(Question, world.question.id).comment_count == count - 1
    assert fresh(Comment, world.reply.id).hidden_at is None
    assert db.session.scalar(select(Report.resolution)) == "hidden"
    (entry,) = log_entries("hide")
    assert entry.reason == "medical misinformation" and entry.target_user_id == world.alice.id
    if htmx:
        html = text_of(response)
        assert html.startswith(f'<article id="mod-comment-{world.top.id}"')
        assert "Hidden: medical misinformation" in html and "Restore" in html
    else:
        assert response.headers["Location"] == "/moderation"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_hide_with_other_needs_words_and_answers_422(client, world, htmx):
    as_user(client, world.mona)
    response = client.post(
        f"/moderation/items/comment/{world.top.id}/hide",
        data={"reason": "other", "detail": ""},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    assert "Write the reason everyone will read." in text_of(response)
    assert fresh(Comment, world.top.id).hidden_at is None
    assert log_entries() == []


def test_hide_with_words_of_the_moderators_own(client, world):
    as_user(client, world.mona)
    client.post(
        f"/moderation/items/comment/{world.top.id}/hide",
        data={"reason": "other", "detail": "  advertises   a clinic  "},
    )
    assert fresh(Comment, world.top.id).hidden_reason == "advertises a clinic"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_restore_brings_everything_back_exactly(client, world, htmx):
    as_user(client, world.mona)
    before = fresh(Comment, world.top.id)
    body, count = before.body_html, fresh(Question, world.question.id).comment_count
    client.post(f"/moderation/items/comment/{world.top.id}/hide", data={"reason": "spam"})

    response = client.post(
        f"/moderation/items/comment/{world.top.id}/restore",
        data={"shown_in": "thread"},
        headers=HTMX if htmx else {},
    )

    comment = fresh(Comment, world.top.id)
    assert comment.hidden_at is None and comment.hidden_reason is None
    assert comment.body_html == body
    assert fresh(Question, world.question.id).comment_count == count
    if htmx:  # from the thread: the comment comes back in place, text and all
        assert text_of(response).startswith(f'<article id="comment-{world.top.id}"')
        assert "Alice thinks it is not inherited." in text_of(response)
        assert "Removed by a moderator" not in text_of(response)
    assert [e.action for e in log_entries()] == ["hide", "restore"]


def test_restoring_what_is_not_hidden_is_a_conflict(client, world):
    as_user(client, world.mona)
    response = client.post(f"/moderation/items/comment/{world.top.id}/restore", headers=HTMX)
    assert response.status_code == 409 and "is not hidden" in text_of(response)
    assert log_entries() == []


def test_dismissing_reports_closes_them_and_brings_back_what_they_hid(app, client, world):
    app.config["REPORTS_TO_HIDE"] = 1
    as_user(client, world.dave)
    client.post(f"/moderation/report/comment/{world.top.id}", data={"reason": "spam"})
    assert fresh(Comment, world.top.id).hidden_reason == AUTO_HIDDEN
    as_user(client, world.mona)

    response = client.post(f"/moderation/items/comment/{world.top.id}/dismiss", headers=HTMX)

    assert response.status_code == 200 and "Reports dismissed." in text_of(response)
    assert fresh(Comment, world.top.id).hidden_at is None
    assert db.session.scalar(select(Report.resolution)) == "dismissed"
    assert [e.action for e in log_entries()] == ["hide", "dismiss", "restore"]
    # The item leaves the queue.
    assert f'id="mod-comment-{world.top.id}"' not in text_of(client.get("/moderation"))


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_lock_and_unlock_the_thread_from_a_reported_comment(client, world, htmx):
    as_user(client, world.mona)
    headers = HTMX if htmx else {}
    item = {"item": f"comment:{world.top.id}"}
    response = client.post(
        f"/moderation/questions/{world.question.id}/lock", data=item, headers=headers
    )
    assert fresh(Question, world.question.id).locked_at is not None
    if htmx:
        assert f'id="mod-comment-{world.top.id}"' in text_of(response)
        assert "Discussion locked since" in text_of(response)
    again = client.post(
        f"/moderation/questions/{world.question.id}/lock", data=item, headers=headers
    )
    assert again.status_code == 409
    client.post(f"/moderation/questions/{world.question.id}/unlock", data=item, headers=headers)
    assert fresh(Question, world.question.id).locked_at is None
    assert [e.action for e in log_entries()] == ["lock", "unlock"]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("length, days", [("day", 1), ("week", 7), ("lifted", None)])
def test_ban_for_a_day_a_week_or_until_lifted(client, world, length, days, htmx):
    as_user(client, world.mona)
    response = client.post(
        f"/moderation/members/{world.alice.id}/ban",
        data={"length": length, "reason": "Selling pills.", "item": f"comment:{world.top.id}"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == (200 if htmx else 303)
    ban = db.session.scalar(select(Ban))
    if days is None:
        assert ban.ends_at is None
    else:
        assert abs((ban.ends_at - ban.created_at) - timedelta(days=days)) < timedelta(seconds=5)
    (entry,) = log_entries("ban")
    assert entry.reason == "Selling pills." and entry.target_id == world.alice.id
    if htmx:
        assert "banned" in text_of(response) and "Lift the ban on alice_a" in text_of(response)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_ban_needs_a_reason(client, world, htmx):
    as_user(client, world.mona)
    response = client.post(
        f"/moderation/members/{world.alice.id}/ban",
        data={"length": "day", "reason": " ", "item": f"comment:{world.top.id}"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    assert "Write the reason for the ban." in text_of(response)
    assert db.session.scalar(select(Ban)) is None


def test_a_new_ban_replaces_the_one_in_force_and_unban_lifts_it(client, world):
    as_user(client, world.mona)
    for length in ("day", "lifted"):
        client.post(
            f"/moderation/members/{world.alice.id}/ban", data={"length": length, "reason": "x"}
        )
    db.session.expire_all()
    bans = list(db.session.scalars(select(Ban).order_by(Ban.id)))
    assert bans[0].lifted_at is not None and bans[1].lifted_at is None
    client.post(f"/moderation/members/{world.alice.id}/unban")
    assert fresh(Ban, bans[1].id).lifted_at is not None
    assert client.post(f"/moderation/members/{world.alice.id}/unban").status_code == 409


# -- a moderator never acts against an administrator --------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("action", ["hide", "ban"])
def test_a_moderator_cannot_act_against_an_administrator(client, world, action, htmx):
    as_user(client, world.mona)
    before = snapshot()
    if action == "hide":
        url, data = f"/moderation/items/comment/{world.admin_comment.id}/hide", {"reason": "spam"}
    else:
        url, data = f"/moderation/members/{world.ada.id}/ban", {"length": "day", "reason": "x"}
    response = client.post(url, data=data, headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert "cannot act against an administrator" in text_of(response)
    assert snapshot() == before


def test_an_administrator_may_act_against_a_moderator_but_nobody_against_themselves(client, world):
    as_user(client, world.ada)
    url = f"/moderation/items/comment/{world.mod_comment.id}/hide"
    assert client.post(url, data={"reason": "off_topic"}).status_code == 303
    assert fresh(Comment, world.mod_comment.id).hidden_reason == "off topic"
    own = client.post(
        f"/moderation/members/{world.ada.id}/ban", data={"length": "day", "reason": "x"}
    )
    assert own.status_code == 403
    as_user(client, world.mona)
    restore = client.post(f"/moderation/items/comment/{world.mod_comment.id}/restore")
    assert restore.status_code == 403  # her own comment: another moderator decides


def test_the_card_of_an_admins_comment_offers_no_hide_or_ban_to_a_moderator(client, world):
    _report(world, world.dave, "comment", world.admin_comment.id)
    as_user(client, world.mona)
    html = text_of(client.get(f"/moderation/items/comment/{world.admin_comment.id}"))
    assert "Moderators cannot act against an administrator." in html
    assert f"/moderation/items/comment/{world.admin_comment.id}/hide" not in html
    assert f"/moderation/members/{world.ada.id}/ban" not in html


# -- questions ---------------------------------------------------------------------------------


def test_hiding_a_question_takes_it_out_of_the_disease_count_and_restore_puts_it_back(
    client, world
):
    count = fresh(Disease, world.disease.id).question_count
    as_user(client, world.mona)
    client.post(f"/moderation/items/question/{world.question.id}/hide", data={"reason": "spam"})
    assert fresh(Disease, world.disease.id).question_count == count - 1
    client.post(f"/moderation/items/question/{world.question.id}/restore")
    assert fresh(Disease, world.disease.id).question_count == count
    assert fresh(Question, world.question.id).hidden_at is None


def test_every_action_and_its_log_entry_are_one_transaction(app, client, world, monkeypatch):
    from forum.moderation import service

    def broken_log(*args, **kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr(service, "log_action", broken_log)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    as_user(client, world.mona)
    before = snapshot()
    for url, data in (
        (f"/moderation/items/comment/{world.top.id}/hide", {"reason": "spam"}),
        (f"/moderation/questions/{world.question.id}/lock", {}),
        (f"/moderation/members/{world.alice.id}/ban", {"length": "day", "reason": "x"}),
    ):
        assert client.post(url, data=data).status_code == 500
    assert snapshot() == before
    assert db.session.scalar(select(ModerationAction)) is None
