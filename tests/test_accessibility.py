"""Accessibility checks that need no browser: the HTML of every kind of page, and the stylesheet.

Each page of the seeded demo site is parsed (tests/html.py) and checked
for what a screen reader or keyboard user depends on: the language, a viewport, one h1 and
headings in order, its own title and description, landmarks and a working skip link, a label for
every input, names for every link, button and graphic, ids that are unique and references that
resolve, and no positive tabindex. The stylesheet's colours are checked against WCAG AA.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.auth.service import reset_token
from forum.extensions import db
from forum.mail.service import unsubscribe_token
from forum.models import Question, Report, User
from forum.notifications.service import notify
from forum.seed import load_demo_content
from tests.conftest import login
from tests.connect_factories import make_conversation, make_request, verify
from tests.factories import make_comment
from tests.html import Tag, parse, text

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
    "report a comment": ("/moderation/report/comment/{own}", "moderator"),
    "moderation queue": ("/moderation", "moderator"),
    "moderate a comment": ("/moderation/items/comment/{own}", "moderator"),
    "bans": ("/moderation/bans", "moderator"),
    "moderation log": ("/moderation/log", "guest"),
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


@pytest.fixture
def site(app, client, make):
    """The demo content, a member with one comment, and a client per kind of visitor."""
    load_demo_content(ROOT / "content", demo_login=True)
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
    # The demo moderator, with one report in the queue and one entry in the log.
    moderator = app.test_client()
    login(moderator, db.session.scalars(select(User).where(User.username_key == "moderator")).one())
    reporter = make.make_user("rita_reporter")
    db.session.add(
        Report(
            target_type="comment",
            target_id=own.id,
            reporter_id=reporter.id,
            reason="self_harm",
            note="Worried about this member.",
        )
    )
    db.session.commit()
    moderator.post(f"/moderation/questions/{question.id}/lock")
    moderator.post(f"/moderation/questions/{question.id}/unlock")
    return {
        "member": client,
        "guest": app.test_client(),
        "moderator": moderator,
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


def by_id(tree: Tag) -> dict[str, Tag]:
    return {element["id"]: element for element in tree.find_all(id=True)}


def page_title(tree: Tag) -> str:
    """The document's title (an svg's <title> elements name its shapes, not the page)."""
    return next(text(t) for t in tree.find_all("title") if t.find_parent("svg") is None)


def accessible_name(element: Tag, ids: dict[str, Tag]) -> str:
    if element.attrs.get("aria-label", "").strip():
        return element.attrs["aria-label"]
    if element.attrs.get("aria-labelledby"):
        return " ".join(text(ids[i]) for i in element.attrs["aria-labelledby"].split() if i in ids)
    name = text(element)
    if not name:  # a link or button whose content is an image or an svg with a name
        for child in element.find_all(True, recursive=False):
            name = child.attrs.get("alt", "") or child.attrs.get("aria-label", "")
    return name.strip() or element.attrs.get("title", "").strip()


def check_head(tree: Tag) -> list[str]:
    """The language, a zoomable viewport, a title, a description and a favicon."""
    problems = []
    [root] = tree.find_all("html")
    if root.attrs.get("lang") != "en":
        problems.append("<html> has no lang")
    metas = {m.attrs.get("name"): m.attrs.get("content", "") for m in tree.find_all("meta")}
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
    if not any("icon" in link.attrs.get("rel", "") for link in tree.find_all("link")):
        problems.append("no favicon")
    return problems


def check_headings(tree: Tag) -> list[str]:
    """One h1, first; no level skipped; none empty."""
    headings = tree.find_all(re.compile(r"^h[1-6]$"))
    problems = []
    if [h.name for h in headings].count("h1") != 1 or headings[0].name != "h1":
        problems.append(f"headings start {[h.name for h in headings[:3]]}, want one h1 first")
    level = 1
    for heading in headings[1:]:
        new = int(heading.name[1])
        if new > level + 1:
            problems.append(f"{heading.name} “{text(heading)}” skips a level")
        if not text(heading):
            problems.append(f"empty {heading.name}")
        level = new
    return problems


def check_landmarks(tree: Tag) -> list[str]:
    """One main (the skip link's target, first link of the page), a header, a footer, named navs."""
    problems = []
    mains = tree.find_all("main")
    if len(mains) != 1 or mains[0].attrs.get("id") != "main":
        problems.append("want one <main id=main>")
    if not (tree.find_all("header") and tree.find_all("footer")):
        problems.append("no header or footer")
    problems += [
        f"unnamed nav {n.attrs}" for n in tree.find_all("nav") if not n.attrs.get("aria-label")
    ]
    first_link = tree.find("a")
    if first_link.attrs.get("href") != "#main" or "skip" not in text(first_link).lower():
        problems.append("the first link is not a skip link to #main")
    return problems


def is_control(element: Tag) -> bool:
    return element.name == "button" or (element.name == "a" and "href" in element.attrs)


def check_controls(tree: Tag) -> list[str]:
    """Every input labelled; every link and button named."""
    ids = by_id(tree)
    labelled = {label.attrs.get("for") for label in tree.find_all("label")}
    problems = []
    for element in tree.find_all(True):
        if element.name in ("input", "select", "textarea"):
            kind = element.attrs.get("type", "text")
            if kind in ("hidden", "submit", "button") or "hidden" in element.attrs:
                continue
            if not (
                element.attrs.get("id") in labelled
                or element.find_parent("label") is not None
                or element.attrs.get("aria-label")
                or element.attrs.get("aria-labelledby")
            ):
                problems.append(f"unlabelled {element.name} {element.attrs}")
        elif is_control(element) and not accessible_name(element, ids):
            problems.append(f"{element.name} without a name: {element.attrs}")
    return problems


def check_graphics(tree: Tag) -> list[str]:
    """Images have alt text; an svg is named (with a role) or hidden."""
    problems = [f"img without alt {i.attrs}" for i in tree.find_all("img") if "alt" not in i.attrs]
    for svg in tree.find_all("svg"):
        named = svg.attrs.get("aria-label") or svg.attrs.get("aria-labelledby")
        if not (named or svg.attrs.get("aria-hidden") == "true"):
            problems.append(f"svg neither named nor hidden {svg.attrs}")
        elif named and svg.attrs.get("role") not in ("img", "group", "graphics-document"):
            problems.append(f"named svg without a role {svg.attrs}")
    return problems


def check_ids_and_tabindex(tree: Tag) -> list[str]:
    """Ids unique (so labels find their input), references resolve, no positive tabindex."""
    ids = [e.attrs["id"] for e in tree.find_all(id=True)]
    known = set(ids)
    problems = [f"duplicate id {i}" for i in sorted(known) if ids.count(i) > 1]
    for element in tree.find_all(True):
        for attribute in ("aria-describedby", "aria-labelledby", "aria-controls"):
            for ref in element.attrs.get(attribute, "").split():
                if ref not in known:
                    problems.append(f"{attribute}={ref} on {element.name} points nowhere")
        if element.name == "label" and element.attrs.get("for") not in (None, *known):
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
    tree = parse(fetch(site, name))

    problems = {check.__name__: found for check in CHECKS if (found := check(tree))}

    assert not problems


def test_titles_and_descriptions_are_unique(site):
    titles, descriptions = {}, {}
    for name in PAGES:
        if name in ("questions, new", "profile, comments", "question, member", "search"):
            continue  # the same page in another order, tab or view
        tree = parse(fetch(site, name))
        titles.setdefault(page_title(tree), []).append(name)
        [description] = tree.select('meta[name="description"]')
        descriptions.setdefault(description.attrs["content"], []).append(name)

    assert not {t: n for t, n in titles.items() if len(n) > 1}
    assert not {d: n for d, n in descriptions.items() if len(n) > 1}


def test_form_errors_are_tied_to_their_inputs(site):
    guest = site["guest"]
    html = guest.post("/signup", data={"username": "x", "password": "short"}).get_data(as_text=True)
    tree = parse(html)
    ids = by_id(tree)

    invalid = tree.select('[aria-invalid="true"]')
    assert {e.attrs["id"] for e in invalid} >= {"username", "password"}
    for element in invalid:
        described = element.attrs["aria-describedby"].split()
        errors = [ids[i] for i in described if "error" in ids[i].attrs.get("class", "")]
        assert errors and text(errors[0]), element.attrs


def test_hints_describe_their_inputs(site):
    tree = parse(fetch(site, "sign-up"))
    ids = by_id(tree)

    password = ids["password"]
    assert "password-hint" in password.attrs["aria-describedby"].split()
    assert "10 characters" in text(ids["password-hint"])


def test_htmx_updates_are_announced_and_keep_focus(site):
    tree = parse(fetch(site, "question, member"))
    ids = by_id(tree)

    # A posted or deleted comment changes the count inside this heading: it is a live region.
    assert ids["comments-title"].attrs.get("aria-live") == "polite"
    # A vote swaps its whole block; htmx gives focus back to the element with the same id.
    buttons = tree.select("button.vote-button")
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
