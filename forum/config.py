"""Settings: safe defaults, every one overridable from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def _secret_key(instance_path: Path, production: bool) -> str:
    """The SECRET_KEY from the environment, or one generated once into the instance folder."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if production:
        raise ConfigError(
            "SECRET_KEY is not set. In production (FORUM_ENV=production) the secret key must "
            "come from the environment, e.g. SECRET_KEY=$(python -c 'import secrets; "
            "print(secrets.token_hex(32))')."
        )
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    # Written whole to a file of this process's own, then linked into place: when several
    # processes start at once (test workers, a first `make run`), the first link wins and every
    # process reads that one key, never a half-written file.
    draft = instance_path / f".secret_key.{os.getpid()}"
    # Created with owner-only permissions: the key signs every session cookie.
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    try:
        os.link(draft, key_file)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return key_file.read_text().strip()


# What `make run` and the tests are reached at; a deployment names its own hosts.
LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1"]


def _trusted_hosts(production: bool) -> list[str] | None:
    """TRUSTED_HOSTS: the host names this site answers to, comma-separated ("*": any host).

    A request for any other Host (or forwarded host) gets 400 before routing, so no page,
    redirect or email link is ever built with a host an attacker sent. Production must name its
    hosts: the local default would answer every real request with 400.
    """
    value = os.environ.get("TRUSTED_HOSTS", "").strip()
    if value == "*":
        return None
    hosts = [host.strip() for host in value.split(",") if host.strip()]
    if hosts:
        return hosts
    if production:
        raise ConfigError(
            "TRUSTED_HOSTS is not set. In production (FORUM_ENV=production) name the host names "
            "the site answers to, e.g. TRUSTED_HOSTS=forum.example.org,www.forum.example.org "
            '("*" answers any host); without it every request would get 400.'
        )
    return list(LOCAL_HOSTS)


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_path / 'forum.db'}"
    # Hosted PostgreSQL often hands out postgres:// URLs; SQLAlchemy needs a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError(
            f"DATABASE_URL {url!r} is not supported: use sqlite:///path/to/forum.db "
            "or postgresql+psycopg://user@host/dbname"
        )
    return url


