"""Reading the site's HTML in tests: one parser (BeautifulSoup over Python's html.parser).

Tests look for elements the way a reader does, by what they are (an article with an id, the
input named "next", the link that says "More comments"), so a change of attribute order or
whitespace in a template does not break them.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

__all__ = ["Tag", "attr", "elements", "ids", "one", "parse", "text"]


def parse(html) -> BeautifulSoup:
    """The document (or fragment) as a tree; `html` is markup or a test response.

    Every attribute value stays a plain string (class="a b" is "a b"), as the browser's
    getAttribute gives it.
    """
    if hasattr(html, "get_data"):
        html = html.get_data(as_text=True)
    return BeautifulSoup(html, "html.parser", multi_valued_attributes=None)


def _tree(html) -> Tag:
    return html if isinstance(html, Tag) else parse(html)


def elements(html, selector: str) -> list[Tag]:
    """Every element matching the CSS `selector`, in document order."""
    return _tree(html).select(selector)


def one(html, selector: str) -> Tag:
    """The one element matching `selector`; fails the test when there is none or several."""
    found = elements(html, selector)
    assert len(found) == 1, f"{len(found)} elements match {selector!r}"
    return found[0]


def text(html, selector: str | None = None) -> str:
    """The visible text (of the element matching `selector`), whitespace folded."""
    tree = _tree(html) if selector is None else one(html, selector)
    return " ".join(tree.stripped_strings)


def attr(html, selector: str, name: str) -> str | None:
    """Attribute `name` of the one element matching `selector` (None when it has none)."""
    return one(html, selector).get(name)


def ids(html, selector: str, prefix: str) -> list[int]:
    """The numbers in the ids of the matching elements: ids(html, "article", "comment-")."""
    return [
        int(element["id"].removeprefix(prefix))
        for element in elements(html, selector)
        if element.get("id", "").removeprefix(prefix).isdigit()
    ]
