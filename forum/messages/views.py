"""/messages: the member's conversations, one conversation (polled for new messages with htmx),
writing, blocking and reporting; and, for moderators, reported messages in their context, with
a report's two outcomes: dismissed (the message stays) or the message removed."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required

from forum import errors, htmx
from forum.contacts.service import block as block_member
from forum.extensions import db, limiter
from forum.limits import member_or_address, retry_after, setting
from forum.messages import service
from forum.messages.forms import MessageForm, ReportForm
from forum.models import MessageReport
from forum.moderation import message_reports
from forum.moderation import service as moderation
from forum.moderation.forms import HideForm
from forum.moderation.rules import HIDE_REASONS, hide_reason_text, is_moderator
from forum.security import no_store

bp = Blueprint("messages", __name__)

# Messages count against the same limit as comments.
message_limit = limiter.shared_limit(
    setting("RATELIMIT_POST_MEMBER"),
    scope="message-post",
    key_func=member_or_address,
    methods=["POST"],
)
TOO_FAST = "You are sending faster than this site allows. Wait a minute, then send again."


def _me():
    return current_user._get_current_object()


def _conversation_or_404(conversation_id: int):
    conversation = service.members_conversation(conversation_id, current_user.id)
    if conversation is None:
        abort(404)
    return conversation


def _context(conversation, form=None):
    me = _me()
    rows, earlier = service.messages_for(conversation, me, current_app.config["MESSAGES_SHOWN"])
    other_id = conversation.other_id(me.id)
    names = service.member_names([other_id])
    return {
        "conversation": conversation,
        "rows": rows,
        "earlier": earlier,
        "after": rows[-1].id if rows else 0,
        "other_name": names.get(other_id, service.DELETED_MEMBER),
        "other_exists": other_id is not None,
        "can_write": service.can_write(conversation, me),
        "i_blocked": other_id is not None and service.has_blocked(me.id, other_id),
        "form": form or MessageForm(formdata=None),
        "poll_seconds": current_app.config["MESSAGES_POLL_SECONDS"],
    }


@bp.get("/messages")
@login_required
def index():
    """The member's conversations, newest first, with the other member and the last line."""
    rows = service.conversations_for(_me())
    return no_store(make_response(render_template("messages/index.html", rows=rows)))


@bp.get("/messages/<int:conversation_id>")
@login_required
def show(conversation_id: int):
    """A conversation. With htmx and `after`, the poll: 204 when nothing is newer, else the
    message list to swap in (and the poller with its new cursor)."""
    conversation = _conversation_or_404(conversation_id)
    if htmx.wants_fragment():
        after = request.args.get("after", 0, type=int)
        if service.newest_visible_id(conversation, _me()) <= after:
            return htmx.vary_on_htmx(no_store(make_response("", 204)))
        return htmx.vary_on_htmx(
            no_store(
                make_response(render_template("messages/_update.html", **_context(conversation)))
            )
        )
    return htmx.vary_on_htmx(
        no_store(make_response(render_template("messages/show.html", **_context(conversation))))
    )


@bp.errorhandler(RateLimitExceeded)
def too_fast(exc: RateLimitExceeded):
    """A limited htmx send gets its form back with the text and a message."""
    if htmx.wants_fragment() and request.endpoint == "messages.send":
        form = MessageForm()
        form.error = TOO_FAST
        conversation = service.members_conversation(
            request.view_args["conversation_id"], current_user.id
        )
        if conversation is not None:
            return (
                render_template(
                    "messages/_form.html", conversation=conversation, form=form, can_write=True
                ),
                429,
                {
                    "Retry-After": str(retry_after()),
                    "HX-Retarget": "#message-form",
                    "HX-Reswap": "outerHTML",
                },
            )
    return errors.rate_limited(exc)


@bp.post("/messages/<int:conversation_id>")
@login_required
@message_limit
def send(conversation_id: int):
    """Send a message: htmx gets the fresh list and an empty box, a plain post a redirect."""
    conversation = _conversation_or_404(conversation_id)
    form = MessageForm()
    try:
        service.send_message(conversation, _me(), form.body.data or "")
    except service.MessageError as error:
        db.session.rollback()
        form.error = error.message
        if htmx.wants_fragment():
            return (
                render_template("messages/_form.html", **_context(conversation, form)),
                error.status,
                {"HX-Retarget": "#message-form", "HX-Reswap": "outerHTML"},
            )
        return no_store(
            make_response(
                render_template("messages/show.html", **_context(conversation, form)),
                error.status,
            )
        )
    db.session.commit()
    if htmx.wants_fragment():
        return render_template("messages/_update.html", fresh_form=True, **_context(conversation))
    url = url_for(".show", conversation_id=conversation.id, _anchor="message-form")
    return redirect(url, 303)


