"""Factories for comments: rows put straight into the test's database, counters kept true."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from forum.extensions import db
from forum.markdown import render_comment
from forum.models import Comment, Question, User
from forum.models.base import utcnow


def make_comment(
    question: Question,
    author: User | None = None,
    body: str = "A comment.",
    parent: Comment | None = None,
    guest_name: str | None = None,
    age: timedelta = timedelta(0),
    **fields,
) -> Comment:
    """One comment (a reply when `parent` is given); a guest's when no author is given."""
    if author is None and guest_name is None and "author_id" not in fields:
        guest_name = "Visitor"
    comment = Comment(
        question_id=question.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author_id=author.id if author else fields.pop("author_id", None),
        guest_name=guest_name,
        body_md=body,
        body_html=render_comment(body),
        created_at=utcnow() - age,
        **fields,
    )
    db.session.add(comment)
    db.session.flush()
    comment.root_id = parent.root_id if parent else comment.id
    if parent is not None:
        parent.reply_count += 1
    if comment.deleted_at is None and comment.hidden_at is None and comment.held_at is None:
        question.comment_count += 1
    db.session.commit()
    return comment


def make_thread(
    question: Question,
    count: int,
    author: User | None = None,
    chain: bool = False,
    replies_per_root: int = 4,
) -> None:
    """`count` comments in bulk: a chain each answering the last, or threads of a few replies.

    Ids are assigned here so the whole set goes in with one INSERT per batch.
    """
    start = (db.session.query(db.func.max(Comment.id)).scalar() or 0) + 1
    now = utcnow() - timedelta(days=1)
    rows = []
    for n in range(count):
        cid = start + n
        if chain:
            parent, root, depth = (cid - 1 if n else None), start, n
        else:
            offset = n % (replies_per_root + 1)
            root = cid - offset
            parent, depth = (root if offset else None), (1 if offset else 0)
        rows.append(
            {
                "id": cid,
                "question_id": question.id,
                "parent_id": parent,
                "root_id": root,
                "depth": depth,
                "author_id": author.id if author else None,
                "guest_name": None if author else "Visitor",
                "body_md": f"Comment {n}",
                "body_html": f"<p>Comment {n} with <em>some</em> text.</p>",
                "created_at": now + timedelta(seconds=n),
                "reply_count": 0,
            }
        )
    for i in range(0, len(rows), 500):
        db.session.execute(insert(Comment), rows[i : i + 500])
    question.comment_count += count
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            db.text(
                "SELECT setval(pg_get_serial_sequence('comments', 'id'), "
                "(SELECT max(id) FROM comments))"
            )
        )
        db.session.commit()
