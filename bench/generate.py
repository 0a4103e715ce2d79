"""Benchmark data: the demo content plus a long comment thread under the latest-advances article."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from forum.comments.service import place_comment
from forum.extensions import db
from forum.models import Comment, Question, User
from forum.models.base import utcnow
from forum.seed import load_demo_content

CONTENT = Path(__file__).resolve().parents[1] / "content"
BIG_QUESTION = "what-are-the-latest-advances-in-scleromyxedema"
PHRASES = [
    "IVIG every four weeks has made a real difference to my hands.",
    "None that I can see.",
    "My dermatologist suggested *physiotherapy* twice a week, which helps with stiffness.",
    "Has anyone tried photopheresis? I would love to hear how it went.",
    "We travelled to a specialist centre and it was worth it.\n\n- ask for a haematology review\n- keep a symptom diary",  # noqa: E501
]


def build(comments: int = 200, seed: int = 7) -> None:
    """Load the demo content and add `comments` comments (a third of them replies)."""
    load_demo_content(CONTENT)
    rng = random.Random(seed)
    question = db.session.scalar(select(Question).where(Question.slug == BIG_QUESTION))
    authors = list(db.session.scalars(select(User).order_by(User.id)))
    existing = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.question_id == question.id)
    )
    start = utcnow() - timedelta(days=30)
    made: list[Comment] = []
    for n in range(existing, comments):
        text = rng.choice(PHRASES)
        parent = rng.choice(made) if made and rng.random() < 0.35 else None
        comment = place_comment(
            question.id,
            parent,
            text,
            author_id=rng.choice(authors).id,
            created_at=start + timedelta(minutes=n),
        )
        made.append(comment)
    db.session.commit()
