"""What a refused comment post answers: the form again, with the typed text and the reason.

A form with errors answers 422, a rate limit 429, a repeat 409, to a page request and to htmx
alike (the page's htmx configuration swaps 4xx answers): htmx gets the form fragment back in its
place, a page request the question page opened at the form, with the form filled in. A form
from a tab whose login or session ended comes back the same way, with what to do.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from forum import errors, htmx
from forum.comments import service, threads
from forum.comments.forms import CommentForm
from forum.comments.section import (
    OpenForm,
    current_viewer,
    edit_form,
    question_url,
    reply_form,
    top_form,
)
from forum.comments.service import CommentError
from forum.comments.threads import ThreadItem
from forum.extensions import db
from forum.models.comments import Comment
from forum.models.questions import Question
from forum.questions.pages import render_question_page
from forum.redirects import login_url, referring_page

LOGGED_OUT = (
    "You were logged out, so this was not posted. Log in again, then post it: "
    "your text is kept here."
)

EXPIRED = "This form had expired, so nothing was posted. Your text is kept: post it once more."

LOGGED_IN_AGAIN = (
    "This page is from before you logged in again, so nothing was posted yet. "
    "Your text is kept: post it once more."
)

REPEATED = "You posted exactly this here a moment ago, so it was not posted twice."


def _shown_parent(question: Question, form: CommentForm) -> ThreadItem | None:
    """The comment a posted reply answers, when it is still shown and open for replies (a
    member logged out meanwhile still gets their reply form back under it)."""
    try:
        parent_id = form.parent_value()
    except CommentError:
        return None
    parent = db.session.get(Comment, parent_id) if parent_id else None
    if parent is None or parent.question_id != question.id:
        return None
    item = threads.single_item(question, parent, current_viewer())
    return item if item and not item.tombstone else None


def form_fragment(question: Question, form: CommentForm) -> str:
    """The posted form as a fragment, placed back where it was: under a comment or on top."""
    raw_parent = (form.parent_id.data or "").strip()
    if raw_parent:
        parent_id = int(raw_parent) if raw_parent.isascii() and raw_parent.isdigit() else 0
        reply_form(question, parent_id, form)
    else:
        top_form(question, form)
    return render_template("comments/_form.html", form=form)


def _form_again(question: Question, form: CommentForm, status: int, comment: Comment | None = None):
    """The posted form again, with its text and its message: a fragment for htmx, else the
    question page scrolled to the form (the form's action carries its anchor).

    `comment` is the comment being edited (None for a comment or a reply). A reply whose parent
    can still be answered comes back under it; otherwise the main box takes the text.
    """
    viewer = current_viewer()
    if comment is not None:
        item = threads.single_item(question, comment, viewer)
        edit_form(comment, form)
        if htmx.wants_fragment():
            return render_template("comments/_edit_form.html", form=form, c=item), status
        open_form = OpenForm(comment.id, form, editing=True)
        return _question_page_with(question, form, status, open_form=open_form)
    if htmx.wants_fragment():
        return form_fragment(question, form), status
    raw_parent = (form.parent_id.data or "").strip()
    parent = _shown_parent(question, form) if raw_parent else None
    if parent is not None:
        reply_form(question, parent.id, form)
        return _question_page_with(question, form, status, open_form=OpenForm(parent.id, form))
    # No parent to show the reply under: the main box takes the text and the message.
    form.parent_id.data = ""
    return _question_page_with(question, form, status)


def _question_page_with(
    question: Question, form: CommentForm, status: int, open_form: OpenForm | None = None
):
    problem = form.general_error or next(iter(form.body.errors or form.guest_name.errors), None)
    return render_question_page(
        question,
        comment_form=None if open_form else form,
        status=status,
        open_form=open_form,
        problem=problem,
    )


def refused(
    question: Question, form: CommentForm, error: CommentError, comment=None, status: int = 422
):
    """The form again with the message and the typed text; nothing was stored."""
    db.session.rollback()
    form.show_error(error)
    return _form_again(question, form, status, comment)


def logged_out(
    question: Question, form: CommentForm, comment: Comment | None = None, status: int = 401
):
    """A member's form arriving from a tab whose login ended: the text comes back with a link
    to log in again (in a new tab, so this one keeps the text); nothing is posted."""
    form.show_error(CommentError(LOGGED_OUT))
    anchor = f"edit-form-{comment.id}" if comment else "comment-form"
    why = "edit" if comment else ("reply" if (form.parent_id.data or "").strip() else "comment")
    form.error_link = ("Log in again", login_url(question_url(question, _anchor=anchor), why), True)
    return _form_again(question, form, status, comment)


def _same_site_request() -> bool:
    """True when the browser says the request comes from one of this site's pages."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.host
    return referring_page() is not None


def stale_form(exc: CSRFError):
    """A comment or an edit whose CSRF token no longer matches the session, posted from one of
    this site's pages: the tab was opened before a logout, a login or the session's end. The
    form comes back with the text, a fresh token and what to do; anything else (and any post
    from elsewhere) gets the site's 400."""
    if request.endpoint not in ("comments.create", "comments.update") or not _same_site_request():
        return errors.csrf_refused()
    args = request.view_args or {}
    comment = None
    if request.endpoint == "comments.update":
        comment = db.session.get(Comment, args.get("comment_id"))
        question = db.session.get(Question, comment.question_id) if comment else None
    else:
        question = db.session.get(Question, args.get("question_id"))
    if question is None:
        return errors.csrf_refused()
    if (
        comment
        and current_user.is_authenticated
        and not service.is_author(comment, current_user.id)
    ):
        return errors.csrf_refused()
    form = CommentForm()
    if not current_user.is_authenticated and (comment or form.written_as_member()):
        return logged_out(question, form, comment, status=400)
    if current_user.is_authenticated:
        form.show_error(CommentError(LOGGED_IN_AGAIN))
        form.as_member.data = "1"
    else:
        form.show_error(CommentError(EXPIRED))  # a visitor's form, from an older session
    return _form_again(question, form, 400, comment)
