"""The links on each comment, built from prefixes found once per request.

A thread page carries five or six links per comment; building each with `url_for` was a
third of the page's time. The prefixes come from `url_for` itself, so they follow the
routes and the application root, and a comment's links are the prefix plus its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import g, url_for


@dataclass(frozen=True, slots=True)
class CommentLinks:
    # "/comments/" + id, then "/reply", "/edit", "/delete" or "/replies" after it.
    comment: str
    # The report form of a comment: prefix + id.
    report: str
    # A member's profile: prefix + the quoted username.
    member: str

    def profile(self, username: str) -> str:
        # The quoting werkzeug's converters apply to a path segment (BaseConverter.to_url).
        return self.member + quote(username, safe="!$&'()*+,/:;=@")


def _prefix(url: str, placeholder: str) -> str:
    # The placeholder sits at the end of every route used here; a route that moved it would
    # make this fail loudly rather than build wrong links.
    if not url.endswith(placeholder):
        raise RuntimeError(f"{url!r} does not end with its placeholder")
    return url[: -len(placeholder)]


def comment_links() -> CommentLinks:
    """This request's prefixes (computed on first use, then kept on `g`)."""
    links = g.get("_comment_links")
    if links is None:
        links = g._comment_links = CommentLinks(
            comment=_prefix(url_for("comments.show", comment_id=0), "0"),
            report=_prefix(url_for("moderation.report", kind="comment", item_id=0), "0"),
            member=_prefix(url_for("members.show", username="_"), "_"),
        )
    return links
