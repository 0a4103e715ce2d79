"""Real servers for the operations tests: gunicorn, a private PostgreSQL, Redis and nginx.

Every server here binds to 127.0.0.1 on a free port, runs as a child of the test process and
is stopped by its own process id. A missing tool skips its tests with a message that says how
to install it; under CI=true it fails them instead.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import session_for

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, message: str) -> None:
    """Skip the test (fail it under CI=true) with `message` unless `condition` holds."""
    if condition:
        return
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def find_tool(name: str, *candidates: str, env: str | None = None) -> str | None:
    """The path of an executable: `env`'s value when that variable is set (a path that does not
    exist means "none here"), else the first existing candidate, else one on PATH."""
    if env and os.environ.get(env):
        path = os.environ[env]
        return path if os.access(path, os.X_OK) else None
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


def require_nginx() -> str:
    """Debian's nginx (or NGINX_PATH), and openssl for a test certificate; else skip."""
    path = find_tool("nginx", "/usr/sbin/nginx", env="NGINX_PATH")
    require(
        path is not None,
        "ops test needs nginx, not found: install Debian's package (`apt-get install nginx`) "
        "or set NGINX_PATH.",
    )
    require(
        shutil.which("openssl") is not None,
        "ops test needs openssl for a test certificate, not found (`apt-get install openssl`).",
    )
    return path


def require_redis_server() -> str:
    """redis-server (or REDIS_SERVER_PATH); else skip."""
    path = find_tool("redis-server", "/usr/bin/redis-server", env="REDIS_SERVER_PATH")
    require(
        path is not None,
        "ops test needs redis-server, not found: install Debian's package "
        "(`apt-get install redis-server`) or set REDIS_SERVER_PATH.",
    )
    return path


def require_postgres_bin() -> Path:
    """PostgreSQL's server binaries, and a user to run them as; else skip."""
    folder = postgres_bin()
    require(
        folder is not None,
        "ops test needs PostgreSQL server binaries (initdb, postgres), not found in "
        "/usr/lib/postgresql/*/bin or on PATH; install Debian's `postgresql` package or set "
        "POSTGRES_BIN_DIR.",
    )
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require(False, "ops test runs initdb, which as root needs a `postgres` user to run as.")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.05):
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    """Send `sig` to the process by its id, wait for it, SIGKILL if it outlives `timeout`."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode


def children_of(pid: int) -> set[int]:
    """The ids of the live child processes of `pid` (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(child) for child in text.split()}


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    tls: bool = False,
) -> Answer:
    """One HTTP request on a new connection to 127.0.0.1:`port`; the answer and its time."""
    if isinstance(body, str):
        body = body.encode()
    started = time.monotonic()
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own throw-away certificate
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            time.monotonic() - started,
        )
    finally:
        conn.close()


def signed_in_headers(app, user=None) -> dict[str, str]:
    """A signed session cookie (for `user`, or a visitor) with a CSRF token, and its header."""
    raw = os.urandom(20).hex()
    session = {**(session_for(user) if user else {}), "csrf_token": raw}
    cookie = app.session_interface.get_signing_serializer(app).dumps(session)
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    return {
        "Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}",
        "X-CSRFToken": token,
    }


def burst(port: int, posts: list[tuple[str, dict[str, str], bytes]]) -> list[int | str]:
    """Send every (path, headers, body) POST at the same moment, each on its own connection;
    the statuses in order (the exception, as text, where a request failed)."""
    statuses: list[int | str] = [0] * len(posts)
    barrier = threading.Barrier(len(posts))

    def send(i: int) -> None:
        path, headers, body = posts[i]
        barrier.wait()
        try:
            statuses[i] = request(port, "POST", path, body, headers, timeout=60).status
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertions
            statuses[i] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def answers(port: int, path: str = "/healthz", status: int = 200) -> bool:
    """True when GET `path` answers `status` now."""
    try:
        return request(port, "GET", path, timeout=2).status == status
    except OSError:
        return False


def logged_at(entry: dict) -> float:
    """The Unix time of a JSON log entry."""
    return datetime.fromisoformat(entry["time"]).timestamp()


