"""Markdown to safe HTML: rendered once when content is saved, never per page view."""

from __future__ import annotations

import re
from html import escape

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the source is shown as text ("html": False); the sanitizer is the second wall.
# Comments get a small subset: no headings (a "# " line stays plain text), and an image is
# shown as a link to it, named by its alt text: no picture from elsewhere loads on the page.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
    ["heading", "lheading"]
)
_article_md = MarkdownIt("commonmark", {"html": False}).enable("table")


def _image_as_link(renderer, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = renderer.renderInlineAsText(token.children or [], options, env).strip()
    src = escape(str(token.attrGet("src") or ""), quote=True)
    return f'<a href="{src}">Image: {escape(alt) if alt else "no description"}</a>'


_md.add_render_rule("image", _image_as_link)

# Comments longer than this (in characters of their source) fold the rest under "Read more".
FOLD_AT = 1_500
# ...unless what would fold away is shorter than this.
FOLD_MIN_REST = 200
_SENTENCE_END = re.compile(r"[.!?\u061f\u3002\uff01\uff1f]\s+")

_TAGS = {
    "details",
    "summary",
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
    """Sanitized HTML for a member's text: a small Markdown subset, links marked as UGC.

    A long text shows its first ~1,500 characters; the rest folds into a <details> ("Read
    more"), which opens without JavaScript.
    """
    cut = fold_point(source)
    if cut is None:
        return _clean_comment(_md.render(source))
    head, rest = _clean_comment(_md.render(source[:cut])), _clean_comment(_md.render(source[cut:]))
    return f"{head}<details><summary>Read more</summary>\n{rest}</details>\n"


def _clean_comment(html: str) -> str:
    return _clean(html, _TAGS, "nofollow ugc noopener")


def fold_point(source: str) -> int | None:
    """Where a long comment folds (an offset in `source`), or None when it is short enough.

    The fold falls between two top-level blocks (paragraphs, lists, quotes, code), so none is
    cut in two: before the block that crosses the limit, or the first one after it. A single
    paragraph far longer than the limit is cut after a sentence.
    """
    if len(source) < FOLD_AT + FOLD_MIN_REST:
        return None
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    for token in _md.parse(source):
        if token.level != 0 or token.nesting == -1 or not token.map:
            continue
        begin, end = starts[token.map[0]], starts[min(token.map[1], len(starts) - 1)]
        if begin >= FOLD_AT or (end > FOLD_AT and begin >= FOLD_AT * 2 // 3):
            cut = begin  # this block starts past the limit, or crosses it late enough
        elif token.type == "paragraph_open" and end > 2 * FOLD_AT:
            sentence = _SENTENCE_END.search(source, FOLD_AT, end)
            cut = sentence.end() if sentence else None
        else:
            continue
        if cut is not None:
            return cut if len(source) - cut >= FOLD_MIN_REST else None
    return None


def render_article(source: str) -> str:
    """Sanitized HTML for an article shipped with the site (headings and tables allowed)."""
    return _clean(_article_md.render(source), _ARTICLE_TAGS, "noopener")
