"""The rules of commenting: who may post, edit and delete, and what each change stores."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update

from forum import names, pagecache
from forum.auth.service import name_in_use
from forum.extensions import db
from forum.markdown import render_comment
from forum.models.base import utcnow
from forum.models.comments import Comment, CommentRevision
from forum.models.questions import Question
from forum.models.users import User
from forum.moderation.rules import count_links, discussion_problem, link_problem
from forum.notifications.service import notify, path_for

BODY_MAX = 10_000
GUEST_NAME_MIN = 2
GUEST_NAME_MAX = 40
# A second identical comment inside this window is taken to be a double submit.
DUPLICATE_WINDOW = timedelta(minutes=5)


class CommentError(ValueError):
    """A comment could not be stored; `field` names the form field at fault (None: the form)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Poster:
    """Who is posting: a member (user) or a guest with a display name."""

    user: User | None = None
    guest_name: str | None = None
    # A guest's comment waits for a moderator before others see it (GUEST_MODERATION).
    held: bool = False


def clean_body(raw: str) -> str:
    """The text as typed, with browser line endings unified.

    (A NUL character never gets here: forum.security refuses it before any view runs.)
    """
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def check_body(body: str) -> None:
    """Raise CommentError unless the text has 1 to 10,000 characters and is not blank."""
    if not body.strip():
        raise CommentError("Write something before posting.", "body")
    if len(body) > BODY_MAX:
        raise CommentError(
            f"Comments can be at most {BODY_MAX:,} characters; this one has {len(body):,}.",
            "body",
        )


def clean_guest_name(raw: str) -> str:
    """A guest's display name with its spacing tidied (NFC, single spaces, no control chars).

    Dropping every control and format character (category C) removes the bidi overrides and
    isolates too, so a name cannot reverse the text around it.
    """
    name = unicodedata.normalize("NFC", raw)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return " ".join(name.split())


def check_guest_name(name: str) -> None:
    """Raise CommentError unless a guest may use `name`: right length, not reserved, and not a
    member's name however it is written (same confusable skeleton, forum.names)."""
    if len(name) < GUEST_NAME_MIN or len(name) > GUEST_NAME_MAX:
        raise CommentError(
            f"Choose a display name of {GUEST_NAME_MIN} to {GUEST_NAME_MAX} characters.",
            "guest_name",
        )
    if names.is_reserved(name):
        raise CommentError(
            "That name is reserved for the site and its staff. Choose another.", "guest_name"
        )
    if name_in_use(name):
        raise CommentError(
            "A member already uses that name. Choose another, or log in if it is yours.",
            "guest_name",
        )


def lock_question(question_id: int) -> None:
    """Take the question row's write lock now, for the rest of the transaction.

    Posting a comment changes the question's comment_count, so it would take this lock anyway;
    taking it before the double-submit check makes concurrent posts to one question wait for
    each other, and the second then sees the first (PostgreSQL reads committed rows afresh at
    each statement). On SQLite a posting request holds the database's write lock from BEGIN.
    Raises CommentError when the question is gone (deleted since the page was loaded).
    """
    locked = db.session.scalar(
        select(Question.id).where(Question.id == question_id).with_for_update(key_share=True)
    )
    if locked is None:
        raise CommentError("This question has been removed, so nothing was posted.")


def find_parent(question: Question, parent_id: int | None) -> Comment | None:
    """The comment being answered, checked to belong to `question` and to be open for replies."""
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None:
        raise CommentError("The comment you are replying to does not exist.")
    if parent.question_id != question.id:
        raise CommentError("The comment you are replying to belongs to another discussion.")
    if parent.deleted_at is not None or parent.hidden_at is not None:
        raise CommentError("The comment you are replying to has been removed.")
    if parent.held_at is not None:
        raise CommentError("The comment you are replying to is awaiting review.")
    return parent


def recent_duplicate(
    question: Question, poster: Poster, parent: Comment | None, body: str
) -> Comment | None:
    """The poster's identical comment in the same place from the last few minutes, if any."""
    stmt = select(Comment).where(
        Comment.question_id == question.id,
        Comment.body_md == body,
        Comment.created_at >= utcnow() - DUPLICATE_WINDOW,
        Comment.deleted_at.is_(None),
        Comment.parent_id.is_(None) if parent is None else Comment.parent_id == parent.id,
    )
    if poster.user is not None:
        stmt = stmt.where(Comment.author_id == poster.user.id)
    else:
        stmt = stmt.where(Comment.author_id.is_(None), Comment.guest_name == poster.guest_name)
    return db.session.scalar(stmt.order_by(Comment.id.desc()).limit(1))


def post_comment(
    question: Question, poster: Poster, body: str, parent_id: int | None = None
) -> tuple[Comment, bool]:
    """Store a comment (or return the identical one just posted); gives (comment, created).

    The question's comment_count and the parent's reply_count change in the same transaction.
    Refused in a locked or removed discussion, and with too many links for a new member or a
    guest (forum.moderation.rules). The caller commits.
    """
    closed = discussion_problem(question)
    if closed:
        raise CommentError(closed)
    body = clean_body(body)
    check_body(body)
    too_many_links = link_problem(poster.user, body)
    if too_many_links:
        raise CommentError(too_many_links, "body")
    if poster.user is None:
        check_guest_name(poster.guest_name or "")
    lock_question(question.id)
    parent = find_parent(question, parent_id)
    duplicate = recent_duplicate(question, poster, parent, body)
    if duplicate is not None:
        return duplicate, False

    comment = place_comment(
        question.id,
        parent,
        body,
        author_id=poster.user.id if poster.user else None,
        guest_name=None if poster.user else poster.guest_name,
        held_at=utcnow() if poster.held and poster.user is None else None,
    )
    notify_comment(question, parent, comment, poster.user)
    return comment, True


def notify_comment(
    question: Question, parent: Comment | None, comment: Comment, author: User | None
) -> None:
    """Tell the parent comment's author of a reply, and the question's author of a comment,
    in the comment's own transaction; nobody is told of their own words, nobody twice."""
    url = path_for("comments.show", anchor=f"comment-{comment.id}", comment_id=comment.id)
    author_id = author.id if author else None
    told = {author_id}
    if parent is not None and parent.author_id is not None and parent.author_id not in told:
        notify(parent.author_id, "reply", url, actor=author, summary=question.title)
        told.add(parent.author_id)
    if question.author_id is not None and question.author_id not in told:
        notify(question.author_id, "question_comment", url, actor=author, summary=question.title)


def place_comment(question_id: int, parent: Comment | None, body: str, **fields) -> Comment:
    """Store a comment under `parent` (None: a new thread) without checks; gives it flushed.

    Sets depth and root, renders the Markdown once, and counts it on the question (and on
    the parent) in the same transaction. `fields` are the author, a guest's name, and for demo
    content or tests the creation time or a deletion. A comment held for review (`held_at`) is
    not counted until approved. The caller commits.
    """
    # A new thread is its own root: its id is taken first, so the row goes in whole.
    comment_id = None if parent else next_comment_id()
    comment = Comment(
        id=comment_id,
        question_id=question_id,
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else comment_id,
        # The true depth is stored; pages cap the indentation at COMMENT_MAX_DEPTH.
        depth=parent.depth + 1 if parent else 0,
        body_md=body,
        body_html=render_comment(body),
        **fields,
    )
    db.session.add(comment)
    db.session.flush()
    # Counters change with SQL arithmetic so concurrent posts never lose an increment.
    if comment.held_at is None:
        db.session.execute(
            update(Question)
            .where(Question.id == question_id)
            .values(comment_count=Question.comment_count + 1)
            .execution_options(synchronize_session=False)
        )
    if parent is not None:
        db.session.execute(
            update(Comment)
            .where(Comment.id == parent.id)
            .values(reply_count=Comment.reply_count + 1)
            .execution_options(synchronize_session=False)
        )
    pagecache.invalidate_question(question_id)
    return comment


