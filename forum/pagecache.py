"""Rendered pages for logged-out visitors, kept in process memory or in Redis (REDIS_URL).

Who is served from it: a GET of one of the pages in PAGES by a visitor whose session holds
nothing but a CSRF token (no member, no flashed message, no guest name typed before). Members
never read from the cache and never write to it, so no visitor can get a page rendered for one.

Freshness: every cached page belongs to a disease (the home page to all of them), and its key
carries the disease's `page_version`, a counter in the diseases row. Any write that changes
what the disease's pages show calls `invalidate_disease` (or `invalidate_question`, or
`invalidate_site`) in its own transaction, which bumps the counter: the write and the bump
commit together, so once a writer has committed, no worker anywhere serves the old page. The
version is read before anything else the page shows, so a page stored under version v was
rendered from data at least as new as v (on PostgreSQL's read-committed transactions too).
Entries also expire after PAGE_CACHE_SECONDS, so "5 minutes ago" stays close to the truth.

CSRF tokens: a token belongs to one visitor's session, so a page is stored cut into pieces
where its token stood, and every answer joins them with the token of the visitor's own session
(a first visit gets a new session, as an uncached page would give it). Guest comment forms,
vote buttons and htmx posts therefore work from a cached page exactly as from a fresh one,
with JavaScript or without, and no visitor ever receives another visitor's token.

Compression: each stored page is also kept gzip-compressed (forum/compression.py), so a
browser that accepts gzip gets its page without any compression work at answer time.

Conditional requests: visitors' pages carry a weak ETag (the stored page's hash and a hash of
the visitor's own token) with `Cache-Control: private, no-cache`; a browser that sends it back
in If-None-Match gets 304 for the cost of one query.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import DBAPIError

from forum import querycount
from forum.compression import GzipParts
from forum.extensions import db
from forum.htmx import wants_fragment
from forum.models.diseases import Disease
from forum.models.questions import Question

log = logging.getLogger(__name__)

# What a visitor's session may hold for the visitor to be served a cached page: the CSRF
# token, and the flag Flask-Login's session protection leaves on an anonymous session.
VISITOR_SESSION_KEYS = frozenset({"csrf_token", "_fresh"})
# Headers that belong to one answer, not to the page.
_NOT_STORED = frozenset(
    {
        "set-cookie",
        "content-length",
        "content-encoding",
        "etag",
        "date",
        "cache-control",
        "expires",
        "x-query-count",
    }
)
VISITOR_CACHE_CONTROL = "private, no-cache"


# -- invalidation: called by the services, in the transaction of the write -------------------


def invalidate_disease(disease_id: int) -> None:
    """Make every cached page of the disease stale when the caller's transaction commits."""
    db.session.execute(
        update(Disease)
        .where(Disease.id == disease_id)
        .values(page_version=Disease.page_version + 1)
        .execution_options(synchronize_session=False)
    )


def invalidate_question(question_id: int) -> None:
    """invalidate_disease for the disease the question belongs to."""
    disease_id = select(Question.disease_id).where(Question.id == question_id).scalar_subquery()
    db.session.execute(
        update(Disease)
        .where(Disease.id == disease_id)
        .values(page_version=Disease.page_version + 1)
        .execution_options(synchronize_session=False)
    )


def invalidate_site() -> None:
    """Make every cached page stale (a change seen on every disease's pages, such as a member
    leaving the site, or content loaded by the seed)."""
    db.session.execute(
        update(Disease)
        .values(page_version=Disease.page_version + 1)
        .execution_options(synchronize_session=False)
    )


# -- which pages, and the version each one is keyed on ----------------------------------------

DISEASE_VERSION = select(Disease.id, Disease.page_version).where(Disease.slug == bindparam("slug"))
# Every bump raises the sum; a disease added or removed changes the count.
SITE_VERSION = select(func.count(Disease.id), func.coalesce(func.sum(Disease.page_version), 0))
_compiled: dict[tuple[int, int], tuple[str, tuple[str, ...] | None, dict]] = {}


