"""The deployment files: gunicorn.conf.py, deploy/rarecircle.service and deploy/nginx.conf."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest
from gunicorn.config import KNOWN_SETTINGS

from forum.config import load
from tests.servers import (
    Nginx,
    free_port,
    nginx_site,
    request,
    require_nginx,
    self_signed_certificate,
)

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_SETTINGS = [
    "GUNICORN_BIND",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_WORKER_CLASS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_LOG_LEVEL",
]


@pytest.fixture
def gunicorn_conf(monkeypatch):
    """gunicorn.conf.py evaluated under the environment given."""

    def evaluate(**env: str) -> dict:
        for name in GUNICORN_SETTINGS:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        namespace: dict = {"__file__": str(ROOT / "gunicorn.conf.py")}
        exec(
            compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace
        )
        return namespace

    return evaluate


def test_gunicorn_defaults_suit_one_small_server(gunicorn_conf):
    conf = gunicorn_conf()

    assert conf["bind"] == "127.0.0.1:8000"
    assert (conf["workers"], conf["threads"]) == (2, 1)
    assert conf["worker_class"] == "forum.workers.GracefulSyncWorker"
    assert (conf["timeout"], conf["graceful_timeout"]) == (30, 20)
    assert conf["preload_app"] is True
    # No access log of gunicorn's own: it would write query strings.
    assert "accesslog" not in conf
    assert conf["logconfig_dict"]["loggers"]["gunicorn.access"]["level"] == "WARNING"
    assert conf["logconfig_dict"]["formatters"]["json"]["()"].endswith("JsonFormatter")


def test_gunicorn_settings_come_from_the_environment(gunicorn_conf):
    conf = gunicorn_conf(
        HOST="0.0.0.0",
        PORT="8123",
        WEB_CONCURRENCY="5",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="60",
        GUNICORN_GRACEFUL_TIMEOUT="25",
    )

    assert conf["bind"] == "0.0.0.0:8123"
    assert (conf["workers"], conf["threads"]) == (5, 4)
    assert conf["worker_class"] == "gthread"  # threads need the threaded worker
    assert (conf["timeout"], conf["graceful_timeout"]) == (60, 25)
    assert gunicorn_conf(GUNICORN_BIND="unix:/run/rarecircle.sock")["bind"] == (
        "unix:/run/rarecircle.sock"
    )


def test_the_control_socket_is_off_where_gunicorn_has_one(gunicorn_conf):
    supported = any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)

    conf = gunicorn_conf()

    assert conf.get("control_socket_disable") is (True if supported else None)


def test_gunicorn_accepts_the_configuration(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SECRET_KEY": "check"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.db'}"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "-c",
            "gunicorn.conf.py",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    # No control socket left in the home folder, shared by every instance of the user.
    assert not (tmp_path / ".gunicorn").exists()


def test_the_systemd_unit_runs_gunicorn_with_a_stop_timeout_above_the_graceful_one():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(ROOT / "deploy" / "rarecircle.service")
    service = unit["Service"]

    assert service["ExecStart"].endswith(
        "/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:%i wsgi:app"
    )
    assert "FORUM_ENV=production" in service["Environment"]
    assert service["KillSignal"] == "SIGTERM" and service["Type"] == "notify"
    graceful = int(re.search(r'"GUNICORN_GRACEFUL_TIMEOUT", "(\d+)"', _gunicorn_conf()).group(1))
    assert int(service["TimeoutStopSec"]) > graceful
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_nginx_lets_through_a_little_more_than_the_app_accepts(tmp_path, monkeypatch):
    monkeypatch.delenv("MAX_CONTENT_LENGTH", raising=False)
    size = re.search(r"client_max_body_size (\d+)k;", _nginx_conf())
    app_limit = load(str(tmp_path))["MAX_CONTENT_LENGTH"]

    # The app answers its own 413 page, so nginx's limit sits just above the app's.
    assert app_limit < int(size.group(1)) * 1024 <= app_limit * 1.25


def test_the_guide_lists_every_setting_the_app_reads():
    guide = (ROOT / "docs" / "deploying.md").read_text()
    config_source = (ROOT / "forum" / "config.py").read_text()
    settings = set(re.findall(r'_env_\w+\("([A-Z_]+)"', config_source))
    for source in (config_source, _gunicorn_conf()):
        settings |= set(re.findall(r"os\.environ\.get\(\s*[\"']([A-Z_]+)[\"']", source))

    missing = sorted(name for name in settings if f"`{name}`" not in guide)
    assert missing == []


def _gunicorn_conf() -> str:
    return (ROOT / "gunicorn.conf.py").read_text()


def _nginx_conf() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


@pytest.fixture
def lone_nginx(tmp_path):
    """nginx with deploy/nginx.conf and no app behind it: what it serves by itself."""
    executable = require_nginx()
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    nginx = Nginx(executable, nginx_site(port, free_port(), [free_port()], cert, key))
    checked = nginx.check()
    assert checked.returncode == 0, checked.stderr
    nginx.start(port)
    yield port
    nginx.stop()


@pytest.mark.ops
def test_nginx_serves_static_files_itself_with_the_right_caching(lone_nginx):
    versioned = request(lone_nginx, "GET", "/static/vendor/htmx-2.0.11.min.js", tls=True)
    plain = request(
        lone_nginx, "GET", "/static/css/site.css", headers={"Accept-Encoding": "gzip"}, tls=True
    )
    missing = request(lone_nginx, "GET", "/static/no-such-file.css", tls=True)

    assert versioned.status == 200
    assert versioned.body == (ROOT / "static/vendor/htmx-2.0.11.min.js").read_bytes()
    assert versioned.headers["cache-control"] == "max-age=315360000"
    assert plain.status == 200 and plain.headers["cache-control"] == "max-age=3600"
    assert plain.headers["content-encoding"] == "gzip"
    assert missing.status == 404
    # Nothing listens behind it: the app's pages fail, the static files did not need it.
    assert request(lone_nginx, "GET", "/", tls=True).status == 502
