"""Rate limits in Redis: Redis stopped, the site keeps serving on in-memory counts with one
warning, and goes back to Redis once it returns."""

from __future__ import annotations

import itertools

import pytest

from tests.servers import request, signed_in_headers, wait_for

pytestmark = [pytest.mark.ops, pytest.mark.slow]

LOGIN_LIMIT = 8
FALLING_BACK = "Rate limit storage unreachable - falling back to in-memory storage"
RECOVERED = "Rate limit storage recovered"
_names = itertools.count()


def _failed_login(port: int, headers: dict[str, str]) -> int:
    # A new username each time: only the per-address limit counts these.
    body = f"username=nobody_{next(_names)}&password=not+the+password"
    form = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    return request(port, "POST", "/login", body, form).status


def _messages(server) -> list[str]:
    return [entry["message"] for entry in server.entries()]


def test_limits_survive_redis_going_away_and_return_to_it(
    app, database_url, redis_server, start_gunicorn
):
    # One worker, so "one warning" means one warning for the whole server.
    server = start_gunicorn(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url,
            "RATELIMIT_LOGIN_IP": f"{LOGIN_LIMIT} per minute",
        },
        workers=1,
    )
    headers = signed_in_headers(app)
    redis = redis_server.client()

    assert [_failed_login(server.port, headers) for _ in range(3)] == [422] * 3
    assert redis.keys("LIMITS*"), "the login counts should live in Redis"

    redis_server.stop()
    # The site goes on: counting in memory now, so a fresh limit of LOGIN_LIMIT applies.
    during = [_failed_login(server.port, headers) for _ in range(LOGIN_LIMIT + 1)]
    assert during == [422] * LOGIN_LIMIT + [429]
    assert request(server.port, "GET", "/healthz").status == 200
    ready = request(server.port, "GET", "/readyz")
    assert ready.status == 503 and ready.json()["redis"] == "unreachable"
    assert _messages(server).count(FALLING_BACK) == 1

    redis_server.start()
    # Flask-Limiter looks for Redis again after a back-off (1, 2, 4 ... seconds).
    statuses = []

    def back_on_redis() -> bool:
        statuses.append(_failed_login(server.port, headers))
        return RECOVERED in _messages(server)

    wait_for(back_on_redis, 40, "Flask-Limiter to find Redis again", interval=0.2)
    after = _failed_login(server.port, headers)

    print(
        f"\nFIGURE redis fallback: {len(during)} logins served during the outage "
        f"({during.count(429)} refused by the in-memory limit), {len(statuses)} requests until "
        f"the limiter went back to Redis, warnings: {_messages(server).count(FALLING_BACK)}"
    )
    assert set(statuses) <= {422, 429}
    assert after == 422  # counting starts afresh in the new, empty Redis
    assert redis.keys("LIMITS*"), "the counts should live in Redis again"
    assert _messages(server).count(FALLING_BACK) == 1
    assert all(e["status"] != 500 for e in server.requests_logged())
