"""Two gunicorn instances behind a real nginx, over one PostgreSQL and one Redis.

nginx runs deploy/nginx.conf itself (with this test's ports, checkout and a throw-away
certificate put in), so the shipped site file is what is tested: TLS, request buffering, the
forwarded headers, the request id, retries on a refused connection.
"""

from __future__ import annotations

import html
import http.client
import re
import signal
import socket
import ssl
import threading
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from forum.extensions import db
from tests import factories
from tests.conftest import make_test_app
from tests.ops.conftest import SECRET, TEMPLATE_DATABASE
from tests.servers import (
    Answer,
    Gunicorn,
    LoadGenerator,
    Nginx,
    RedisServer,
    free_port,
    logged_at,
    nginx_site,
    request,
    require_nginx,
    require_redis_server,
    self_signed_certificate,
    wait_for,
)

pytestmark = [pytest.mark.ops, pytest.mark.slow, pytest.mark.postgres]

ACCOUNT_LIMIT = 4


class Cluster:
    def __init__(self, nginx: Nginx, port: int, http_port: int, instances: list[Gunicorn]):
        self.nginx = nginx
        self.port = port
        self.http_port = http_port
        self.instances = instances
        self.member_id = 0
        self.question_path = ""
        self.question_id = 0


@pytest.fixture(scope="module")
def cluster(private_postgres, tmp_path_factory):
    """nginx on a free HTTPS port balancing two single-worker gunicorn instances."""
    nginx_executable = require_nginx()
    redis_executable = require_redis_server()
    folder = tmp_path_factory.mktemp("cluster")
    name = f"forum_ops_{uuid.uuid4().hex[:10]}"
    private_postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    database_url = private_postgres.url(name)

    app = make_test_app(database_url)
    with app.app_context():
        member = factories.make_user("nadia_two_hosts")
        disease = factories.make_disease()
        question = factories.make_question(disease, "Is it hereditary?")
        paths = (member.id, f"/diseases/{disease.slug}/questions/{question.slug}")
        question_id = question.id
        db.session.remove()
        db.engine.dispose()

    redis = RedisServer(redis_executable, folder / "redis.log")
    instances = [
        Gunicorn(
            env={
                "DATABASE_URL": database_url,
                "REDIS_URL": redis.url,
                "SECRET_KEY": SECRET,
                "FORUM_ENV": "production",
                "TRUSTED_HOSTS": "127.0.0.1",
                "PROXY_FIX": "1",
                "RATELIMIT_LOGIN_IP": "1000 per minute",
                "RATELIMIT_LOGIN_ACCOUNT": f"{ACCOUNT_LIMIT} per minute",
                "RATELIMIT_POST_MEMBER": "1000 per minute",
                "RATELIMIT_POST_GUEST": "1000 per minute",
                "GUNICORN_GRACEFUL_TIMEOUT": "10",
            },
            log_path=folder / f"instance-{i}.log",
            workers=1,
        )
        for i in (1, 2)
    ]
    cert, key = self_signed_certificate(folder)
    port, http_port = free_port(), free_port()
    site = nginx_site(port, http_port, [g.port for g in instances], cert, key)
    nginx = Nginx(nginx_executable, site)
    try:
        redis.start()
        for instance in instances:
            instance.start()
        checked = nginx.check()
        assert checked.returncode == 0, checked.stderr
        nginx.start(port)
        cluster = Cluster(nginx, port, http_port, instances)
        cluster.member_id, cluster.question_path = paths
        cluster.question_id = question_id
        yield cluster
    finally:
        nginx.stop()
        for instance in instances:
            instance.stop()
        redis.stop()
        if private_postgres.accepts_connections():
            private_postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Browser:
    """Cookies kept between requests to nginx over HTTPS, as a browser keeps them."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, form: dict | None = None, headers=None) -> Answer:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=context)
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            # A browser names the page the form was on; Flask-WTF checks it on HTTPS.
            all_headers.setdefault("Referer", f"https://127.0.0.1:{self.port}{path}")
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            return Answer(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                data,
                time.monotonic() - started,
            )
        finally:
            conn.close()

    def csrf_token(self, path: str) -> str:
        page = self.send("GET", path).text
        return html.unescape(re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1))


def _posts_by_instance(cluster: Cluster, path: str) -> list[list[dict]]:
    return [
        [e for e in g.requests_logged() if e["method"] == "POST" and e["path"] == path]
        for g in cluster.instances
    ]


def test_a_member_logs_in_through_nginx_and_acts_on_both_instances(cluster):
    browser = Browser(cluster.port)
    token = browser.csrf_token("/login")
    login = browser.send(
        "POST",
        "/login",
        {"username": "nadia_two_hosts", "password": factories.PASSWORD, "csrf_token": token},
    )
    assert login.status == 303
    assert "session" in browser.cookies

    # Four comments through nginx: round robin gives each instance two of them.
    token = browser.csrf_token(cluster.question_path)
    comments_path = f"/questions/{cluster.question_id}/comments"
    statuses = [
        browser.send(
            "POST",
            comments_path,
            {"body": f"Posted through nginx, number {n}."},
            {"X-CSRFToken": token},
        ).status
        for n in range(4)
    ]
    assert statuses == [303] * 4
    page = browser.send("GET", cluster.question_path)
    assert all(f"Posted through nginx, number {n}." in page.text for n in range(4))
    assert "nadia_two_hosts" in page.text

    per_instance = _posts_by_instance(cluster, comments_path)
    assert all(len(posts) >= 1 for posts in per_instance)
    assert {e["user_id"] for posts in per_instance for e in posts} == {cluster.member_id}
    # nginx's request id reached the app and came back, and both logs name the same id.
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["x-request-id"])
    # nginx writes its line once the answer has gone out: poll for it.
    request_id = page.headers["x-request-id"]
    wait_for(
        lambda: request_id in {e["request_id"] for e in cluster.nginx.access_log()},
        10,
        "nginx's access log line for the request",
    )
    # The HTTP port only sends people to HTTPS.
    plain = request(cluster.http_port, "GET", "/login?next=/account")
    assert plain.status == 301
    assert plain.headers["location"].endswith("/login?next=/account")


def test_a_rate_limit_counts_across_both_instances(cluster):
    token_browser = Browser(cluster.port)
    token = token_browser.csrf_token("/login")
    statuses = [
        token_browser.send(
            "POST",
            "/login",
            {"username": "target_account", "password": f"guess {n}", "csrf_token": token},
        ).status
        for n in range(ACCOUNT_LIMIT + 1)
    ]

    # Counted apart, each instance would have seen at most three and let all five through.
    assert statuses == [422] * ACCOUNT_LIMIT + [429]
    posts = _posts_by_instance(cluster, "/login")
    assert all(any(e["status"] in (422, 429) for e in instance_posts) for instance_posts in posts)


class Trickler(threading.Thread):
    """A client that sends a request body one byte at a time, as a very slow phone would."""

    def __init__(self, port: int, tls: bool):
        super().__init__(daemon=True)
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            raw = context.wrap_socket(raw)
        self.sock = raw
        self.stopping = threading.Event()
        self.sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n"
        )

    def run(self):
        while not self.stopping.wait(0.1):
            try:
                self.sock.sendall(b"a")
            except OSError:
                return

    def stop(self):
        self.stopping.set()
        self.join(timeout=5)
        self.sock.close()


def test_slow_clients_through_nginx_do_not_block_the_site(cluster):
    # Straight to gunicorn, one trickling client holds an instance's only worker ...
    direct = Trickler(cluster.instances[0].port, tls=False)
    direct.start()
    try:
        with pytest.raises(TimeoutError):
            request(cluster.instances[0].port, "GET", "/healthz", timeout=1)
    finally:
        direct.stop()
    wait_for(
        lambda: request(cluster.instances[0].port, "GET", "/healthz").status == 200,
        40,
        "the instance to be free again",
    )

    # ... through nginx, two of them (one per instance's worker) hold nothing.
    tricklers = [Trickler(cluster.port, tls=True) for _ in range(2)]
    for trickler in tricklers:
        trickler.start()
    try:
        answers = [request(cluster.port, "GET", "/healthz", tls=True, timeout=5) for _ in range(6)]
    finally:
        for trickler in tricklers:
            trickler.stop()
    slowest = max(a.seconds for a in answers)
    print(
        f"\nFIGURE slow clients: /healthz through nginx beside 2 tricklers, slowest "
        f"{slowest * 1000:.0f} ms of {len(answers)}"
    )
    assert [a.status for a in answers] == [200] * 6
    assert slowest < 1


def test_an_instance_restarted_under_load_loses_no_request(cluster):
    """A zero-downtime upgrade in small: SIGTERM one instance while nginx carries load."""
    browser = Browser(cluster.port)
    token = browser.csrf_token(cluster.question_path)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())

    def make_request(thread: int, n: int):
        if n % 2:
            body = urlencode({"body": f"Load comment {thread}-{n}.", "guest_name": "Loader"})
            headers = {
                "Cookie": cookie,
                "X-CSRFToken": token,
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://127.0.0.1:{cluster.port}{cluster.question_path}",
            }
            return "POST", f"/questions/{cluster.question_id}/comments", body, headers
        return "GET", cluster.question_path, None, {}

    load = TlsLoad(cluster.port, make_request, threads=4).start()
    first = cluster.instances[0]
    try:
        wait_for(lambda: load.count("answered") >= 20, 30, "load through nginx")
        stopped_at = time.monotonic()
        assert first.stop(signal.SIGTERM) == 0
        wait_for(lambda: load.count("answered", since=stopped_at) >= 20, 30, "load on one")
        first.start()
        restarted_at = time.time()
        # nginx tries the instance again once its fail_timeout (5 s) has passed.
        wait_for(
            lambda: any(logged_at(e) > restarted_at for e in first.requests_logged()),
            30,
            "nginx to send load to the restarted instance",
        )
    finally:
        outcomes = load.stop()

    statuses = sorted({o.status for o in outcomes if o.kind == "answered"})
    failed = [o for o in outcomes if o.kind != "answered" or o.status not in (200, 303)]
    print(
        f"\nFIGURE rolling restart: {len(outcomes)} requests through nginx while one instance "
        f"stopped and started, statuses {statuses}, failed {len(failed)}"
    )
    assert failed == []


class TlsLoad(LoadGenerator):
    """The load generator, over HTTPS to nginx."""

    def _send(self, request_id, method, path, body, headers):
        from tests.servers import Outcome

        try:
            answer = request(self.port, method, path, body, headers, timeout=30, tls=True)
        except ConnectionRefusedError:
            return Outcome(request_id, "refused", None, time.monotonic())
        except Exception as exc:  # noqa: BLE001 - reported by the test
            return Outcome(request_id, "error", None, time.monotonic(), repr(exc))
        with self._lock:
            self.sent += 1
        return Outcome(request_id, "answered", answer.status, time.monotonic())
