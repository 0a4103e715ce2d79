"""Factories for the tests' rows. Whatever has a service goes through it (asking, voting,
joining a map, placing a comment), so counters, roots and depths come out as the site makes
them; members, diseases and articles are plain rows."""

from __future__ import annotations

import itertools
from datetime import timedelta

from forum.auth.passwords import hash_password
from forum.comments.service import delete_comment, place_comment, recount_comments
from forum.extensions import db
from forum.maps.service import EntryFields, join
from forum.markdown import render_article
from forum.models import Comment, Disease, MapEntry, Question, User
from forum.models.base import utcnow
from forum.questions.service import ask_question
from forum.questions.voting import set_vote
from forum.text import slugify

_sequence = itertools.count(1)
PASSWORD = "correct horse battery"
_password_hash: str | None = None


def _hashed_password() -> str:
    # Hashing with Argon2 takes tens of milliseconds; every factory member shares one hash.
    global _password_hash
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)
    return _password_hash


def make_user(username: str | None = None, role: str = "member", **fields) -> User:
    """A member whose password is PASSWORD."""
    username = username or f"member{next(_sequence)}"
    user = User(
        username=username,
        username_key=username.lower(),
        password_hash=_hashed_password(),
        role=role,
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_disease(name: str = "Scleromyxedema", synonyms=("Arndt-Gottron syndrome",), **fields):
    disease = Disease(
        slug=fields.pop("slug", slugify(name)),
        overview=fields.pop("overview", f"{name} is a rare disease."),
        **fields,
    )
    disease.set_names(name, list(synonyms))
    db.session.add(disease)
    db.session.commit()
    return disease


def make_question(
    disease: Disease | None = None,
    title: str | None = None,
    votes: int = 0,
    age: timedelta = timedelta(0),
    body: str = "An article.",
    prompt: str = "",
    author_id: int | None = None,
) -> Question:
    """A question asked through the service (by `author_id`, or nobody), with an article and
    `votes` upvotes from new members."""
    disease = disease or make_disease()
    title = title or f"Question number {next(_sequence)} about {disease.name}?"
    author = db.session.get(User, author_id) if author_id else None
    question = ask_question(disease, author, title, prompt)
    question.body_md = body
    question.body_html = render_article(body)
    question.created_at = utcnow() - age
    db.session.commit()
    for _ in range(votes):
        vote(question, make_user())
    return question


def vote(question: Question, user: User) -> None:
    """`user` upvotes `question` (set_vote: asking again changes nothing)."""
    set_vote(question, user, wanted=True)
    db.session.commit()


def make_map_entry(
    disease: Disease,
    user: User | None = None,
    country: str = "FR",
    role: str = "patient",
    region: str | None = None,
    since_year: int | None = None,
    anonymous: bool = False,
) -> MapEntry:
    """`user` (a new member if None) joins the disease's map."""
    entry = join(
        disease,
        user or make_user(),
        EntryFields(role, country, region, since_year, anonymous),
    )
    db.session.commit()
    return entry


def make_comment(
    question: Question,
    author: User | None = None,
    body: str = "A comment.",
    parent: Comment | None = None,
    guest_name: str = "Visitor",
    age: timedelta = timedelta(0),
    deleted: bool = False,
    hidden: bool = False,
    **fields,
) -> Comment:
    """A comment placed by the service (a reply when `parent` is given): the member's, else a
    guest's. `deleted` removes it as its author would; `hidden` hides it as a moderator would,
    and recounts the question; `fields` go to the service (`held_at` holds it for review)."""
    comment = place_comment(
        question.id,
        parent,
        body,
        author_id=author.id if author else None,
        guest_name=None if author else guest_name,
        created_at=utcnow() - age,
        **fields,
    )
    if deleted:
        delete_comment(comment)
    if hidden:
        comment.hidden_at = utcnow()
        recount_comments(question.id)
    db.session.commit()
    return comment


def make_thread(
    question: Question,
    count: int,
    author: User | None = None,
    chain: bool = False,
    replies_per_root: int = 4,
) -> None:
    """`count` comments: a chain each answering the last, or threads of a few replies each."""
    fields = {"author_id": author.id} if author else {"guest_name": "Visitor"}
    start = utcnow() - timedelta(days=1)
    parent = root = None
    for n in range(count):
        if chain:
            parent = root = place_comment(
                question.id,
                parent,
                f"Comment {n}",
                created_at=start + timedelta(seconds=n),
                **fields,
            )
            continue
        is_root = n % (replies_per_root + 1) == 0
        comment = place_comment(
            question.id,
            None if is_root else root,
            f"Comment {n} with *some* text.",
            created_at=start + timedelta(seconds=n),
            **fields,
        )
        if is_root:
            root = comment
    db.session.commit()
