"""PostgreSQL stopped while the site serves: quick 503s, then recovery without a restart.

The database server is the test's own (initdb into a temporary folder, a free port), so
stopping it never touches the shared one.
"""

from __future__ import annotations

import time

import pytest

from tests.servers import request, wait_for

pytestmark = [pytest.mark.ops, pytest.mark.slow, pytest.mark.postgres]

PAGES = ["/", "/healthz", "/readyz", "/diseases/nothing-here"]


def test_requests_during_an_outage_get_503_fast_and_the_site_heals_itself(
    private_postgres, pg_database, start_gunicorn
):
    server = start_gunicorn({"DATABASE_URL": pg_database, "RATELIMIT_ENABLED": "false"})
    workers = server.worker_pids()
    for path in PAGES[:3]:
        assert request(server.port, "GET", path).status == 200

    stopped_at = time.monotonic()
    private_postgres.stop()
    during = [request(server.port, "GET", path, timeout=10) for path in PAGES * 3]

    private_postgres.start()
    back_at = time.monotonic()
    first_ok = wait_for(
        lambda: (answer := request(server.port, "GET", "/")).status == 200 and answer,
        30,
        "the site to answer 200 again",
    )
    healed_at = time.monotonic()

    slowest = max(answer.seconds for answer in during)
    print(
        f"\nFIGURE postgres outage: {len(during)} requests while the database was down: "
        f"statuses {sorted({a.status for a in during})}, slowest answer "
        f"{slowest * 1000:.0f} ms; outage seen by clients {healed_at - stopped_at:.2f} s "
        f"(PostgreSQL stopped to first 200), first 200 {(healed_at - back_at) * 1000:.0f} ms "
        f"after PostgreSQL took connections again"
    )
    assert [answer.status for answer in during] == [503] * len(during)
    assert slowest < 2
    page = next(a for a in during if a.headers["content-type"].startswith("text/html"))
    assert "Temporarily unavailable" in page.text and page.headers["retry-after"] == "10"
    assert during[1].json() == {"status": "error", "database": "unreachable"}
    assert first_ok.status == 200
    # Every page answers again, from the very same processes: nothing was restarted.
    for path in PAGES[:3]:
        assert request(server.port, "GET", path).status == 200
    assert server.worker_pids() == workers and server.process.poll() is None

    entries = server.entries()
    errors = [e for e in entries if e["level"] == "error"]
    assert errors and all(e["message"].startswith("database unavailable") for e in errors)
    assert not [e for e in entries if "traceback" in e]
    statuses = [e["status"] for e in server.requests_logged()]
    assert 500 not in statuses and statuses.count(503) == len(during)