@bp.post("/messages/<int:conversation_id>/block")
@login_required
def block(conversation_id: int):
    """Block the other member: no more messages or requests either way; they are not told."""
    conversation = _conversation_or_404(conversation_id)
    other_id = conversation.other_id(current_user.id)
    if other_id is None:
        abort(409, "This member has deleted their account.")
    block_member(_me(), other_id)
    db.session.commit()
    flash("Blocked. They cannot write to you any more, and they are not told.", "success")
    target = url_for(".show", conversation_id=conversation.id)
    if htmx.wants_fragment():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.post("/messages/<int:conversation_id>/report/<int:message_id>")
@login_required
def report(conversation_id: int, message_id: int):
    """Report a message received: moderators may then read it with three before and after."""
    conversation = _conversation_or_404(conversation_id)
    message = service.reportable_message(conversation, message_id, _me())
    if message is None:
        abort(404)
    form = ReportForm()
    service.report_message(message, _me(), form.reason.data or "")
    db.session.commit()
    words = "Reported. A moderator will read this message and the few around it."
    if htmx.wants_fragment():
        return render_template("messages/_reported.html", message_id=message_id, words=words)
    flash(words, "success")
    return redirect(url_for(".show", conversation_id=conversation.id), 303)


def _moderator_only():
    # 403 for anyone else, visitors included: a report's actions do not send to the login page.
    if not is_moderator(current_user):
        abort(403)


@bp.get("/messages/reports")
@login_required
def reports():
    """For moderators: reported messages waiting (no text here; open one to read it)."""
    _moderator_only()
    return no_store(
        make_response(render_template("messages/reports.html", reports=service.open_reports()))
    )


def _report_page(report: MessageReport, notice=None, status=200, errors=None, values=None):
    """The reported message in its context with what a moderator may still do: the whole page,
    or for htmx the part an action swaps."""
    context = {
        **service.report_view(report, _me()),
        "notice": notice,
        "errors": errors or {},
        "values": values or {},
        "reasons": HIDE_REASONS,
    }
    template = "messages/_report.html" if htmx.wants_fragment() else "messages/reported.html"
    return no_store(htmx.vary_on_htmx(make_response(render_template(template, **context), status)))


@bp.get("/messages/reports/<int:report_id>")
@login_required
def reported(report_id: int):
    """For moderators: the reported message with three messages before and three after."""
    _moderator_only()
    return _report_page(db.get_or_404(MessageReport, report_id))


def _report_action(report_id: int, done: str, action, *args):
    """Run a moderation action on a message report: htmx gets the report as it now stands, a
    plain post the list of reports (303); a refusal the report with why, and its status."""
    _moderator_only()
    report = db.get_or_404(MessageReport, report_id)
    try:
        action(_me(), report, *args)
    except moderation.ModerationRefused as refused:
        db.session.rollback()
        return _report_page(report, refused.message, refused.status)
    db.session.commit()
    if htmx.wants_fragment():
        return _report_page(report, done)
    flash(done, "success")
    return redirect(url_for(".reports"), 303)


@bp.post("/messages/reports/<int:report_id>/dismiss")
def dismiss_report(report_id: int):
    """For moderators: close the report as handled; the message stays as it is."""
    return _report_action(
        report_id, "Report dismissed: the message stays.", message_reports.dismiss_message_report
    )


@bp.post("/messages/reports/<int:report_id>/remove")
def remove_message(report_id: int):
    """For moderators: remove the reported message, with the reason its sender will read."""
    _moderator_only()
    form = HideForm()
    if not form.validate():
        report = db.get_or_404(MessageReport, report_id)
        errors = {name: " ".join(messages) for name, messages in form.errors.items()}
        return _report_page(report, "Nothing was removed.", 422, errors, form.data)
    return _report_action(
        report_id,
        "Message removed: neither member sees its text now. The public log records it "
        "without the text.",
        message_reports.remove_message,
        hide_reason_text(form.reason.data, form.detail.data),
    )