def _read_version(stmt, **values) -> tuple | None:
    """One row of `stmt`, read on a pooled DBAPI connection of its own.

    A cache hit runs nothing else, so it skips the ORM session (a third of the cost of a hit
    here). Reading outside the page's own transaction is still safe: this read happens before
    the page's queries, so a page stored under the version read shows data at least as new.
    """
    engine = db.engine
    key = (id(engine), id(stmt))
    compiled = _compiled.get(key)
    if compiled is None:
        sql = stmt.compile(dialect=engine.dialect)
        order = sql.positiontup if sql.positional else None
        compiled = _compiled[key] = (str(sql), order, sql.params)
    sql, order, defaults = compiled
    values = defaults | values
    params = tuple(values[name] for name in order) if order is not None else values
    querycount.note_query()
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        raw = engine.raw_connection()
    except dbapi_error as exc:
        # The pool hands on the driver's own error: raise it as SQLAlchemy would (an outage then
        # answers 503 like any other query).
        raise DBAPIError.instance(sql, params, exc, dbapi_error) from exc
    try:
        cursor = raw.cursor()
        cursor.execute(sql, params)
        row = cursor.fetchone()
        cursor.close()
    except dbapi_error as exc:
        # The same for a query that fails; the connection may be dead, so it leaves the pool.
        raw.invalidate()
        raise DBAPIError.instance(sql, params, exc, dbapi_error) from exc
    finally:
        raw.close()
    return row


def _disease_version(view_args: dict) -> str | None:
    row = _read_version(DISEASE_VERSION, slug=view_args.get("slug"))
    # An unknown disease is not cached: the view answers its 404.
    return f"d{row[0]}.{row[1]}" if row else None


def _site_version(view_args: dict) -> str:
    count, total = _read_version(SITE_VERSION)
    return f"s{count}.{total}"


# endpoint -> the function giving the version the page is keyed on (None: do not cache).
PAGES: dict[str, Callable[[dict], str | None]] = {
    "home.index": _site_version,
    "diseases.show": _disease_version,
    "questions.index": _disease_version,
    "questions.show": _disease_version,
    "maps.show": _disease_version,
    "maps.country": _disease_version,
}


# -- stores --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A stored page: its body cut where the CSRF token goes (and the same compressed once),
    its headers and its hash."""

    parts: tuple[bytes, ...]
    headers: list[tuple[str, str]]
    etag: str
    gzip: GzipParts

    @property
    def has_token(self) -> bool:
        return len(self.parts) > 1

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts) + sum(len(b) for b in self.gzip.blocks)

    def body(self, token: bytes = b"") -> bytes:
        return token.join(self.parts)

    def dumps(self) -> bytes:
        head = {
            "headers": self.headers,
            "etag": self.etag,
            "parts": [len(part) for part in self.parts],
            "blocks": [len(block) for block in self.gzip.blocks],
            "gzip": self.gzip.to_json(),
        }
        return b"\n".join([json.dumps(head).encode(), *self.parts, *self.gzip.blocks])

    @classmethod
    def loads(cls, raw: bytes) -> Entry:
        head, rest = raw.split(b"\n", 1)
        head = json.loads(head)
        pieces, at = [], 0
        for length in head["parts"] + head["blocks"]:
            pieces.append(rest[at : at + length])
            at += length + 1
        parts, blocks = pieces[: len(head["parts"])], pieces[len(head["parts"]) :]
        gzip = GzipParts.from_parts(tuple(blocks), head["gzip"])
        return cls(tuple(parts), [tuple(h) for h in head["headers"]], head["etag"], gzip)


class MemoryStore:
    """Entries in this process, least recently used dropped first beyond `max_bytes`.

    An entry is anything with a `size` in bytes: a page here, a members' thread list in
    forum/comments/shared_list.py."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # gthread workers share a process

    def get(self, key: str) -> Entry | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[1]

    def set(self, key: str, entry: Entry, ttl: int) -> None:
        size = entry.size
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + ttl, entry)
            self._size += size
            while self._size > self.max_bytes:
                self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, entry = self._items.pop(key)
        self._size -= entry.size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


class RedisStore:
    """Entries in Redis, shared by every worker and instance; they expire by themselves."""

    def __init__(self, url: str, prefix: str):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return self._prefix + hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> Entry | None:
        raw = self._redis.get(self._key(key))
        return Entry.loads(raw) if raw else None

    def set(self, key: str, entry: Entry, ttl: int) -> None:
        self._redis.set(self._key(key), entry.dumps(), ex=ttl)

    def clear(self) -> None:
        for key in self._redis.scan_iter(self._prefix + "*"):
            self._redis.delete(key)


# -- serving -------------------------------------------------------------------------------------


def _store():
    return current_app.extensions["pagecache"]


