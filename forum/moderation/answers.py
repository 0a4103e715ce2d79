"""What a moderation action gives back: the part of the page it changed (htmx), a redirect after
a plain post (303), or, when refused, the reason with its status (a page, a card or an alert)."""

from __future__ import annotations

import re

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from forum import htmx
from forum.comments import threads
from forum.comments.section import current_viewer
from forum.extensions import db
from forum.models.comments import Comment
from forum.models.moderation import COMMENT
from forum.models.questions import Question
from forum.moderation import queue
from forum.redirects import referring_page, safe_next
from forum.security import no_store

_ITEM_REF = re.compile(r"(comment|question):(\d{1,10})")
TITLES = {403: "Not allowed", 404: "Not found", 409: "Already done", 422: "Not done"}


def refusal(status: int, message: str, title: str | None = None):
    """A refused request: the error page, or for htmx a fragment in the page's alert region
    (the form that was sent keeps what was typed)."""
    context = {"code": status, "title": title or TITLES.get(status, "Not done"), "message": message}
    if htmx.wants_fragment():
        headers = {"HX-Retarget": "#htmx-alerts", "HX-Reswap": "innerHTML"}
        return make_response(render_template("errors/_error.html", **context), status, headers)
    return make_response(render_template("errors/page.html", **context), status)


def refuse(status: int, message: str):
    """Stop the request here with `refusal(status, message)`."""
    abort(refusal(status, message))


def posted_item_ref(default: tuple[str, int] | None = None) -> tuple[str, int] | None:
    """The queue item a posted form belongs to ("comment:5"), so its card can be shown again."""
    match = _ITEM_REF.fullmatch(request.form.get("item", ""))
    return (match.group(1), int(match.group(2))) if match else default


def card(ref: tuple[str, int] | None, message=None, errors=None) -> queue.QueueItem | None:
    """The queue card of item `ref` as it is now, with a message and form errors."""
    items = queue.queue_items([ref], current_user) if ref else []
    if not items:
        return None
    items[0].message, items[0].errors = message, errors or {}
    return items[0]


def action_answer(ref, message: str, status: int = 200, errors=None, values=None):
    """What an action on item `ref` gives back.

    htmx: the item's card with the message (or, for a restore done from the thread, the
    comment as the thread now shows it). A plain post: a redirect back with the message
    flashed, or when refused the item's page with the message and the status.
    """
    if htmx.wants_fragment():
        if request.form.get("shown_in") == "thread" and ref and ref[0] == COMMENT:
            return _thread_comment(ref[1], message, status)
        item = card(ref, message, errors)
        if item is None:
            return refusal(status, message) if status >= 400 else _notice(message)
        return render_template("moderation/_item.html", item=item, values=values), status
    if status >= 400:
        item = card(ref, message, errors)
        if item is None:
            return refusal(status, message)
        page = render_template("moderation/item.html", item=item, values=values)
        return no_store(make_response(page, status))
    flash(message, "success")
    back = safe_next(request.form.get("next")) or referring_page()
    if back is None:
        back = url_for(".item", kind=ref[0], item_id=ref[1]) if ref else url_for(".queue_page")
    return redirect(back, 303)


def _notice(message: str):
    return render_template("moderation/_notice.html", message=message)


def _thread_comment(comment_id: int, message: str, status: int):
    """The comment as its thread now shows it to the moderator (a restore from the thread)."""
    if status >= 400:
        return refusal(status, message)
    comment = db.session.get(Comment, comment_id)
    question = db.session.get(Question, comment.question_id)
    item = threads.single_item(question, comment, current_viewer())
    return render_template("comments/_comment.html", c=item) if item else ""