def json_lines(path: Path) -> list[dict]:
    """The JSON objects among the lines of a log file (other lines are skipped)."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
    return entries


@dataclass
class Outcome:
    request_id: str
    kind: str  # "answered", "refused" (connection refused), "reset" (sent, no answer), "error"
    status: int | None
    at: float  # time.monotonic() when the answer (or failure) came
    detail: str = ""


class LoadGenerator:
    """Threads that send requests back to back until stopped, noting each outcome.

    `make_request(thread, n)` gives (method, path, body, headers) for a thread's n-th request;
    each request carries an X-Request-ID of `<prefix>-<thread>-<n>`.
    """

    def __init__(self, port: int, make_request, threads: int = 4, prefix: str = "load"):
        self.port = port
        self.make_request = make_request
        self.prefix = prefix
        self.outcomes: list[Outcome] = []
        self.sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]

    def start(self) -> LoadGenerator:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.outcomes

    def count(self, kind: str, since: float = 0.0) -> int:
        with self._lock:
            return sum(1 for o in self.outcomes if o.kind == kind and o.at >= since)

    def _run(self, thread: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            request_id = f"{self.prefix}-{thread}-{n}"
            method, path, body, headers = self.make_request(thread, n)
            outcome = self._send(request_id, method, path, body, headers)
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.kind == "refused":
                self._stop.wait(0.02)  # the server is gone: knock again shortly, not in a spin

    def _send(self, request_id, method, path, body, headers) -> Outcome:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.connect()
        except ConnectionRefusedError:
            conn.close()
            return Outcome(request_id, "refused", None, time.monotonic())
        try:
            conn.request(method, path, body=body, headers={**headers, "X-Request-ID": request_id})
            with self._lock:
                self.sent += 1
            response = conn.getresponse()
            response.read()
            return Outcome(request_id, "answered", response.status, time.monotonic())
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as exc:
            return Outcome(request_id, "reset", None, time.monotonic(), repr(exc))
        except Exception as exc:  # noqa: BLE001 - reported by the test's assertions
            return Outcome(request_id, "error", None, time.monotonic(), repr(exc))
        finally:
            conn.close()


# --- gunicorn --------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    """gunicorn serving wsgi:app with gunicorn.conf.py, on 127.0.0.1:`port`."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    workers: int = 2
    config: Path = ROOT / "gunicorn.conf.py"
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Gunicorn:
        env = {
            **os.environ,
            "FORUM_ENV": "development",
            "REDIS_URL": "",
            **self.env,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": str(self.workers),
        }
        env.pop("GUNICORN_BIND", None)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(self.config), "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_until_serving(timeout)
        return self

    def wait_until_serving(self, timeout: float = 60) -> None:
        def ready():
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            return answers(self.port) and len(self.worker_pids()) == self.workers

        wait_for(ready, timeout, f"gunicorn on port {self.port}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> set[int]:
        return children_of(self.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def entries(self) -> list[dict]:
        return json_lines(self.log_path)

    def requests_logged(self) -> list[dict]:
        return [e for e in self.entries() if e.get("logger") == "forum.requests"]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        return stop_process(self.process, sig, timeout) if self.process else 0


def assert_clean_log(server) -> None:
    """No error in a server's log: the request log is JSON lines, so a 500 is '"status": 500'."""
    log = server.log()
    assert "database is locked" not in log, log[-3000:]
    assert "Traceback" not in log and '"traceback"' not in log, log[-3000:]
    assert '"status": 500' not in log, log[-3000:]


@contextlib.contextmanager
def sync_gunicorn(database_url: str, secret_key: str, log_path: Path) -> Iterator[Gunicorn]:
    """gunicorn with four plain sync workers on `database_url`, rate limits off, for tests that
    race requests against each other; stopped however the block ends."""
    server = Gunicorn(
        env={
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret_key,
            "RATELIMIT_ENABLED": "false",
            "GUNICORN_WORKER_CLASS": "sync",
        },
        log_path=log_path,
        workers=4,
    )
    try:
        yield server.start()
    finally:
        server.stop()


# --- PostgreSQL ------------------------------------------------------------------------------

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def postgres_bin() -> Path | None:
    """PostgreSQL's server binaries: POSTGRES_BIN_DIR, Debian's folder, or initdb on PATH."""
    if os.environ.get("POSTGRES_BIN_DIR"):
        folder = Path(os.environ["POSTGRES_BIN_DIR"])
        return folder if (folder / "initdb").exists() else None
    for folder in POSTGRES_BIN_DIRS:
        if (folder / "initdb").exists():
            return folder
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A PostgreSQL server of the test's own: initdb into a temporary folder, a free port.

    As root, initdb and postgres run as the `postgres` user (initdb refuses root), in a folder
    that user owns; as anyone else they run as that user.
    """

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="forum-pg-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self.process: subprocess.Popen | None = None
        self.run_as: dict = {}
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            cwd=self.dir,
            **self.run_as,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 30) -> None:
        """Start the server (again) on the same port and wait until it takes connections."""
        with open(self.log_path, "ab") as log:
            self.process = self._spawn(log)
        wait_for(self.accepts_connections, timeout, f"PostgreSQL on port {self.port}")

    def _spawn(self, log) -> subprocess.Popen:
        return subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=60",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
            start_new_session=True,
            **self.run_as,
        )

    def accepts_connections(self) -> bool:
        import psycopg

        if self.process.poll() is not None:
            pytest.fail(f"postgres exited with {self.process.returncode}:\n{self.log()}")
        try:
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
            ) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster): sessions are cut, nothing is lost."""
        if self.process is not None:
            stop_process(self.process, signal.SIGINT, timeout=30)

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- Redis -----------------------------------------------------------------------------------


class RedisServer:
    """redis-server with no persistence on a free port; stop and start it again at will."""

    def __init__(self, executable: str, log_path: Path):
        self.executable = executable
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.answers, timeout, f"redis-server on port {self.port}")

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout=10)


