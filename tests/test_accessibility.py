"""Accessibility checks that need no browser: the HTML of every kind of page, and the stylesheet.

Each page of the seeded demo site is parsed with the standard library's HTML parser and checked
for what a screen reader or keyboard user depends on: the language, a viewport, one h1 and
headings in order, its own title and description, landmarks and a working skip link, a label for
every input, names for every link, button and graphic, ids that are unique and references that
resolve, and no positive tabindex. The stylesheet's colours are checked against WCAG AA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.auth.service import reset_token
from forum.extensions import db
from forum.mail.service import unsubscribe_token
from forum.models import Question
from forum.notifications.service import notify
from forum.seed import load_demo_content
from tests.comment_factories import make_comment
from tests.conftest import login
from tests.connect_factories import make_conversation, make_request, verify

ROOT = Path(__file__).resolve().parents[1]
LATEST = "/diseases/scleromyxedema/questions/what-are-the-latest-advances-in-scleromyxedema"

# name: (path, who looks at it). "{own}" is a comment of the logged-in member.
PAGES = {
    "home": ("/", "guest"),
    "search": ("/?q=sclero", "guest"),
    "disease": ("/diseases/scleromyxedema", "guest"),
    "question": (LATEST, "guest"),
    "question, member": (LATEST, "member"),
    "all questions": ("/diseases/scleromyxedema/questions", "guest"),
    "questions, new": ("/diseases/scleromyxedema/questions?sort=new", "guest"),
    "ask": ("/diseases/scleromyxedema/questions/ask", "member"),
    "map": ("/diseases/scleromyxedema/map", "guest"),
    "country": ("/diseases/scleromyxedema/map/countries/FR", "member"),
    "join the map": ("/diseases/scleromyxedema/map/join", "member"),
    "login": ("/login", "guest"),
    "sign-up": ("/signup", "guest"),
    "profile": ("/members/mira_member", "member"),
    "profile, comments": ("/members/mira_member?tab=comments", "guest"),
    "account": ("/account", "member"),
    "permalink": ("/comments/{own}", "guest"),
    "reply": ("/comments/{own}/reply", "member"),
    "edit": ("/comments/{own}/edit", "member"),
    "delete": ("/comments/{own}/delete", "member"),
    "404": ("/diseases/no-such-disease", "guest"),
    "contacts": ("/contacts", "member"),
    "connect": ("/members/noor_a11y/connect", "member"),
    "messages": ("/messages", "member"),
    "conversation": ("/messages/{conversation}", "member"),
    "notifications": ("/notifications", "member"),
    "email settings": ("/notifications/settings", "member"),
    "forgot password": ("/password/forgot", "guest"),
    "new password": ("/password/reset/{reset}", "guest"),
    "unsubscribe": ("/unsubscribe/{unsubscribe}", "guest"),
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def all_text(self) -> str:
        parts = list(self.text)
        for child in self.children:
            parts.append(child.all_text())
        return " ".join(p.strip() for p in parts if p.strip())


class Tree(HTMLParser):
    """A small DOM: every element with its attributes, parent, children and text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.elements: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text.append(data)

    def find(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def by_id(self) -> dict[str, Element]:
        return {e.attrs["id"]: e for e in self.elements if "id" in e.attrs}


@pytest.fixture
def site(app, client, make):
    """The demo content, a member with one comment, and a client per kind of visitor."""
    load_demo_content(ROOT / "content")
    member = make.make_user("mira_member")
    question = db.session.scalars(
        select(Question).where(Question.slug == LATEST.rsplit("/", 1)[1])
    ).one()
    own = make_comment(question, member, body="IVIG helped my hands within a few months.")
    # Connect: a conversation, a request waiting, a notification.
    noor = make.make_user("noor_a11y", contact_policy="anyone")
    conversation = make_conversation(member, noor, (noor, "Hello."), (member, "Hi Noor."))
    make_request(make.make_user("sam_a11y"), member, "May we talk?")
    notify(member.id, "message", f"/messages/{conversation.id}", actor=noor)
    db.session.commit()
    login(client, member)
    return {
        "member": client,
        "guest": app.test_client(),
        "own": own.id,
        "conversation": conversation.id,
        "reset": reset_token(verify(noor)),
        "unsubscribe": unsubscribe_token(member.id, "reply"),
    }


def fetch(site, name: str) -> str:
    path, who = PAGES[name]
    response = site[who].get(path.format(**site))
    assert response.status_code == (404 if name == "404" else 200), (name, response.status_code)
    return response.get_data(as_text=True)


def page_title(tree: Tree) -> str:
    """The document's title (an svg's <title> elements name its shapes, not the page)."""
    return next(
        t for t in tree.find("title") if not any(a.tag == "svg" for a in t.ancestors())
    ).all_text()


def accessible_name(element: Element, ids: dict[str, Element]) -> str:
    if element.attrs.get("aria-label", "").strip():
        return element.attrs["aria-label"]
    if element.attrs.get("aria-labelledby"):
        return " ".join(
            ids[i].all_text() for i in element.attrs["aria-labelledby"].split() if i in ids
        )
    name = element.all_text()
    if not name:  # a link or button whose content is an image or an svg with a name
        for child in element.children:
            name = child.attrs.get("alt", "") or child.attrs.get("aria-label", "")
    return name.strip() or element.attrs.get("title", "").strip()


def check_head(tree: Tree) -> list[str]:
    """The language, a zoomable viewport, a title, a description and a favicon."""
    problems = []
    [root] = tree.find("html")
    if root.attrs.get("lang") != "en":
        problems.append("<html> has no lang")
    metas = {m.attrs.get("name"): m.attrs.get("content", "") for m in tree.find("meta")}
    viewport = metas.get("viewport", "")
    if (
        "width=device-width" not in viewport
        or "user-scalable=no" in viewport
        or "maximum-scale" in viewport
    ):
        problems.append(f"viewport: {viewport!r}")
    if len(metas.get("description", "").strip()) < 20:
        problems.append("no meta description")
    title = page_title(tree)
    if not title.endswith("· RareCircle") or len(title) <= len("· RareCircle"):
        problems.append(f"title: {title!r}")
    if not any("icon" in link.attrs.get("rel", "") for link in tree.find("link")):
        problems.append("no favicon")
    return problems


def check_headings(tree: Tree) -> list[str]:
    """One h1, first; no level skipped; none empty."""
    headings = [e for e in tree.elements if re.fullmatch(r"h[1-6]", e.tag)]
    problems = []
    if [h.tag for h in headings].count("h1") != 1 or headings[0].tag != "h1":
        problems.append(f"headings start {[h.tag for h in headings[:3]]}, want one h1 first")
    level = 1
    for heading in headings[1:]:
        new = int(heading.tag[1])
        if new > level + 1:
            problems.append(f"{heading.tag} “{heading.all_text()}” skips a level")
        if not heading.all_text():
            problems.append(f"empty {heading.tag}")
        level = new
    return problems


def check_landmarks(tree: Tree) -> list[str]:
    """One main (the skip link's target, first link of the page), a header, a footer, named navs."""
    problems = []
    mains = tree.find("main")
    if len(mains) != 1 or mains[0].attrs.get("id") != "main":
        problems.append("want one <main id=main>")
    if not (tree.find("header") and tree.find("footer")):
        problems.append("no header or footer")
    problems += [
        f"unnamed nav {n.attrs}" for n in tree.find("nav") if not n.attrs.get("aria-label")
    ]
    first_link = tree.find("a")[0]
    if first_link.attrs.get("href") != "#main" or "skip" not in first_link.all_text().lower():
        problems.append("the first link is not a skip link to #main")
    return problems


def is_control(element: Element) -> bool:
    return element.tag == "button" or (element.tag == "a" and "href" in element.attrs)


def check_controls(tree: Tree) -> list[str]:
    """Every input labelled; every link and button named."""
    ids = tree.by_id()
    labelled = {label.attrs.get("for") for label in tree.find("label")}
    problems = []
    for element in tree.elements:
        if element.tag in ("input", "select", "textarea"):
            kind = element.attrs.get("type", "text")
            if kind in ("hidden", "submit", "button") or "hidden" in element.attrs:
                continue
            if not (
                element.attrs.get("id") in labelled
                or any(a.tag == "label" for a in element.ancestors())
                or element.attrs.get("aria-label")
                or element.attrs.get("aria-labelledby")
            ):
                problems.append(f"unlabelled {element.tag} {element.attrs}")
        elif is_control(element) and not accessible_name(element, ids):
            problems.append(f"{element.tag} without a name: {element.attrs}")
    return problems


def check_graphics(tree: Tree) -> list[str]:
    """Images have alt text; an svg is named (with a role) or hidden."""
    problems = [f"img without alt {i.attrs}" for i in tree.find("img") if "alt" not in i.attrs]
    for svg in tree.find("svg"):
        named = svg.attrs.get("aria-label") or svg.attrs.get("aria-labelledby")
        if not (named or svg.attrs.get("aria-hidden") == "true"):
            problems.append(f"svg neither named nor hidden {svg.attrs}")
        elif named and svg.attrs.get("role") not in ("img", "group", "graphics-document"):
            problems.append(f"named svg without a role {svg.attrs}")
    return problems


def check_ids_and_tabindex(tree: Tree) -> list[str]:
    """Ids unique (so labels find their input), references resolve, no positive tabindex."""
    ids = [e.attrs["id"] for e in tree.elements if "id" in e.attrs]
    known = set(ids)
    problems = [f"duplicate id {i}" for i in sorted(known) if ids.count(i) > 1]
    for element in tree.elements:
        for attribute in ("aria-describedby", "aria-labelledby", "aria-controls"):
            for ref in element.attrs.get(attribute, "").split():
                if ref not in known:
                    problems.append(f"{attribute}={ref} on {element.tag} points nowhere")
        if element.tag == "label" and element.attrs.get("for") not in (None, *known):
            problems.append(f"label for={element.attrs['for']} points nowhere")
        if int(element.attrs.get("tabindex", "0")) > 0:
            problems.append(f"positive tabindex {element.attrs}")
    return problems


CHECKS = [
    check_head,
    check_headings,
    check_landmarks,
    check_controls,
    check_graphics,
    check_ids_and_tabindex,
]


@pytest.mark.parametrize("name", PAGES)
def test_page_is_accessible(site, name):
    tree = Tree(fetch(site, name))

    problems = {check.__name__: found for check in CHECKS if (found := check(tree))}

    assert not problems


def test_titles_and_descriptions_are_unique(site):
    titles, descriptions = {}, {}
    for name in PAGES:
        if name in ("questions, new", "profile, comments", "question, member", "search"):
            continue  # the same page in another order, tab or view
        tree = Tree(fetch(site, name))
        titles.setdefault(page_title(tree), []).append(name)
        [description] = [m for m in tree.find("meta") if m.attrs.get("name") == "description"]
        descriptions.setdefault(description.attrs["content"], []).append(name)

    assert not {t: n for t, n in titles.items() if len(n) > 1}
    assert not {d: n for d, n in descriptions.items() if len(n) > 1}


def test_form_errors_are_tied_to_their_inputs(site):
    guest = site["guest"]
    html = guest.post("/signup", data={"username": "x", "password": "short"}).get_data(as_text=True)
    tree = Tree(html)
    ids = tree.by_id()

    invalid = [e for e in tree.elements if e.attrs.get("aria-invalid") == "true"]
    assert {e.attrs["id"] for e in invalid} >= {"username", "password"}
    for element in invalid:
        described = element.attrs["aria-describedby"].split()
        errors = [ids[i] for i in described if "error" in ids[i].attrs.get("class", "")]
        assert errors and errors[0].all_text(), element.attrs


def test_hints_describe_their_inputs(site):
    tree = Tree(fetch(site, "sign-up"))
    ids = tree.by_id()

    password = ids["password"]
    assert "password-hint" in password.attrs["aria-describedby"].split()
    assert "10 characters" in ids["password-hint"].all_text()


def test_htmx_updates_are_announced_and_keep_focus(site):
    tree = Tree(fetch(site, "question, member"))
    ids = tree.by_id()

    # A posted or deleted comment changes the count inside this heading: it is a live region.
    assert ids["comments-title"].attrs.get("aria-live") == "polite"
    # A vote swaps its whole block; htmx gives focus back to the element with the same id.
    buttons = [b for b in tree.find("button") if "vote-button" in b.attrs.get("class", "")]
    assert buttons and all(b.attrs.get("id") and "aria-pressed" in b.attrs for b in buttons)
    assert ids["htmx-alerts"].attrs.get("aria-live")


# The stylesheet ---------------------------------------------------------------------------

CSS = (ROOT / "static" / "css" / "site.css").read_text()


def colour(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS).group(1)


def contrast(a: str, b: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    "foreground, background, minimum",
    [
        ("ink", "paper", 4.5),
        ("ink", "wash", 4.5),
        ("muted", "paper", 4.5),
        ("muted", "wash", 4.5),
        ("accent", "paper", 4.5),  # the brand, the error code
        ("accent-dark", "paper", 4.5),  # links
        ("accent-dark", "wash", 4.5),
        ("paper", "accent", 4.5),  # button text
        ("paper", "danger", 4.5),
        ("danger", "paper", 4.5),
        ("focus-ring", "paper", 3),  # the focus indicator against the page
        ("focus-ring", "wash", 3),
        ("control-line", "paper", 3),  # input and vote-button borders
    ],
)
def test_stylesheet_colours_meet_wcag_aa(foreground, background, minimum):
    assert contrast(colour(foreground), colour(background)) >= minimum