def load(instance_path: str) -> dict:
    """Build the configuration mapping for create_app from the environment."""
    instance = Path(instance_path)
    production = os.environ.get("FORUM_ENV", "development").strip().lower() == "production"
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    https = _env_bool("FORUM_HTTPS", production)
    return {
        "FORUM_ENV": "production" if production else "development",
        "SECRET_KEY": _secret_key(instance, production),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance),
        # hide_parameters: a database error's message (logged, and in a 500's traceback) names
        # the statement but never the values it carried: emails, regions, titles.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # Seconds to wait for a PostgreSQL connection: during an outage pages answer 503 quickly.
        "DATABASE_CONNECT_TIMEOUT": _env_int("DATABASE_CONNECT_TIMEOUT", 2),
        "TRUSTED_HOSTS": _trusted_hosts(production),
        "REDIS_URL": redis_url,
        # A 10,000-character comment of emoji is ~120 KB once form-encoded: leave room for it.
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 256 * 1024),
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "FORUM_HTTPS": https,
        # Trust X-Forwarded-For and -Proto only when the operator says how many proxies sit in
        # front; X-Forwarded-Host only when they also say the proxy sets it (PROXY_FIX_HOST=1).
        "PROXY_FIX": _env_int("PROXY_FIX", 0),
        "PROXY_FIX_HOST": _env_bool("PROXY_FIX_HOST", False),
        # CSRF tokens live as long as the session; a form left open for hours still posts.
        "WTF_CSRF_TIME_LIMIT": None,
        # Rate limits (Flask-Limiter); storage is Redis when REDIS_URL is set.
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Redis down: count in each process's memory (one warning), back to Redis when it returns.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": bool(redis_url),
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}
        if redis_url
        else {},
        # A storage failure after a write succeeded must not turn the answer into a 500.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_LOGIN_IP": os.environ.get("RATELIMIT_LOGIN_IP", "10 per minute;50 per hour"),
        # Failed logins of one account: from one address; from any browser that never logged
        # in to it; from one browser that did (its device cookie, forum/auth/devices.py).
        "RATELIMIT_LOGIN_ACCOUNT": os.environ.get(
            "RATELIMIT_LOGIN_ACCOUNT", "5 per minute;20 per hour"
        ),
        "RATELIMIT_LOGIN_ACCOUNT_UNTRUSTED": os.environ.get(
            "RATELIMIT_LOGIN_ACCOUNT_UNTRUSTED", "20 per hour;100 per day"
        ),
        "RATELIMIT_LOGIN_DEVICE": os.environ.get(
            "RATELIMIT_LOGIN_DEVICE", "10 per minute;50 per hour"
        ),
        "RATELIMIT_SIGNUP": os.environ.get("RATELIMIT_SIGNUP", "5 per hour"),
        "RATELIMIT_VOTE": os.environ.get("RATELIMIT_VOTE", "60 per minute;600 per hour"),
        "RATELIMIT_POST_MEMBER": os.environ.get(
            "RATELIMIT_POST_MEMBER", "10 per minute;100 per hour"
        ),
        "RATELIMIT_POST_GUEST": os.environ.get("RATELIMIT_POST_GUEST", "3 per minute;20 per hour"),
        "RATELIMIT_QUESTION": os.environ.get("RATELIMIT_QUESTION", "5 per hour"),
        "RATELIMIT_MAP": os.environ.get("RATELIMIT_MAP", "20 per hour"),
        "RATELIMIT_REPORT": os.environ.get("RATELIMIT_REPORT", "10 per minute;50 per day"),
        # Features
        "GUEST_COMMENTS": _env_bool("GUEST_COMMENTS", True),
        # Moderation: guests' comments wait for a moderator; reports that hide an item.
        "GUEST_MODERATION": _env_bool("GUEST_MODERATION", False),
        "REPORTS_TO_HIDE": _env_int("REPORTS_TO_HIDE", 3),
        "COMMENT_MAX_DEPTH": _env_int("COMMENT_MAX_DEPTH", 6),
        "COMMENT_EDIT_MINUTES": _env_int("COMMENT_EDIT_MINUTES", 30),
        "COMMENTS_PER_PAGE": _env_int("COMMENTS_PER_PAGE", 50),
        "REPLIES_SHOWN": _env_int("REPLIES_SHOWN", 3),
        "QUESTIONS_PER_PAGE": _env_int("QUESTIONS_PER_PAGE", 20),
        "TOP_QUESTIONS_SHOWN": _env_int("TOP_QUESTIONS_SHOWN", 8),
        "CONTENT_DIR": os.environ.get("CONTENT_DIR", ""),
        # Where the contact page sends people (moderation reports, privacy requests, press).
        "CONTACT_EMAIL": os.environ.get("CONTACT_EMAIL", "hello@rarecircle.example"),
        # Speed (forum/pagecache.py, forum/comments/shared_list.py, forum/assets.py). Visitors'
        # pages and the thread lists ordinary members share are kept this many seconds at most
        # (0 turns both off); any write touching a page drops it at once.
        "PAGE_CACHE_SECONDS": _env_int("PAGE_CACHE_SECONDS", 60),
        # Per worker, when pages are kept in process (no REDIS_URL); as much again for the
        # thread lists members share (always in process).
        "PAGE_CACHE_MAX_MB": _env_int("PAGE_CACHE_MAX_MB", 32),
        "PAGE_CACHE_PREFIX": os.environ.get("PAGE_CACHE_PREFIX", "forum:page:"),
        # Compression of HTML, CSS and JavaScript when the client accepts it (Flask-Compress).
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_ALGORITHM_STREAMING": ["br", "deflate"],
        "COMPRESS_BR_LEVEL": _env_int("COMPRESS_BR_LEVEL", 4),
        "COMPRESS_LEVEL": _env_int("COMPRESS_LEVEL", 6),
        # The benchmark's query counter (forum/querycount.py); never on in production.
        "QUERY_COUNT_HEADER": _env_bool("QUERY_COUNT_HEADER", False),
        # Connect: contact requests, messages, notifications
        "CONTACT_REQUESTS_PER_DAY": _env_int("CONTACT_REQUESTS_PER_DAY", 5),
        "CONTACT_ASK_AGAIN_DAYS": _env_int("CONTACT_ASK_AGAIN_DAYS", 30),
        "MESSAGES_SHOWN": _env_int("MESSAGES_SHOWN", 50),
        "MESSAGES_POLL_SECONDS": _env_int("MESSAGES_POLL_SECONDS", 5),
        "NOTIFICATIONS_POLL_SECONDS": _env_int("NOTIFICATIONS_POLL_SECONDS", 60),
        "RATELIMIT_PASSWORD_RESET": os.environ.get(
            "RATELIMIT_PASSWORD_RESET", "5 per hour;20 per day"
        ),
        # Email: links in mail point at SITE_URL; without MAIL_SERVER mail goes to the log.
        "SITE_URL": os.environ.get("SITE_URL", "").strip() or "http://127.0.0.1:8000",
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "").strip() or None,
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", "").strip() or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", "") or None,
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "").strip() or "RareCircle <no-reply@localhost>",
        "MAIL_TIMEOUT": _env_int("MAIL_TIMEOUT", 30),
    }
