"""Members report comments and questions: reasons and notes, one report each, hiding at a
threshold of different members, and the author never told who reported."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Ban, Comment, ModerationAction, Question, Report
from forum.moderation.rules import AUTO_HIDDEN
from tests.conftest import HTMX
from tests.moderation_world import (
    World,
    as_user,
    build_world,
    fresh,
    log_entries,
    report_count,
    text_of,
)


@pytest.fixture
def world(app) -> World:
    return build_world()


def report_url(kind: str, item_id: int) -> str:
    return f"/moderation/report/{kind}/{item_id}"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_member_reports_a_comment_with_a_reason_and_a_note(client, world, htmx):
    as_user(client, world.dave)

    response = client.post(
        report_url("comment", world.top.id),
        data={"reason": "misinformation", "note": "Says the opposite of the article."},
        headers=HTMX if htmx else {},
    )

    if htmx:
        assert response.status_code == 200
        assert "<html" not in text_of(response)
        assert "Thank you" in text_of(response)
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(
            f"/comments/{world.top.id}#comment-{world.top.id}"
        )
    report = db.session.scalar(select(Report))
    assert (report.target_type, report.target_id, report.reporter_id) == (
        "comment",
        world.top.id,
        world.dave.id,
    )
    assert report.reason == "misinformation" and report.note == "Says the opposite of the article."
    assert fresh(Comment, world.top.id).hidden_at is None  # one report hides nothing


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_report_form_comes_under_the_comment_or_on_its_own_page(client, world, htmx):
    as_user(client, world.dave)
    response = client.get(report_url("comment", world.top.id), headers=HTMX if htmx else {})
    html = text_of(response)
    assert response.status_code == 200
    assert ("<html" in html) is not htmx
    assert 'name="reason"' in html and "Self-harm or crisis" in html
    assert f'hx-target="#comment-{world.top.id}-reply"' in html  # cancel empties the slot


def test_the_comment_shows_a_report_link_to_members_only(client, world):
    html = text_of(client.get(world.question_path))
    assert "/moderation/report/" not in html
    as_user(client, world.dave)
    html = text_of(client.get(world.question_path))
    assert f'href="/moderation/report/comment/{world.top.id}"' in html
    assert f'href="/moderation/report/question/{world.question.id}"' in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_reporting_twice_says_so_and_stores_one_report(client, world, htmx):
    as_user(client, world.dave)
    client.post(report_url("comment", world.top.id), data={"reason": "spam"})

    again = client.post(
        report_url("comment", world.top.id),
        data={"reason": "harassment"},
        headers=HTMX if htmx else {},
    )

    assert again.status_code == 409
    assert "already reported" in text_of(again)
    assert report_count() == 1
    # Opening the form again says so too, instead of offering a second report.
    form = client.get(report_url("comment", world.top.id), headers=HTMX if htmx else {})
    assert "already reported" in text_of(form) and 'name="reason"' not in text_of(form)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_reporting_your_own_comment_is_refused(client, world, htmx):
    as_user(client, world.alice)
    response = client.post(
        report_url("comment", world.top.id), data={"reason": "spam"}, headers=HTMX if htmx else {}
    )
    assert response.status_code == 403
    assert "your own comment" in text_of(response)
    assert report_count() == 0


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_visitor_is_sent_to_log_in(client, world, htmx):
    response = client.post(
        report_url("comment", world.top.id), data={"reason": "spam"}, headers=HTMX if htmx else {}
    )
    if htmx:
        assert response.status_code == 401 and "/login" in response.headers["HX-Redirect"]
    else:
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    assert report_count() == 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Choose a reason"),
        ({"reason": "nonsense"}, "Not a valid choice"),
        ({"reason": "other"}, "Say in a few words"),
        ({"reason": "spam", "note": "x" * 501}, "under 500 characters"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_bad_report_form_answers_422_with_the_form(client, world, data, message, htmx):
    as_user(client, world.dave)
    response = client.post(
        report_url("comment", world.top.id), data=data, headers=HTMX if htmx else {}
    )
    assert response.status_code == 422
    assert message in text_of(response) and 'name="reason"' in text_of(response)
    assert report_count() == 0


def test_a_missing_item_is_404(client, world):
    as_user(client, world.dave)
    assert client.get(report_url("comment", 999_999)).status_code == 404
    assert client.post(report_url("question", 999_999), data={"reason": "spam"}).status_code == 404


def _report(client, user, kind, item_id, reason="spam"):
    as_user(client, user)
    return client.post(report_url(kind, item_id), data={"reason": reason})


def test_three_reports_from_different_members_hide_the_comment_until_a_moderator_decides(
    app, client, world
):
    count_before = fresh(Question, world.question.id).comment_count
    for member in (world.bob, world.carol):
        _report(client, member, "comment", world.top.id)
    assert fresh(Comment, world.top.id).hidden_at is None

    _report(client, world.dave, "comment", world.top.id)

    comment = fresh(Comment, world.top.id)
    assert comment.hidden_at is not None and comment.hidden_reason == AUTO_HIDDEN
    assert fresh(Question, world.question.id).comment_count == count_before - 1
    (entry,) = log_entries("hide")
    assert entry.automatic and entry.moderator_id is None and entry.target_id == world.top.id
    # Readers see why it is gone, in its place.
    html = text_of(client.get(world.question_path))
    assert "Hidden after several members reported it, until a moderator reviews it." in html
    assert "Alice thinks" not in html
    # It stays in the queue: the reports are open until a moderator decides.
    as_user(client, world.mona)
    assert "Alice thinks it is not inherited." in text_of(client.get("/moderation"))


def test_the_threshold_comes_from_the_settings(app, client, world):
    app.config["REPORTS_TO_HIDE"] = 1
    _report(client, world.dave, "comment", world.top.id)
    assert fresh(Comment, world.top.id).hidden_at is not None


def test_reports_alone_never_hide_a_moderators_words(app, client, world):
    app.config["REPORTS_TO_HIDE"] = 1
    _report(client, world.dave, "comment", world.mod_comment.id)
    _report(client, world.dave, "comment", world.admin_comment.id)
    assert fresh(Comment, world.mod_comment.id).hidden_at is None
    assert fresh(Comment, world.admin_comment.id).hidden_at is None
    assert report_count() == 2


def test_a_reported_question_is_hidden_from_lists_at_the_threshold(app, client, world):
    app.config["REPORTS_TO_HIDE"] = 2
    disease_page = f"/diseases/{world.disease.slug}"
    assert "Is scleromyxedema hereditary?" in text_of(client.get(disease_page))
    _report(client, world.alice, "question", world.question.id, "misinformation")
    _report(client, world.dave, "question", world.question.id)

    question = fresh(Question, world.question.id)
    assert question.hidden_at is not None
    client.get("/logout")
    assert "Is scleromyxedema hereditary?" not in text_of(client.get(disease_page))


def test_a_hidden_comment_cannot_be_reported_and_its_text_is_not_shown(app, client, world):
    app.config["REPORTS_TO_HIDE"] = 1
    _report(client, world.dave, "comment", world.top.id)
    as_user(client, world.carol)
    form = client.get(report_url("comment", world.top.id))
    assert form.status_code == 409
    assert "Alice thinks" not in text_of(form)
    assert (
        client.post(report_url("comment", world.top.id), data={"reason": "spam"}).status_code == 409
    )


def test_the_author_never_learns_who_reported(app, client, world):
    app.config["REPORTS_TO_HIDE"] = 1
    _report(client, world.dave, "comment", world.top.id, "harassment")
    as_user(client, world.alice)
    for url in (world.question_path, f"/comments/{world.top.id}", "/moderation/log", "/account"):
        assert "dave_d" not in text_of(client.get(url)), url
    export = client.get("/account/export").get_data(as_text=True)
    assert "dave_d" not in export


def test_a_report_and_an_automatic_hide_are_one_transaction(app, client, world, monkeypatch):
    """If writing the log entry fails, neither the report nor the hide is stored."""
    from forum.moderation import service

    app.config["REPORTS_TO_HIDE"] = 1

    def broken_log(*args, **kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr(service, "log_action", broken_log)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = _report(client, world.dave, "comment", world.top.id)
    assert response.status_code == 500
    assert report_count() == 0
    assert fresh(Comment, world.top.id).hidden_at is None
    assert db.session.scalar(select(ModerationAction)) is None


def test_the_reporters_data_export_lists_their_reports_and_bans(client, world):
    _report(client, world.dave, "comment", world.top.id, "harassment")
    db.session.add(
        Ban(user_id=world.dave.id, moderator_id=world.mona.id, reason="Too many reports.")
    )
    db.session.commit()
    data = client.get("/account/export").get_json()
    (filed,) = data["reports_filed"]
    assert filed["reason"] == "harassment" and filed["item"] == f"comment {world.top.id}"
    assert data["bans"][0]["reason"] == "Too many reports."
