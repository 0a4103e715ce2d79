"""Comment views: each URL answers a plain form post (303) and an htmx request (a fragment).

A refused post answers with the form again (forum.comments.refusals): 422 for a form error,
409 for a repeat, 429 for posting too fast, to page requests and htmx alike. Errors that are not
about the form, such as 403 or 413, come from forum.errors and land in the page's alert region.
"""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from forum import errors, htmx
from forum.comments import refusals, service, shared_list, threads
from forum.comments.forms import CommentForm
from forum.comments.limits import TOO_FAST, limit_guests, limit_members
from forum.comments.links import comment_links
from forum.comments.refusals import REPEATED, form_fragment, logged_out, refused
from forum.comments.section import (
    comment_location,
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
from forum.extensions import db
from forum.limits import retry_after
from forum.models.comments import Comment
from forum.models.diseases import Disease
from forum.models.questions import Question
from forum.moderation.held import guests_are_held, remember_held_comment
from forum.redirects import unauthorized

bp = Blueprint("comments", __name__)
bp.register_error_handler(CSRFError, refusals.stale_form)
# templates/comments/_list.html builds every comment's links from these prefixes.
bp.add_app_template_global(comment_links)
bp.record_once(lambda state: shared_list.register(state.app))


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


def _fresh_count(question_id: int) -> int:
    question = db.session.get(Question, question_id)
    db.session.refresh(question, ["comment_count"])
    return question.comment_count


@bp.errorhandler(RateLimitExceeded)
def too_fast(exc: RateLimitExceeded):
    """A limited htmx comment gets its form back, text kept, with the message (429); anything
    else gets the site's 429 page."""
    if htmx.wants_fragment() and request.endpoint == "comments.create":
        question = db.session.get(Question, request.view_args["question_id"])
        if question is not None:
            answer = refused(question, CommentForm(), CommentError(TOO_FAST), status=429)
            response = htmx.vary_on_htmx(make_response(answer))
            response.headers["Retry-After"] = str(retry_after())
            return response
    return errors.rate_limited(exc)


@bp.post("/questions/<int:question_id>/comments")
@htmx.may_answer_fragment
@limit_members
@limit_guests
def create(question_id: int):
    """Post a comment or a reply; gives the new comment (htmx) or the question page at it."""
    question = db.get_or_404(Question, question_id)
    form = CommentForm()
    if not current_user.is_authenticated and form.written_as_member():
        return logged_out(question, form)
    poster = _poster()
    if poster is None:
        why = "reply" if (form.parent_id.data or "").strip() else "comment"
        return unauthorized(next_url=question_url(question, _anchor="comments"), why=why)
    try:
        comment, created = service.post_comment(
            question, poster, form.body.data or "", form.parent_value()
        )
    except CommentError as error:
        return refused(question, form, error)
    order = form.order.data if form.order.data in ORDERS else "oldest"
    # The htmx answer is read inside the posting transaction: after the commit, SQLite would
    # queue for the write lock again (a POST begins IMMEDIATE, forum.database) only to read
    # back what this transaction just wrote.
    answer = None
    if created and htmx.wants_fragment():
        answer = _posted(question, comment, order)
    held_id = comment.id if comment.held_at is not None else None
    db.session.commit()
    if poster.guest_name:
        session["guest_name"] = poster.guest_name
    if held_id is not None:
        remember_held_comment(held_id)
    if not created:
        return _repeated(question, form, comment, order)
    if answer is not None:
        return answer
    flash("Your reply is posted." if comment.parent_id else "Your comment is posted.", "success")
    return redirect(comment_location(question, comment, order), 303)


def _posted(question: Question, comment: Comment, order: str):
    """The htmx answer to a new comment or reply, before the transaction commits."""
    viewer = current_viewer()
    if comment.held_at is not None:
        # The guest sees their comment awaiting review; the session learns of it after commit.
        viewer = replace(viewer, held_ids=viewer.held_ids | {comment.id})
    count = _fresh_count(question.id)
    if comment.parent_id is not None:
        return _reply_posted(question, comment, viewer, count)
    fresh = top_form(question, order=order)
    fresh.order.data = order
    where = "afterbegin:#comment-list" if order == "newest" else "beforeend:#comment-list"
    return render_template(
        "comments/_posted.html",
        form=fresh,
        c=threads.single_item(question, comment, viewer),
        where=where,
        count=count,
    )


def _reply_posted(question: Question, comment: Comment, viewer, count: int):
    """The new reply for htmx, placed where a reload shows it: after every comment already
    under its parent, so before the first comment of the thread that follows them.

    That comment may be folded away on the page; then the reply goes before the thread's
    "more replies" control, or else before the thread's end. HX-Retarget takes the first of
    these the page has. The reply form's slot is emptied out of band.
    """
    items = threads.whole_thread(question, comment.root_id, viewer)
    position = next(i for i, item in enumerate(items) if item.id == comment.id)
    root = comment.root_id
    targets = [f"#thread-{root}-more", f"#thread-{root}-end"]
    if position + 1 < len(items):
        targets.insert(0, f"#comment-{items[position + 1].id}")
    html = render_template(
        "comments/_reply_posted.html", c=items[position], parent_id=comment.parent_id, count=count
    )
    return html, 200, {"HX-Retarget": ", ".join(targets), "HX-Reswap": "beforebegin"}


def _repeated(question: Question, form: CommentForm, comment: Comment, order: str):
    """The same text from the same poster in the same place within minutes: stored once.

    Without JavaScript it is a double click: the member lands at the comment. With htmx the
    form keeps the text and says so, with a link to the comment already posted.
    """
    where = comment_location(question, comment, order)
    if not htmx.wants_fragment():
        flash("You had already posted this, so it is here once.", "info")
        return redirect(where, 303)
    form.show_error(CommentError(REPEATED))
    form.error_link = ("See it", where, False)
    return form_fragment(question, form), 409


@bp.get("/questions/<int:question_id>/comments")
@htmx.may_answer_fragment
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
        return redirect(question_url(question, **args), 303)
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
    more_url = (
        question_url(question, comment_page=page + 1, _anchor="comments")
        if result.has_more
        else None
    )
    return render_template(
        "comments/_page.html",
        threads=result.threads,
        more_url=more_url,
        more_hx_url=more_hx_url(question, result, order),
    )


@bp.get("/comments/<int:comment_id>")
@htmx.may_answer_fragment
def show(comment_id: int):
    """A comment's permalink: its whole thread on a page, or the comment alone for htmx."""
    comment = db.get_or_404(Comment, comment_id)
    question = db.session.get(Question, comment.question_id)
    viewer = current_viewer()
    if htmx.wants_fragment():
        item = threads.single_item(question, comment, viewer)
        return render_template("comments/_comment.html", c=item) if item else ""
    thread = threads.Thread(
        comment.root_id, threads.whole_thread(question, comment.root_id, viewer)
    )
    return render_template(
        "comments/show.html",
        question=question,
        disease=db.session.get(Disease, question.disease_id),
        thread=thread,
        comment=comment,
        back_url=question_url(question, _anchor="comments"),
    )


@bp.get("/comments/<int:comment_id>/replies")
@htmx.may_answer_fragment
def replies(comment_id: int):
    """A folded thread opened in full (htmx), or the whole thread's page.

    The fragment is the whole thread, read afresh, and replaces the thread on the page: a reply
    posted there since the page loaded (by this reader or anyone) then appears exactly once.
    """
    comment = db.get_or_404(Comment, comment_id)
    root_id = comment.root_id
    if not htmx.wants_fragment():
        return redirect(
            url_for("comments.show", comment_id=root_id, _anchor=f"comment-{root_id}"), 303
        )
    question = db.session.get(Question, comment.question_id)
    thread = threads.Thread(root_id, threads.whole_thread(question, root_id, current_viewer()))
    return render_template("comments/_thread.html", thread=thread)


@bp.get("/comments/<int:comment_id>/reply")
@htmx.may_answer_fragment
def reply(comment_id: int):
    """The reply form: swapped in under the comment (htmx), or on a page of its own."""
    comment = db.get_or_404(Comment, comment_id)
    question = db.session.get(Question, comment.question_id)
    if htmx.wants_fragment() and request.args.get("cancel"):
        return ""
    if not (current_user.is_authenticated or current_app.config["GUEST_COMMENTS"]):
        return current_app.login_manager.unauthorized()
    parent = threads.single_item(question, comment, current_viewer())
    if parent is None or not parent.can_reply:
        abort(404)
    form = reply_form(question, comment.id)
    if htmx.wants_fragment():
        return render_template("comments/_form.html", form=form)
    return render_template("comments/reply.html", question=question, parent=parent, form=form)


@bp.get("/comments/<int:comment_id>/edit")
@htmx.may_answer_fragment
@login_required
def edit(comment_id: int):
    """The edit form: in place of the comment (htmx), or on a page of its own."""
    comment = _own_comment_or_403(comment_id)
    question = db.session.get(Question, comment.question_id)
    item = threads.single_item(question, comment, current_viewer())
    if item is None or not item.can_edit:
        abort(403)
    template = "comments/_edit_form.html" if htmx.wants_fragment() else "comments/edit.html"
    return render_template(template, form=edit_form(comment), c=item, question=question)


@bp.post("/comments/<int:comment_id>/edit")
@htmx.may_answer_fragment
@limit_members
def update(comment_id: int):
    """Save an edit (the old text becomes a revision); gives the comment or the page at it."""
    comment = db.get_or_404(Comment, comment_id)
    question = db.session.get(Question, comment.question_id)
    form = CommentForm()
    if not current_user.is_authenticated:
        if form.written_as_member():
            return logged_out(question, form, comment)
        return unauthorized()
    if not service.is_author(comment, current_user.id):
        abort(403)
    viewer = current_viewer()
    if not service.can_edit(comment, viewer.user_id, viewer.edit_minutes):
        abort(403)
    try:
        service.edit_comment(comment, form.body.data or "")
    except CommentError as error:
        return refused(question, form, error, comment)
    db.session.commit()
    if not htmx.wants_fragment():
        flash("Your changes are saved.", "success")
        return redirect(comment_location(question, comment), 303)
    item = threads.single_item(question, comment, viewer)
    return render_template("comments/_comment.html", c=item)


def _after_delete(question: Question, comment: Comment, item: ThreadItem | None) -> str:
    """Where the page goes after a delete: the comment's place while replies keep it there
    (as "[deleted]"), else the comment it answered, else the comments."""
    if item is not None:
        return comment_location(question, comment)
    parent = db.session.get(Comment, comment.parent_id) if comment.parent_id else None
    if parent is not None and threads.single_item(question, parent, current_viewer()):
        return comment_location(question, parent)
    return question_url(question, _anchor="comments")


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
@htmx.may_answer_fragment
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
    item = threads.single_item(question, comment, current_viewer())
    if not htmx.wants_fragment():
        flash("Your comment is deleted.", "success")
        return redirect(_after_delete(question, comment, item), 303)
    # With no replies under it, the comment leaves the page: the swap puts nothing in its place.
    return render_template("comments/_deleted.html", c=item, count=_fresh_count(question.id))
