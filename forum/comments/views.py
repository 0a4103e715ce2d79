"""Comment views: each URL answers a plain form post (303) and an htmx request (a fragment).

Validation errors answer 422: a plain post gets the page again with the typed text, an htmx
request the form fragment with the text and the message (the page's htmx config swaps 4xx), so
the form is what the request gets back. Errors that are not about the form, such as 403 or
413, come from forum.errors and land in the page's alert region.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from forum import errors, htmx
from forum.comments import service, threads
from forum.comments.forms import CommentForm
from forum.comments.section import (
    current_viewer,
    edit_form,
    more_hx_url,
    order_arg,
    question_url,
    reply_form,
    top_form,
)
from forum.comments.service import CommentError, Poster
from forum.comments.threads import ORDERS, ThreadItem
from forum.extensions import db, limiter
from forum.limits import member_or_address, setting
from forum.models.comments import Comment
from forum.models.diseases import Disease
from forum.models.questions import Question
from forum.moderation.held import guests_are_held, remember_held_comment
from forum.questions.pages import render_question_page

bp = Blueprint("comments", __name__)


# -- rate limits: per member for members, per IP address for guests (stricter) ---------------


def _is_member() -> bool:
    return current_user.is_authenticated


def _is_guest() -> bool:
    return not current_user.is_authenticated


limit_members = limiter.shared_limit(
    setting("RATELIMIT_POST_MEMBER"),
    scope="comment-post-member",
    key_func=member_or_address,
    exempt_when=_is_guest,
    methods=["POST"],
)
limit_guests = limiter.shared_limit(
    setting("RATELIMIT_POST_GUEST"),
    scope="comment-post-guest",
    key_func=get_remote_address,
    exempt_when=_is_member,
    methods=["POST"],
)


# -- helpers the views share ---------------------------------------------------------------


def _poster() -> Poster | None:
    """The member posting, a guest with the name they typed, or None if guests may not post."""
    if current_user.is_authenticated:
        return Poster(user=current_user._get_current_object())
    if current_app.config["GUEST_COMMENTS"]:
        return Poster(
            guest_name=service.clean_guest_name(request.form.get("guest_name", "")),
            held=guests_are_held(),
        )
    return None


def _own_comment_or_403(comment_id: int) -> Comment:
    """The logged-in member's comment (callers are login_required), or 404/403."""
    comment = db.get_or_404(Comment, comment_id)
    if not service.is_author(comment, current_user.id):
        abort(403)
    return comment


def _shown_parent(question: Question, form: CommentForm) -> ThreadItem | None:
    try:
        parent_id = form.parent_value()
    except CommentError:
        return None
    parent = db.session.get(Comment, parent_id) if parent_id else None
    if parent is None or parent.question_id != question.id:
        return None
    item = threads.single_item(question, parent, current_viewer())
    return item if item and item.can_reply else None


def _form_fragment(question: Question, form: CommentForm) -> str:
    """The posted form as a fragment, placed back where it was: under a comment or on top."""
    raw_parent = (form.parent_id.data or "").strip()
    if raw_parent:
        parent_id = int(raw_parent) if raw_parent.isascii() and raw_parent.isdigit() else 0
        reply_form(question, parent_id, form)
    else:
        top_form(question, form)
    return render_template("comments/_form.html", form=form)


def _refused(question: Question, form: CommentForm, error: CommentError):
    """The form again with the message and the typed text; nothing was stored."""
    db.session.rollback()
    form.show_error(error)
    raw_parent = (form.parent_id.data or "").strip()
    if htmx.wants_fragment():
        return _form_fragment(question, form)
    parent = _shown_parent(question, form) if raw_parent else None
    if parent is not None:
        reply_form(question, parent.id, form)
        return render_template(
            "comments/reply.html", question=question, parent=parent, form=form
        ), 422
    # No parent to show the reply under: the main box takes the text and the message.
    form.parent_id.data = ""
    return render_question_page(question, comment_form=form, status=422)


def _fresh_count(question_id: int) -> int:
    question = db.session.get(Question, question_id)
    db.session.refresh(question, ["comment_count"])
    return question.comment_count


TOO_FAST = "You are posting faster than this site allows. Wait a minute, then post again."


@bp.errorhandler(RateLimitExceeded)
def too_fast(exc: RateLimitExceeded):
    """A limited htmx post gets its form back, text kept, with a message (429, which the
    page's htmx configuration swaps); anything else gets the site's 429 page."""
    if htmx.wants_fragment() and request.endpoint == "comments.create":
        question = db.session.get(Question, request.view_args["question_id"])
        if question is not None:
            form = CommentForm()
            form.show_error(CommentError(TOO_FAST))
            return _form_fragment(question, form), 429, {"Retry-After": "60"}
    return errors._rate_limited(exc)