def _token_tag(raw_token: str | None) -> str:
    if not raw_token:
        return ""
    return "-" + hashlib.sha256(raw_token.encode()).hexdigest()[:12]


def visitor_may_be_cached() -> bool:
    """True for a logged-out visitor whose page would be the same as anyone else's."""
    if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return False
    return session.keys() <= VISITOR_SESSION_KEYS


def _page_key(version: str) -> str:
    fragment = "f" if wants_fragment() else "p"
    return f"{request.endpoint}|{version}|{fragment}|{request.host}|{request.full_path}"


def _serve_cached():
    """before_request: answer from the cache when it holds this visitor's page."""
    g.pop("pagecache_key", None)
    g.pop("pagecache_hit", None)
    if request.method not in ("GET", "HEAD"):
        return None
    version_of = PAGES.get(request.endpoint)
    if version_of is None or not visitor_may_be_cached():
        return None
    version = version_of(request.view_args or {})
    if version is None:
        return None
    key = _page_key(version)
    g.pagecache_key = key
    try:
        entry = _store().get(key)
    except Exception:  # noqa: BLE001 - a cache that fails is a miss, never an error page
        log.warning("page cache read failed", exc_info=True)
        return None
    if entry is None:
        return None
    g.pagecache_hit = True
    raw_token = session.get("csrf_token") if entry.has_token else None
    etag = entry.etag + _token_tag(raw_token)
    if (raw_token or not entry.has_token) and request.if_none_match.contains_weak(etag):
        return _not_modified(entry, etag)
    token = b""
    if entry.has_token:
        token = generate_csrf().encode()  # the visitor's own; a first visit gets a new session
        etag = entry.etag + _token_tag(session.get("csrf_token"))
    if request.accept_encodings["gzip"]:
        response = Response(entry.gzip.join(token), 200, entry.headers)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
    else:
        response = Response(entry.body(token), 200, entry.headers)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = VISITOR_CACHE_CONTROL
    response.headers["X-Page-Cache"] = "hit"
    return response


def _not_modified(entry: Entry, etag: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = VISITOR_CACHE_CONTROL
    for name, value in entry.headers:
        if name.lower() == "vary":
            response.headers.add(name, value)
    response.headers["X-Page-Cache"] = "hit"
    return response


def _storable(response: Response) -> bool:
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not response.is_streamed
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
        and "Cache-Control" not in response.headers
        and visitor_may_be_cached()
    )


def _store_page(response: Response) -> Response:
    """after_request: keep a visitor's freshly rendered page for the next visitors."""
    key = g.get("pagecache_key")
    if key is None or g.get("pagecache_hit") or not _storable(response):
        return response
    body = response.get_data()
    token = g.get("csrf_token")
    parts = tuple(body.split(token.encode())) if token else (body,)
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _NOT_STORED]
    etag = hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]
    entry = Entry(
        parts, headers, etag, GzipParts.compress(parts, current_app.config["COMPRESS_LEVEL"])
    )
    has_token = entry.has_token
    try:
        _store().set(key, entry, current_app.config["PAGE_CACHE_SECONDS"])
    except Exception:  # noqa: BLE001 - the page is still answered
        log.warning("page cache write failed", exc_info=True)
    raw_token = session.get("csrf_token") if has_token else None
    response.set_etag(entry.etag + _token_tag(raw_token), weak=True)
    response.headers["Cache-Control"] = VISITOR_CACHE_CONTROL
    response.headers["X-Page-Cache"] = "miss"
    return response.make_conditional(request)


def clear() -> None:
    """Forget every stored page (tests, and after restoring a database backup)."""
    _store().clear()


def register(app: Flask) -> None:
    """Serve and store visitors' pages; off when PAGE_CACHE_SECONDS is 0, and in debug mode
    (where templates change under a running server and nothing would drop the old pages)."""
    if app.config["PAGE_CACHE_SECONDS"] <= 0 or app.debug:
        return
    if app.config["REDIS_URL"]:
        store = RedisStore(app.config["REDIS_URL"], app.config["PAGE_CACHE_PREFIX"])
    else:
        store = MemoryStore(app.config["PAGE_CACHE_MAX_MB"] * 1024 * 1024)
    app.extensions["pagecache"] = store
    app.before_request(_serve_cached)
    # Registered after the other after_request functions, so it runs before them: it keeps the
    # page as the view made it, then security headers and compression apply to every answer.
    app.after_request(_store_page)
