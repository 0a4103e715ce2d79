"""The thread list that every ordinary member sees alike, rendered once and kept per worker.

Visitors get whole pages from forum/pagecache.py; a member's page cannot be shared (their name,
their token, their vote), but most of it is the list of threads, and that list is the same
for every member who is not a moderator and wrote nothing under the question: Reply (or not,
for a banned member) and Report on each comment, the same role labels, the same removal
notices. The list carries no CSRF token (delete and report forms are GET or htmx posts with
the header token), so its HTML can be handed to any member of the same kind.

Who is served from it: a member (not a visitor, not a moderator) who wrote none of the
comments the page loads, on a page with no posted form open in a thread. Anyone else gets the
list rendered for them, as before; so does a member when the list is not kept yet, and the
list rendered for them is kept when it is the shared one. The check costs no query.

Freshness is the page cache's: the key carries the disease's `page_version`, which every write
that changes what the disease's pages show bumps in its own transaction (forum.pagecache), and
it is read before the comments, so a list stored under a version was rendered from data at
least as new. Entries expire after PAGE_CACHE_SECONDS ("5 minutes ago" stays near the truth),
and the switch is the page cache's too: off when that is 0 and in debug mode. Each worker keeps
its own store, given to the app with the comments blueprint: a list is rebuilt once per worker
and version, and no Redis round trip is worth it for a list a worker renders in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from markupsafe import Markup

from forum.comments.threads import ThreadPage, Viewer
from forum.extensions import db
from forum.models.diseases import Disease
from forum.models.questions import Question
from forum.pagecache import MemoryStore


@dataclass(frozen=True)
class SharedList:
    """A rendered thread list and what the pager needs of its page (not its items)."""

    html: Markup
    page: ThreadPage

    @property
    def size(self) -> int:
        """What it weighs against the store's byte budget (forum.pagecache.MemoryStore)."""
        return len(self.html)


def register(app: Flask) -> None:
    """Give the app its store; none when PAGE_CACHE_SECONDS is 0 or in debug mode (where
    templates change under a running server and nothing would drop the old lists). It holds
    up to PAGE_CACHE_MAX_MB of lists per worker, beside the page cache's own."""
    if app.config["PAGE_CACHE_SECONDS"] > 0 and not app.debug:
        max_bytes = app.config["PAGE_CACHE_MAX_MB"] * 1024 * 1024
        app.extensions["shared_list"] = MemoryStore(max_bytes)


def _store() -> MemoryStore | None:
    return current_app.extensions.get("shared_list")


def shared_key(question: Question, viewer: Viewer, page_args: tuple) -> str | None:
    """The key of the list an ordinary member may share, or None for a visitor or a moderator.

    No query: the disease's page version comes from the row the page loaded first (before the
    comments, so a list stored under it shows data at least as new).
    """
    if viewer.user_id is None or viewer.is_moderator or _store() is None:
        return None
    version = db.session.get(Disease, question.disease_id).page_version
    parts = (question.id, version, viewer.may_post, viewer.max_depth, *page_args)
    return ":".join(map(str, parts))


def get(key: str | None, user_id: int | None) -> SharedList | None:
    """The kept list, unless this member wrote one of its comments (theirs carry Edit and
    Delete, or a notice only they see)."""
    kept = _store().get(key) if key is not None else None
    return kept if kept is not None and user_id not in kept.page.author_ids else None


def put(key: str | None, html: Markup, page: ThreadPage, user_id: int | None) -> None:
    """Keep the list rendered for `user_id`, if it is the one every other member sees."""
    if key is not None and user_id not in page.author_ids:
        kept = ThreadPage(
            [], page.order, page.page, page.has_more, page.last_root_id, page.author_ids
        )
        _store().set(key, SharedList(html, kept), current_app.config["PAGE_CACHE_SECONDS"])