# -- views ---------------------------------------------------------------------------------


@bp.post("/questions/<int:question_id>/comments")
@limit_members
@limit_guests
def create(question_id: int):
    """Post a comment or a reply; gives the new comment (htmx) or a redirect to it."""
    question = db.get_or_404(Question, question_id)
    poster = _poster()
    if poster is None:
        return current_app.login_manager.unauthorized()
    form = CommentForm()
    try:
        comment, created = service.post_comment(
            question, poster, form.body.data or "", form.parent_value()
        )
    except CommentError as error:
        return _refused(question, form, error)
    db.session.commit()
    if poster.guest_name:
        session["guest_name"] = poster.guest_name
    if comment.held_at is not None:
        remember_held_comment(comment.id)
    if not htmx.wants_fragment():
        return redirect(
            url_for("comments.show", comment_id=comment.id, _anchor=f"comment-{comment.id}"), 303
        )

    order = form.order.data if form.order.data in ORDERS else "oldest"
    new_thread = comment.parent_id is None
    if new_thread:
        fresh = top_form(question, order=order)
        fresh.order.data = order
        where = "afterbegin:#comment-list" if order == "newest" else "beforeend:#comment-list"
    else:
        # The new reply goes right under the comment it answers; the reply form goes away.
        fresh = None
        where = f"afterend:#comment-{comment.parent_id}"
    item = threads.single_item(question, comment, current_viewer()) if created else None
    return render_template(
        "comments/_posted.html",
        form=fresh,
        c=item,
        new_thread=new_thread,
        where=where,
        count=_fresh_count(question.id),
    )


@bp.get("/questions/<int:question_id>/comments")
def index(question_id: int):
    """Another page of top-level threads: appended by htmx, or the question page at that page."""
    question = db.get_or_404(Question, question_id)
    page = max(1, request.args.get("page", 1, type=int))
    after_id = request.args.get("after", type=int)
    order = order_arg("order")
    if not htmx.wants_fragment():
        args = {"comment_page": page, "_anchor": "comments"}
        if order != "oldest":
            args["comment_order"] = order
        return htmx.vary_on_htmx(redirect(question_url(question, **args), 303))
    config = current_app.config
    result = threads.thread_page(
        question,
        current_viewer(),
        order,
        page,
        config["COMMENTS_PER_PAGE"],
        config["REPLIES_SHOWN"],
        after_id=after_id,
    )
    next_hx_url = more_hx_url(question, result, order)
    more_url = (
        question_url(question, comment_page=page + 1, _anchor="comments")
        if result.has_more
        else None
    )
    response = make_response(
        render_template(
            "comments/_page.html",
            threads=result.threads,
            more_url=more_url,
            more_hx_url=next_hx_url,
        )
    )
    return htmx.vary_on_htmx(response)


@bp.get("/comments/<int:comment_id>")
def show(comment_id: int):
    """A comment's permalink: its whole thread on a page, or the comment alone for htmx."""
    comment = db.get_or_404(Comment, comment_id)
    question = db.session.get(Question, comment.question_id)
    viewer = current_viewer()
    if htmx.wants_fragment():
        item = threads.single_item(question, comment, viewer)
        if item is None:
            return htmx.vary_on_htmx(make_response(""))
        return htmx.vary_on_htmx(make_response(render_template("comments/_comment.html", c=item)))
    root_id = comment.root_id or comment.id
    thread = threads.Thread(root_id, threads.whole_thread(question, root_id, viewer))
    disease = db.session.get(Disease, question.disease_id)
    return htmx.vary_on_htmx(
        make_response(
            render_template(
                "comments/show.html",
                question=question,
                disease=disease,
                thread=thread,
                comment=comment,
                back_url=question_url(question, _anchor="comments"),
            )
        )
    )


@bp.get("/comments/<int:comment_id>/replies")
def replies(comment_id: int):
    """A folded thread opened in full (htmx), or the whole thread's page.

    The fragment is the whole thread, read afresh, and replaces the thread on the page: a reply
    posted there since the page loaded (by this reader or anyone) then appears exactly once.
    """
    comment = db.get_or_404(Comment, comment_id)
    root_id = comment.root_id or comment.id
    if not htmx.wants_fragment():
        return htmx.vary_on_htmx(
            redirect(
                url_for("comments.show", comment_id=root_id, _anchor=f"comment-{root_id}"), 303
            )
        )
    question = db.session.get(Question, comment.question_id)
    thread = threads.Thread(root_id, threads.whole_thread(question, root_id, current_viewer()))
    return htmx.vary_on_htmx(make_response(render_template("comments/_thread.html", thread=thread)))


