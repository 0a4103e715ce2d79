"""Small factories that put rows straight into the test's database."""

from __future__ import annotations

import itertools
from datetime import timedelta

from forum.auth.passwords import hash_password
from forum.extensions import db
from forum.markdown import render_article
from forum.models import Disease, MapEntry, Question, User, Vote
from forum.models.base import utcnow
from forum.text import slugify, title_key

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
    **fields,
) -> Question:
    disease = disease or make_disease()
    title = title or f"Question number {next(_sequence)} about {disease.name}?"
    question = Question(
        disease_id=disease.id,
        slug=slugify(title),
        title=title,
        title_key=title_key(title),
        body_md=body,
        body_html=render_article(body),
        created_at=utcnow() - age,
        **fields,
    )
    db.session.add(question)
    disease.question_count += 1
    db.session.flush()
    for _ in range(votes):
        db.session.add(Vote(question_id=question.id, user_id=make_user().id))
        question.vote_count += 1
    db.session.commit()
    return question


def make_map_entry(disease: Disease, user: User | None = None, country: str = "FR", **fields):
    user = user or make_user()
    entry = MapEntry(
        disease_id=disease.id,
        user_id=user.id,
        country=country,
        role=fields.pop("role", "patient"),
        **fields,
    )
    db.session.add(entry)
    disease.member_count += 1
    db.session.commit()
    return entry
