"""Members asking new questions: title rules, duplicate refusal, a free slug per disease."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from forum import pagecache
from forum.extensions import db
from forum.models import Disease, Question, User
from forum.models.questions import question_by_title_key, slugs_like
from forum.text import QUESTION_MARKS, question_mark_for, slugify, strip_bidi_controls, title_key

TITLE_MIN = 10
TITLE_MAX = 200
PROMPT_MAX = 300
# Paths of the questions blueprint that a question slug must not shadow.
RESERVED_SLUGS = frozenset({"ask"})
_SPACES = re.compile(r"\s+")


class DuplicateQuestion(Exception):
    """The disease already has a question with the same normalized title."""

    def __init__(self, existing: Question):
        super().__init__(existing.title)
        self.existing = existing


def one_line(text: str | None) -> str:
    """The text with runs of whitespace (newlines included) folded into single spaces, and
    without bidi controls (a title must not reverse the text around it)."""
    return _SPACES.sub(" ", strip_bidi_controls(text or "")).strip()


def normalize_title(text: str) -> str:
    """The title on one line, ending with a question mark of its script ("?", "؟", "？")."""
    title = one_line(text)
    return title if title.endswith(QUESTION_MARKS) else title + question_mark_for(title)


def free_slug(disease_id: int, title: str) -> str:
    """A slug for the title not yet used by the disease's questions: base, base-2, base-3..."""
    base = slugify(title, max_length=TITLE_MAX)
    taken = slugs_like(disease_id, base) | RESERVED_SLUGS
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def ask_question(disease: Disease, author: User | None, title: str, prompt: str = "") -> Question:
    """Add a question to a disease: a member's, or without an author (the caller commits).

    Raises DuplicateQuestion when the normalized title is taken. The disease's question
    count changes in the same transaction, by an UPDATE done in the database.
    """
    title = normalize_title(title)
    key = title_key(title)
    for _attempt in range(3):
        existing = question_by_title_key(disease.id, key)
        if existing is not None:
            raise DuplicateQuestion(existing)
        question = Question(
            disease_id=disease.id,
            slug=free_slug(disease.id, title),
            title=title,
            title_key=key,
            prompt=one_line(prompt),
            author_id=author.id if author else None,
        )
        try:
            # A savepoint: a concurrent request that took the title or slug first only
            # undoes this INSERT, and the loop looks again.
            with db.session.begin_nested():
                db.session.add(question)
        except IntegrityError:
            continue
        db.session.execute(
            update(Disease)
            .where(Disease.id == disease.id)
            .values(question_count=Disease.question_count + 1),
            execution_options={"synchronize_session": False},
        )
        pagecache.invalidate_disease(disease.id)
        return question
    raise RuntimeError("could not find a free slug for the question")
