"""Every form, sent in every shape a form should never come in, answers 4xx and stores nothing.

The routes come from the security audit's table, which must name every POST route of the
url_map (test_every_route_of_the_url_map_is_attacked), so a new form is attacked here too.
"""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import pytest

from tests.conftest import HTMX
from tests.test_security_audit import POST_ROUTES, World, as_user, build_world, snapshot

JSON_VALUES = {
    "json-number": 12345,
    "json-object": {"a": "b"},
    "json-list": ["a", "b"],
    "json-bool": True,
    "json-null": None,
    "json-nul-string": "nul \x00 inside",
    # Even well-formed strings: no route of this site takes a JSON body.
    "json-string": "plain text",
}
SHAPES = ["file", *JSON_VALUES, "chunked-10mb"]


def _actor(route, w: World):
    """Who sends the form: nobody for public forms, the administrator for moderation's."""
    return {"public": None, "moderator": w.ada, "admin": w.ada}.get(route.access, w.alice)


@pytest.fixture
def world(app) -> World:
    """The audit's world in this test's own database: some tests here post real forms."""
    return build_world()


TEN_MB = 10 * 1024 * 1024


def _fields(route, w) -> dict[str, str]:
    # Routes without fields (logout, vote, leave) still get a field to carry the bad shape.
    return dict(route.data(w)) or {"x": "y"}


def _send(client, url: str, fields: dict[str, str], shape: str, headers: dict):
    if shape == "file":
        # What `curl -F username=@/etc/hostname` sends: every text field as an uploaded file.
        data = {name: (io.BytesIO(value.encode()), "hostname") for name, value in fields.items()}
        return client.post(url, data=data, content_type="multipart/form-data", headers=headers)
    if shape == "chunked-10mb":
        # A well-formed start of a form, then far more than MAX_CONTENT_LENGTH, with no
        # Content-Length (Transfer-Encoding: chunked), as gunicorn hands it on.
        body = (urlencode(fields) + "&filler=").encode() + b"x" * TEN_MB
        return client.post(
            url,
            input_stream=io.BytesIO(body),
            content_type="application/x-www-form-urlencoded",
            headers={**headers, "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )
    payload = {name: JSON_VALUES[shape] for name in fields}
    return client.post(
        url, data=json.dumps(payload), content_type="application/json", headers=headers
    )


def _assert_error_page_or_fragment(response, htmx: bool) -> None:
    html = response.get_data(as_text=True)
    if htmx:
        assert "error-fragment" in html and "<html" not in html, html[:300]
        assert response.headers["HX-Retarget"] == "#htmx-alerts"
    else:
        assert "<html" in html and "error-page" in html, html[:300]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_every_form_refuses_every_bad_shape_of_input(client, world, endpoint, shape, htmx):  # noqa: F811
    route = POST_ROUTES[endpoint]
    as_user(client, _actor(route, world))
    headers = dict(HTMX) if htmx else {}
    before = snapshot()

    response = _send(client, route.url(world), _fields(route, world), shape, headers)

    assert response.status_code == (413 if shape == "chunked-10mb" else 400), (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    _assert_error_page_or_fragment(response, htmx)
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("endpoint", sorted(POST_ROUTES))
def test_a_chunked_body_within_the_limit_is_read_whole(client, world, endpoint, htmx):  # noqa: F811
    """The guard against oversized chunked bodies must not cost ordinary chunked posts."""
    route = POST_ROUTES[endpoint]
    as_user(client, _actor(route, world))
    body = urlencode(route.data(world)).encode()
    before = snapshot()

    response = client.post(
        route.url(world),
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={**(HTMX if htmx else {}), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code < 400, response.get_data(as_text=True)[:300]
    assert snapshot() != before


# --- the rate-limit answers of vote and ask look their objects up without raising ---------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    "url",
    [
        "/diseases/{d}/questions/no-such-question/vote",
        "/diseases/no-such-disease/questions/{q}/vote",
        "/diseases/no-such-disease/questions/ask",
    ],
)
def test_an_unknown_question_or_disease_after_the_limit_is_a_404(app, client, world, url, htmx):  # noqa: F811
    app.config["RATELIMIT_VOTE"] = "1 per minute"
    app.config["RATELIMIT_QUESTION"] = "1 per minute"
    as_user(client, world.alice)
    target = url.format(d=world.d1.slug, q=world.q1.slug)
    headers = HTMX if htmx else {}
    # Spend the limit on real objects first (ask counts only questions posted).
    client.post(f"/diseases/{world.d1.slug}/questions/{world.q1.slug}/vote")
    client.post(
        f"/diseases/{world.d1.slug}/questions/ask",
        data={"title": "Does it run in families at all?"},
    )
    before = snapshot()

    response = client.post(
        target, data={"title": "Is this ever going to be stored?"}, headers=headers
    )

    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    _assert_error_page_or_fragment(response, htmx)
    assert snapshot() == before
