"""Markdown to safe HTML: rendered once when content is saved, never per page view."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the source is shown as text ("html": False); the sanitizer is the second wall.
# Comments get a small subset: no images and no headings (a "# " line stays plain text).
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
    ["image", "heading", "lheading"]
)
_article_md = MarkdownIt("commonmark", {"html": False}).enable("table")

_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "hr",
}
_ARTICLE_TAGS = _TAGS | {"h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td"}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_URL_SCHEMES = {"http", "https", "mailto"}


def _clean(html: str, tags: set[str], link_rel: str | None) -> str:
    # nh3 keeps only the listed tags and attributes, so hx-*, on* and style never survive,
    # and drops URLs outside the listed schemes (javascript:, data:).
    return nh3.clean(
        html,
        tags=tags,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel=link_rel,
        strip_comments=True,
    )


def render_comment(source: str) -> str:
    """Sanitized HTML for a member's text: a small Markdown subset, links marked as UGC."""
    return _clean(_md.render(source), _TAGS, "nofollow ugc noopener")


def render_article(source: str) -> str:
    """Sanitized HTML for an article shipped with the site (headings and tables allowed)."""
    return _clean(_article_md.render(source), _ARTICLE_TAGS, "noopener")
