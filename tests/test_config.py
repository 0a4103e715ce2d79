"""Settings from the environment, and the errors that stop a misconfigured start."""

import subprocess
import sys
from pathlib import Path

import pytest

from forum import config
from forum.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "FORUM_ENV",
        "REDIS_URL",
        "RATELIMIT_ENABLED",
        "FORUM_HTTPS",
        "MAX_CONTENT_LENGTH",
        "TRUSTED_HOSTS",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_without_secret_key_is_a_clear_error(clean_env, tmp_path):
    clean_env.setenv("FORUM_ENV", "production")

    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        config.load(str(tmp_path))


def test_create_app_refuses_to_start_without_secret_key_in_production(clean_env):
    from forum import create_app

    clean_env.setenv("FORUM_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("given", [None, "", " , "])
def test_production_without_trusted_hosts_is_a_clear_error(clean_env, tmp_path, given):
    """The local default would answer every real request with 400: refuse to start instead."""
    clean_env.setenv("FORUM_ENV", "production")
    clean_env.setenv("SECRET_KEY", "from-the-environment")
    if given is not None:
        clean_env.setenv("TRUSTED_HOSTS", given)

    with pytest.raises(ConfigError, match=r"^TRUSTED_HOSTS is not set\. In production") as error:
        config.load(str(tmp_path))
    assert "\n" not in str(error.value)


def test_gunicorn_refuses_to_start_in_production_without_trusted_hosts(tmp_path):
    """What the operator reads: gunicorn exits, its last line naming the missing variable."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FORUM_ENV": "production",
        "SECRET_KEY": "check",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.db'}",
    }
    command = [str(Path(sys.executable).parent / "gunicorn"), "--check-config", "-c"]
    command += ["gunicorn.conf.py", "wsgi:app"]
    refused = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    started = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, "TRUSTED_HOSTS": "forum.example.org"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert refused.returncode != 0
    last = (refused.stdout + refused.stderr).strip().splitlines()[-1]
    assert last.startswith("forum.config.ConfigError: TRUSTED_HOSTS is not set."), last
    assert started.returncode == 0, started.stdout + started.stderr


def test_production_serves_the_hosts_it_is_given(clean_env, tmp_path):
    clean_env.setenv("FORUM_ENV", "production")
    clean_env.setenv("SECRET_KEY", "from-the-environment")
    clean_env.setenv("TRUSTED_HOSTS", "forum.example.org")
    assert config.load(str(tmp_path))["TRUSTED_HOSTS"] == ["forum.example.org"]


def test_development_key_is_generated_once_and_kept_private(clean_env, tmp_path):
    first = config.load(str(tmp_path))["SECRET_KEY"]
    second = config.load(str(tmp_path))["SECRET_KEY"]

    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_wins(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "from-the-environment")
    assert config.load(str(tmp_path))["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_default_database_is_sqlite_in_the_instance_folder(clean_env, tmp_path):
    url = config.load(str(tmp_path))["SQLALCHEMY_DATABASE_URI"]
    assert url == f"sqlite:///{tmp_path / 'forum.db'}"


@pytest.mark.parametrize("given", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_postgres_urls_get_the_psycopg_driver(clean_env, tmp_path, given):
    clean_env.setenv("DATABASE_URL", given)
    assert config.load(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_unsupported_database_is_a_clear_error(clean_env, tmp_path):
    clean_env.setenv("DATABASE_URL", "mysql://root@localhost/forum")
    with pytest.raises(ConfigError, match="not supported"):
        config.load(str(tmp_path))


def test_bad_number_is_a_clear_error(clean_env, tmp_path):
    clean_env.setenv("MAX_CONTENT_LENGTH", "lots")
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH must be a whole number"):
        config.load(str(tmp_path))


def test_redis_url_moves_rate_limit_storage_to_redis(clean_env, tmp_path):
    assert config.load(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert config.load(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_rate_limiting_can_be_switched_off(clean_env, tmp_path):
    assert config.load(str(tmp_path))["RATELIMIT_ENABLED"] is True
    clean_env.setenv("RATELIMIT_ENABLED", "false")
    assert config.load(str(tmp_path))["RATELIMIT_ENABLED"] is False


def test_postgres_connections_are_pre_pinged(clean_env, tmp_path):
    assert config.load(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