@bp.get("/comments/<int:comment_id>/reply")
def reply(comment_id: int):
    """The reply form: swapped in under the comment (htmx), or on a page of its own."""
    comment = db.get_or_404(Comment, comment_id)
    question = db.session.get(Question, comment.question_id)
    if htmx.wants_fragment() and request.args.get("cancel"):
        return htmx.vary_on_htmx(make_response(""))
    if not (current_user.is_authenticated or current_app.config["GUEST_COMMENTS"]):
        return current_app.login_manager.unauthorized()
    parent = threads.single_item(question, comment, current_viewer())
    if parent is None or not parent.can_reply:
        abort(404)
    form = reply_form(question, comment.id)
    if htmx.wants_fragment():
        return htmx.vary_on_htmx(make_response(render_template("comments/_form.html", form=form)))
    return htmx.vary_on_htmx(
        make_response(
            render_template("comments/reply.html", question=question, parent=parent, form=form)
        )
    )


@bp.get("/comments/<int:comment_id>/edit")
@login_required
def edit(comment_id: int):
    """The edit form: in place of the comment (htmx), or on a page of its own."""
    comment = _own_comment_or_403(comment_id)
    question = db.session.get(Question, comment.question_id)
    item = threads.single_item(question, comment, current_viewer())
    if item is None or not item.can_edit:
        abort(403)
    form = edit_form(comment)
    template = "comments/_edit_form.html" if htmx.wants_fragment() else "comments/edit.html"
    return htmx.vary_on_htmx(
        make_response(render_template(template, form=form, c=item, question=question))
    )


@bp.post("/comments/<int:comment_id>/edit")
@login_required
@limit_members
def update(comment_id: int):
    """Save an edit (the old text becomes a revision); gives the comment or a redirect."""
    comment = _own_comment_or_403(comment_id)
    question = db.session.get(Question, comment.question_id)
    viewer = current_viewer()
    if not service.can_edit(comment, viewer.user_id, viewer.edit_minutes):
        abort(403)
    form = CommentForm()
    try:
        service.edit_comment(comment, form.body.data or "")
    except CommentError as error:
        db.session.rollback()
        form.show_error(error)
        item = threads.single_item(question, comment, viewer)
        edit_form(comment, form)
        if htmx.wants_fragment():
            return render_template("comments/_edit_form.html", form=form, c=item)
        return render_template("comments/edit.html", form=form, c=item, question=question), 422
    db.session.commit()
    if not htmx.wants_fragment():
        return redirect(
            url_for("comments.show", comment_id=comment.id, _anchor=f"comment-{comment.id}"), 303
        )
    item = threads.single_item(question, comment, viewer)
    return render_template("comments/_comment.html", c=item)


def _delete_page(comment: Comment):
    """The page that asks the author to confirm a delete (the path without JavaScript)."""
    question = db.session.get(Question, comment.question_id)
    item = threads.single_item(question, comment, current_viewer())
    if item is None or not item.can_delete:
        abort(404)
    return render_template(
        "comments/delete.html",
        question=question,
        c=item,
        keep_url=url_for("comments.show", comment_id=comment.id, _anchor=f"comment-{comment.id}"),
    )


@bp.get("/comments/<int:comment_id>/delete")
@login_required
def confirm_delete(comment_id: int):
    """Ask the author to confirm deleting their comment."""
    return _delete_page(_own_comment_or_403(comment_id))


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def delete(comment_id: int):
    """Delete the member's own comment once confirmed; gives what stays in its place (htmx),
    a redirect, or (not yet confirmed, without JavaScript) the confirmation page."""
    comment = _own_comment_or_403(comment_id)
    if not service.delete_confirmed(request.form):
        if htmx.wants_fragment():
            abort(400, "Confirm the delete first: nothing was deleted.")
        return _delete_page(comment)
    question = db.session.get(Question, comment.question_id)
    service.delete_comment(comment)
    db.session.commit()
    if not htmx.wants_fragment():
        return redirect(question_url(question, _anchor="comments"), 303)
    item = threads.single_item(question, comment, current_viewer())
    # With no replies under it, the comment leaves the page: the swap puts nothing in its place.
    return render_template("comments/_deleted.html", c=item, count=_fresh_count(question.id))
