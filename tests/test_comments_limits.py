"""Comment posting is rate limited: per member for members, per IP address for guests."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment
from tests.conftest import HTMX, login


@pytest.fixture
def app_config():
    return {"RATELIMIT_POST_MEMBER": "4 per minute", "RATELIMIT_POST_GUEST": "2 per minute"}


def stored() -> int:
    return db.session.scalar(select(func.count(Comment.id)))


def test_members_are_limited_per_member(client, make, question):
    login(client, make.make_user("busy"))
    codes = [
        client.post(f"/questions/{question.id}/comments", data={"body": f"n{n}"}).status_code
        for n in range(5)
    ]
    assert codes == [303, 303, 303, 303, 429]
    assert stored() == 4

    # Another member on the same address is not held back by the first one's posts.
    login(client, make.make_user("calm"))
    response = client.post(f"/questions/{question.id}/comments", data={"body": "mine"})
    assert response.status_code == 303


def test_guests_are_limited_per_address_more_strictly(client, question):
    codes = [
        client.post(
            f"/questions/{question.id}/comments", data={"body": f"n{n}", "guest_name": f"Guest {n}"}
        ).status_code
        for n in range(3)
    ]
    assert codes == [303, 303, 429]
    assert stored() == 2


def test_a_limited_htmx_post_gets_its_form_back_with_the_text(client, question):
    for n in range(2):
        client.post(
            f"/questions/{question.id}/comments", data={"body": f"n{n}", "guest_name": "Ana"}
        )
    response = client.post(
        f"/questions/{question.id}/comments",
        data={"body": "My long answer", "guest_name": "Ana"},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    # The page's htmx configuration swaps 429 responses, so the form comes back in place.
    assert response.status_code == 429 and "<html" not in html
    assert html.lstrip().startswith('<form id="comment-form"')
    assert "posting faster than this site allows" in html and "My long answer" in html
    assert stored() == 2


def test_a_limited_plain_post_gets_the_slow_down_page(client, question):
    for n in range(3):
        response = client.post(
            f"/questions/{question.id}/comments", data={"body": f"n{n}", "guest_name": "Ana"}
        )
    assert response.status_code == 429 and "<html" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers
