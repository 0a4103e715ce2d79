"""What a refused comment post answers: the form again, with the typed text and the reason.

A form with errors answers 422, a rate limit 429, to a page request and to htmx alike (the
page's htmx configuration swaps 4xx answers): htmx gets the form fragment back in its place,
a page request the reply page or the question page with the form filled in.
"""

from __future__ import annotations

from flask import render_template

from forum.comments import threads
from forum.comments.forms import CommentForm
from forum.comments.section import current_viewer, reply_form, top_form
from forum.comments.service import CommentError
from forum.comments.threads import ThreadItem
from forum.extensions import db
from forum.htmx import wants_fragment
from forum.models.comments import Comment
from forum.models.questions import Question
from forum.questions.pages import render_question_page


def form_fragment(question: Question, form: CommentForm) -> str:
    """The posted form as a fragment, placed back where it was: under a comment or on top."""
    raw_parent = (form.parent_id.data or "").strip()
    if raw_parent:
        parent_id = int(raw_parent) if raw_parent.isascii() and raw_parent.isdigit() else 0
        reply_form(question, parent_id, form)
    else:
        top_form(question, form)
    return render_template("comments/_form.html", form=form)


def refused(question: Question, form: CommentForm, error: CommentError, status: int = 422):
    """The form again with the message and the typed text; nothing was stored."""
    db.session.rollback()
    form.show_error(error)
    if wants_fragment():
        return form_fragment(question, form), status
    raw_parent = (form.parent_id.data or "").strip()
    parent = _shown_parent(question, form) if raw_parent else None
    if parent is not None:
        reply_form(question, parent.id, form)
        return render_template(
            "comments/reply.html", question=question, parent=parent, form=form
        ), status
    # No parent to show the reply under: the main box takes the text and the message.
    form.parent_id.data = ""
    return render_question_page(question, comment_form=form, status=status)


def _shown_parent(question: Question, form: CommentForm) -> ThreadItem | None:
    """The comment a refused reply answers, when it can still be replied to on this page."""
    try:
        parent_id = form.parent_value()
    except CommentError:
        return None
    parent = db.session.get(Comment, parent_id) if parent_id else None
    if parent is None or parent.question_id != question.id:
        return None
    item = threads.single_item(question, parent, current_viewer())
    return item if item and item.can_reply else None
