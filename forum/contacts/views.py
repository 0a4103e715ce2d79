"""Asking a member to connect, and answering requests: accept, decline ("not accepted" to the
sender), block. Every answer works as a plain form post and with htmx."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from forum import htmx
from forum.auth.service import user_by_username
from forum.contacts import service
from forum.contacts.forms import PolicyForm, RequestForm
from forum.extensions import db, limiter
from forum.limits import member_or_address, setting
from forum.security import no_store

bp = Blueprint("contacts", __name__)

request_limit = limiter.shared_limit(
    setting("RATELIMIT_POST_MEMBER"),
    scope="contact-request",
    key_func=member_or_address,
    methods=["POST"],
)


def _me():
    return current_user._get_current_object()


def _ask_page(member, form, status=200, error=None, retry_after=None):
    """The request form; without the form itself when the member may not ask at all (403)."""
    response = make_response(
        render_template(
            "contacts/ask.html", member=member, form=form, error=error, refused=status == 403
        ),
        status,
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return no_store(response)


@bp.route("/members/<username>/connect", methods=["GET", "POST"])
@login_required
@request_limit
def ask(username: str):
    """The form to ask a member to connect, with a note; sends the request."""
    member = user_by_username(username)
    if member is None:
        abort(404)
    form = RequestForm()
    problem = service.request_problem(_me(), member)
    if request.method != "POST":
        if problem is None:
            return _ask_page(member, form)
        # Shown, not refused: a request already waiting or declined is worth saying; "not
        # taking requests" (403) is the same words for a policy and a block.
        return _ask_page(member, form, 403 if problem.status == 403 else 200, problem.message)
    try:
        service.send_request(_me(), member, form.note.data or "")
    except service.ContactError as error:
        db.session.rollback()
        return _ask_page(member, form, error.status, error.message, error.retry_after)
    db.session.commit()
    flash(
        f"Your request is sent to {member.username}. You will be notified when they accept.",
        "success",
    )
    return redirect(url_for("members.show", username=member.username), 303)


@bp.get("/contacts")
@login_required
def index():
    """Requests to the member, requests they sent, blocked members, and who may ask them."""
    return _contacts_page(PolicyForm(formdata=None, policy=current_user.contact_policy))


def _contacts_page(policy_form, status=200):
    me = _me()
    return no_store(
        make_response(
            render_template(
                "contacts/index.html",
                incoming=service.incoming_requests(me),
                sent=service.sent_requests(me),
                blocked=service.blocked_members(me),
                policy_form=policy_form,
            ),
            status,
        )
    )


def _request_or_404(request_id: int):
    found = service.incoming_request(request_id, _me())
    if found is None:
        abort(404)
    return found


def _answered(request_id: int, words: str):
    """After decline or block: the request's place says what happened (htmx), or the page."""
    if htmx.wants_fragment():
        return render_template("contacts/_answered.html", request_id=request_id, words=words)
    flash(words, "success")
    return redirect(url_for(".index"), 303)


@bp.post("/contacts/requests/<int:request_id>/accept")
@login_required
def accept(request_id: int):
    """Accept a request: the conversation opens (with the note) and the sender is told."""
    found = _request_or_404(request_id)
    try:
        conversation = service.accept(found, _me())
    except service.ContactError as error:
        db.session.rollback()
        abort(error.status, error.message)
    db.session.commit()
    target = url_for("messages.show", conversation_id=conversation.id)
    if htmx.wants_fragment():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.post("/contacts/requests/<int:request_id>/decline")
@login_required
def decline(request_id: int):
    """Decline a request; the sender sees "not accepted"."""
    service.decline(_request_or_404(request_id))
    db.session.commit()
    return _answered(request_id, "Request declined. The sender sees it as not accepted.")


@bp.post("/contacts/requests/<int:request_id>/block")
@login_required
def block_sender(request_id: int):
    """Decline and block the sender: nothing more from them, and they are not told."""
    found = _request_or_404(request_id)
    service.block(_me(), found.sender_id)
    db.session.commit()
    return _answered(request_id, "Blocked. They cannot contact you, and they are not told.")


@bp.post("/contacts/blocked/<int:user_id>/unblock")
@login_required
def unblock(user_id: int):
    """Lift a block the member made."""
    if not service.unblock(_me(), user_id):
        abort(404)
    db.session.commit()
    flash("Unblocked.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/contacts/policy")
@login_required
def policy():
    """Choose who may send the member contact requests."""
    form = PolicyForm()
    if not form.validate():
        return _contacts_page(form, 422)
    service.set_policy(_me(), form.policy.data)
    db.session.commit()
    flash("Your choice of who may contact you is saved.", "success")
    return redirect(url_for(".index"), 303)