def next_comment_id() -> int:
    """The id the next comment INSERT would get, taken now (for a new thread's root_id).

    PostgreSQL hands it out from the id sequence, so concurrent posts never share one. SQLite
    gives a new row the largest id plus one; a writing request holds the database's write lock
    from its BEGIN (forum.database), so no other writer can take that id first.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.scalar(text("SELECT nextval(pg_get_serial_sequence('comments', 'id'))"))
    return (db.session.scalar(select(func.max(Comment.id))) or 0) + 1


# The rules below take a Comment or a row of forum.comments.threads.comment_rows (anything
# with author_id, created_at, deleted_at and hidden_at), so pages and actions share them.


def is_author(comment, user_id: int | None) -> bool:
    """True when the member `user_id` (None for a visitor) wrote `comment`."""
    return user_id is not None and comment.author_id == user_id


def can_edit(comment, user_id: int | None, edit_minutes: int, now: datetime | None = None) -> bool:
    """The author may edit a live comment within the edit window."""
    return (
        is_author(comment, user_id)
        and comment.deleted_at is None
        and comment.hidden_at is None
        and (now or utcnow()) < comment.created_at + timedelta(minutes=edit_minutes)
    )


def can_delete(comment, user_id: int | None) -> bool:
    """The author may delete their own comment at any time."""
    return is_author(comment, user_id) and comment.deleted_at is None


def edit_comment(comment: Comment, body: str) -> None:
    """Replace the text, keeping the previous version as a revision. The caller commits.

    The comment row is read again under its write lock first: the same edit sent twice at once
    (a double submit) then finds the text already changed and keeps no second revision.
    """
    body = clean_body(body)
    check_body(body)
    db.session.refresh(comment, with_for_update={"key_share": True})
    if body == comment.body_md:
        return
    author = db.session.get(User, comment.author_id) if comment.author_id else None
    too_many_links = link_problem(author, body)
    if too_many_links and count_links(body) > count_links(comment.body_md):
        raise CommentError(too_many_links, "body")
    db.session.add(
        CommentRevision(
            comment_id=comment.id,
            body_md=comment.body_md,
            created_at=comment.edited_at or comment.created_at,
        )
    )
    comment.body_md = body
    comment.body_html = render_comment(body)
    comment.edited_at = utcnow()
    pagecache.invalidate_question(comment.question_id)


def delete_confirmed(form) -> bool:
    """True when a delete request carries the author's confirmation (`confirm=yes`).

    The confirmation page sends it from a hidden field; htmx sends it after its dialog.
    """
    return form.get("confirm") == "yes"


def delete_comment(comment: Comment) -> None:
    """Mark the comment deleted; its text stays in the database for moderators.

    The question's comment_count drops in the same transaction, once: the row is marked by a
    conditional UPDATE, so a delete sent twice at once (a double click) finds it marked
    already and changes nothing. The caller commits.
    """
    marked = db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.deleted_at.is_(None))
        .values(deleted_at=utcnow())
        .returning(Comment.hidden_at, Comment.held_at)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.expire(comment, ["deleted_at", "hidden_at", "held_at"])
    if marked is None:
        return
    was_counted = marked.hidden_at is None and marked.held_at is None
    pagecache.invalidate_question(comment.question_id)
    if was_counted:
        db.session.execute(
            update(Question)
            .where(Question.id == comment.question_id)
            .values(comment_count=Question.comment_count - 1)
            .execution_options(synchronize_session=False)
        )


def true_comment_count(question_id: int) -> int:
    """How many comments of the question are visible: not deleted, hidden or held for review."""
    stmt = select(func.count(Comment.id)).where(
        Comment.question_id == question_id,
        Comment.deleted_at.is_(None),
        Comment.hidden_at.is_(None),
        Comment.held_at.is_(None),
    )
    return db.session.scalar(stmt) or 0


def recount_comments(question_id: int) -> None:
    """Set the question's comment_count to the true count (for moderation and repairs)."""
    db.session.execute(
        update(Question)
        .where(Question.id == question_id)
        .values(comment_count=true_comment_count(question_id))
        .execution_options(synchronize_session=False)
    )
    pagecache.invalidate_question(question_id)
