"""Settings from the environment, and the errors that stop a misconfigured start."""

import pytest

from forum import config
from forum.config import ConfigError


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