# --- nginx -----------------------------------------------------------------------------------

DEPLOY_NGINX = ROOT / "deploy" / "nginx.conf"


def nginx_site(
    https_port: int, http_port: int, upstream_ports: list[int], cert: Path, key: Path
) -> str:
    """deploy/nginx.conf with this test's ports, certificate and checkout put in.

    Each replaced line must be found exactly as written, so the site file and this test cannot
    drift apart unnoticed.
    """
    site = DEPLOY_NGINX.read_text()
    upstreams = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in upstream_ports
    )
    replacements = [
        (
            "    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;\n"
            "    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;",
            upstreams,
        ),
        ("    listen 80;\n    listen [::]:80;", f"    listen 127.0.0.1:{http_port};"),
        (
            "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;",
            f"    listen 127.0.0.1:{https_port} ssl http2;",
        ),
        ("/etc/letsencrypt/live/forum.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/forum.example.org/privkey.pem", str(key)),
        ("root /srv/rarecircle/app;", f"root {ROOT};"),
        ("/var/log/nginx/rarecircle.access.log", "logs/access.log"),
    ]
    for old, new in replacements:
        assert site.count(old) == 1, f"deploy/nginx.conf no longer contains {old!r}"
        site = site.replace(old, new)
    return site


class Nginx:
    """Debian's nginx with a prefix and a configuration of the test's own."""

    def __init__(self, executable: str, site: str):
        self.executable = executable
        # Worker processes may run as an unprivileged user: the prefix must be readable.
        self.prefix = Path(tempfile.mkdtemp(prefix="forum-nginx-"))
        self.prefix.chmod(0o755)
        (self.prefix / "logs").mkdir()
        (self.prefix / "site.conf").write_text(site)
        mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(
            # One worker: its round robin alone picks the instance, so turns alternate.
            "worker_processes 1;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"    {mime}\n"
            "    default_type application/octet-stream;\n"
            f"    include {self.prefix / 'site.conf'};\n"
            "}\n"
        )
        self.process: subprocess.Popen | None = None

    def _command(self, *extra: str) -> list[str]:
        return [
            self.executable,
            "-p",
            str(self.prefix),
            "-c",
            str(self.conf),
            "-e",
            str(self.prefix / "logs" / "error.log"),
            *extra,
        ]

    def check(self) -> subprocess.CompletedProcess:
        """`nginx -t` on the configuration."""
        return subprocess.run(
            self._command("-t", "-g", f"pid {self.prefix / 'nginx.pid'};"),
            capture_output=True,
            text=True,
        )

    def start(self, port: int, timeout: float = 15) -> None:
        with open(self.prefix / "logs" / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                self._command("-g", f"daemon off; pid {self.prefix / 'nginx.pid'};"),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

        def listening():
            if self.process.poll() is not None:
                pytest.fail(f"nginx exited with {self.process.returncode}:\n{self.error_log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False

        wait_for(listening, timeout, f"nginx on port {port}")

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_log(self) -> list[dict]:
        return json_lines(self.prefix / "logs" / "access.log")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout=10)
        shutil.rmtree(self.prefix, ignore_errors=True)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 made with openssl (valid for one day)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextlib.contextmanager
def running(*servers) -> Iterator[None]:
    """Stop every server given, in reverse order, however the block ends."""
    try:
        yield
    finally:
        for server in reversed(servers):
            server.stop()
