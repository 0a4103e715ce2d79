"""The comment section of a question page and the forms placed in it, built once per request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, get_template_attribute, request, session, url_for
from flask_login import current_user
from markupsafe import Markup

from forum.comments import shared_list, threads
from forum.comments.forms import CommentForm
from forum.comments.links import comment_links
from forum.comments.threads import ORDERS, ThreadPage, Viewer
from forum.extensions import db
from forum.models.comments import Comment
from forum.models.diseases import Disease
from forum.models.questions import Question
from forum.moderation.bans import ban_problem
from forum.moderation.held import held_comment_ids
from forum.moderation.rules import discussion_problem, is_moderator
from forum.redirects import login_url
from forum.templating import exact_time


def current_viewer() -> Viewer:
    """The reader, with the settings that decide what they may do to each comment."""
    config = current_app.config
    member = current_user.is_authenticated
    return Viewer(
        user_id=current_user.id if member else None,
        # A banned member reads like anyone but posts nothing (forum.moderation.bans).
        may_post=not ban_problem(current_user) if member else config["GUEST_COMMENTS"],
        edit_minutes=config["COMMENT_EDIT_MINUTES"],
        max_depth=config["COMMENT_MAX_DEPTH"],
        profile_url=comment_links().profile,
        is_moderator=is_moderator(current_user),
        held_ids=frozenset() if member else held_comment_ids(),
    )


def question_url(question: Question, **args) -> str:
    disease = db.session.get(Disease, question.disease_id)
    return url_for("questions.show", slug=disease.slug, question_slug=question.slug, **args)


def _asks_guest_name(form: CommentForm) -> bool:
    """A visitor's form asks for a display name; a member's form, shown again after their login
    ended, does not (it waits for them to log in again)."""
    return not current_user.is_authenticated and not form.written_as_member()


def _member_mark() -> str:
    return "1" if current_user.is_authenticated else ""


def top_form(
    question: Question, form: CommentForm | None = None, order: str = "oldest"
) -> CommentForm:
    """The form for a new top-level comment, placed on the question page."""
    form = form or CommentForm(
        formdata=None,
        data={"order": order, "guest_name": session.get("guest_name"), "as_member": _member_mark()},
    )
    form.parent_id.data = ""
    return form.place(
        "comment-form",
        "Your comment",
        url_for("comments.create", question_id=question.id),
        "Post comment",
        ask_guest_name=_asks_guest_name(form),
    )


def reply_form(
    question: Question,
    parent_id: int,
    form: CommentForm | None = None,
) -> CommentForm:
    """The form for a reply to comment `parent_id`."""
    form = form or CommentForm(
        formdata=None,
        data={
            "parent_id": str(parent_id),
            "guest_name": session.get("guest_name"),
            "as_member": _member_mark(),
        },
    )
    return form.place(
        f"reply-form-{parent_id}",
        "Your reply",
        url_for("comments.create", question_id=question.id),
        "Post reply",
        ask_guest_name=_asks_guest_name(form),
        cancel_url=url_for("comments.show", comment_id=parent_id, _anchor=f"comment-{parent_id}"),
        cancel_hx_url=url_for("comments.reply", comment_id=parent_id, cancel=1),
        cancel_hx_target=f"#comment-{parent_id}-reply",
        cancel_hx_swap="innerHTML",
        autofocus=True,
    )


def edit_form(comment: Comment, form: CommentForm | None = None) -> CommentForm:
    form = form or CommentForm(formdata=None, data={"body": comment.body_md, "as_member": "1"})
    return form.place(
        f"edit-form-{comment.id}",
        "Edit your comment",
        url_for("comments.update", comment_id=comment.id),
        "Save changes",
        cancel_url=url_for("comments.show", comment_id=comment.id, _anchor=f"comment-{comment.id}"),
        cancel_hx_url=url_for("comments.show", comment_id=comment.id),
        cancel_hx_target=f"#comment-{comment.id}",
        hx_target=f"#comment-{comment.id}",
        autofocus=True,
    )


@dataclass
class OpenForm:
    """A reply or edit form shown in its place in a thread on the question page (without
    JavaScript, a refused reply or edit comes back there, its text kept)."""

    comment_id: int  # the comment answered, or the comment being edited
    form: CommentForm
    editing: bool = False


@dataclass
class CommentSection:
    """Everything templates/comments/_section.html shows, decided here."""

    question: Question
    count: int
    page: ThreadPage
    form: CommentForm | None
    login_url: str | None
    order_links: list[tuple[str, str, bool]]
    more_url: str | None
    more_hx_url: str | None
    previous_url: str | None
    open_form: OpenForm | None = None
    # What went wrong with a posted form, for the summary at the top of the page, and the id
    # of the field it concerns.
    problem: str | None = None
    problem_target: str | None = None
    # Why no comment form is shown to someone who could otherwise post (locked, removed,
    # banned), or None.
    closed_notice: str | None = None
    # The thread list, rendered here (or kept: forum.comments.shared_list).
    threads_html: Markup = Markup("")


def page_arg() -> int:
    raw = request.args.get("comment_page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isascii() and raw.isdigit() else 1


def order_arg(name: str = "comment_order") -> str:
    order = request.args.get(name, "oldest")
    return order if order in ORDERS else "oldest"


def open_thread_arg() -> int | None:
    """The thread a link asks to show whole (`?thread=<id>`), if any."""
    raw = request.args.get("thread", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 11 else None


def comment_section(
    question: Question,
    form: CommentForm | None = None,
    open_form: OpenForm | None = None,
    problem: str | None = None,
) -> CommentSection:
    """What the question page's comment section shows.

    `form` is a posted top-level form to show again; `open_form` a posted reply or edit form,
    shown under (or in place of) its comment, whose thread is then listed whole and on its page.
    `problem` is the summary of what was wrong with the posted form.
    """
    config = current_app.config
    order = order_arg()
    page_number = page_arg()
    open_root = open_thread_arg()
    if open_form is not None:
        anchor = db.session.get(Comment, open_form.comment_id)
        open_root = anchor.root_id
        page_number = threads.page_of_thread(
            question, open_root, order, config["COMMENTS_PER_PAGE"]
        )
    viewer = current_viewer()
    per_page, replies_shown = config["COMMENTS_PER_PAGE"], config["REPLIES_SHOWN"]
    # An ordinary member's list is the one every such member sees (forum.comments.shared_list).
    key = None
    if open_form is None:
        key = shared_list.shared_key(
            question, viewer, (order, page_number, open_root, per_page, replies_shown)
        )
    kept = shared_list.get(key, viewer.user_id)
    if kept is not None:
        page, threads_html = kept.page, kept.html
    else:
        page = threads.thread_page(
            question, viewer, order, page_number, per_page, replies_shown, open_root=open_root
        )
        render = get_template_attribute("comments/_list.html", "threads")
        threads_html = render(page.threads, open_form)
        shared_list.put(key, threads_html, page, viewer.user_id)
    closed_notice = closed_discussion_notice(question)
    may_post = (current_user.is_authenticated or config["GUEST_COMMENTS"]) and not closed_notice
    base = {"comment_order": order} if order != "oldest" else {}
    shown_form = open_form.form if open_form else form
    section = CommentSection(
        question=question,
        count=question.comment_count,
        page=page,
        # A refused post keeps its form (the text and the reason) even in a closed discussion.
        form=top_form(question, form, order) if may_post or form is not None else None,
        login_url=None
        if may_post or closed_notice
        else login_url(question_url(question, _anchor="comments"), "comment"),
        order_links=[
            ("Oldest first", question_url(question, _anchor="comments"), order == "oldest"),
            (
                "Newest first",
                question_url(question, comment_order="newest", _anchor="comments"),
                order == "newest",
            ),
        ],
        more_url=question_url(question, comment_page=page_number + 1, _anchor="comments", **base)
        if page.has_more
        else None,
        more_hx_url=more_hx_url(question, page, order),
        previous_url=question_url(
            question, comment_page=page_number - 1, _anchor="comments", **base
        )
        if page_number > 1
        else None,
        open_form=open_form,
        problem=problem,
        problem_target=shown_form.body.id if problem and shown_form is not None else None,
        closed_notice=closed_notice,
        threads_html=threads_html,
    )
    return section


def comment_location(question: Question, comment: Comment, order: str = "oldest") -> str:
    """The question page at the comment (`#comment-N`): on the page of threads that lists it,
    with its thread shown whole when the page would fold the comment away."""
    config = current_app.config
    root_id = comment.root_id
    args: dict = {"_anchor": f"comment-{comment.id}"}
    page = threads.page_of_thread(question, root_id, order, config["COMMENTS_PER_PAGE"])
    if page > 1:
        args["comment_page"] = page
    if order != "oldest":
        args["comment_order"] = order
    if comment.id != root_id:
        items = threads.whole_thread(question, root_id, current_viewer())
        if threads.is_folded(items, comment.id, config["REPLIES_SHOWN"]):
            args["thread"] = root_id
    return question_url(question, **args)


def closed_discussion_notice(question: Question) -> str | None:
    """Why the reader cannot add to this discussion: locked or removed, or their ban."""
    if question.locked_at is not None and question.hidden_at is None:
        return (
            f"This discussion was locked by a moderator on {exact_time(question.locked_at)}. "
            "It takes no new comments or replies."
        )
    return discussion_problem(question) or (
        ban_problem(current_user) if current_user.is_authenticated else None
    )


def more_hx_url(question: Question, page: ThreadPage, order: str) -> str | None:
    """Where htmx fetches the threads after this page: keyed on its last thread, not a count."""
    if not page.has_more:
        return None
    return url_for(
        "comments.index",
        question_id=question.id,
        page=page.page + 1,
        after=page.last_root_id,
        order=order,
    )
