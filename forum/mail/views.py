"""Links that arrive by email (confirm an address, unsubscribe) and the admins' mail page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from forum.extensions import csrf, db, limiter
from forum.limits import member_or_address
from forum.mail import service
from forum.models.notifications import EVENTS
from forum.notifications.service import save_setting
from forum.redirects import go_to
from forum.security import no_store

bp = Blueprint("mail", __name__)


@bp.route("/email/verify/<token>", methods=["GET", "POST"])
def verify(token: str):
    """Confirm an email address from the emailed link: the page asks, its button confirms.

    (A GET never changes anything: mail scanners open links before people do.)
    """
    user = service.user_for_verification(token)
    if user is None:
        return no_store(make_response(render_template("mail/verify.html", valid=False), 404))
    if request.method == "POST":
        service.confirm_email(user)
        db.session.commit()
        return no_store(make_response(render_template("mail/verify.html", valid=True, done=True)))
    done = user.email_verified_at is not None
    return no_store(make_response(render_template("mail/verify.html", valid=True, done=done)))


@bp.post("/account/email/verification")
@login_required
@limiter.limit("5 per hour", key_func=member_or_address, methods=["POST"])
def resend():
    """Send the confirmation link for the member's address again."""
    user = current_user._get_current_object()
    if not user.email:
        flash("Add an email address first.", "error")
    elif user.email_verified_at is not None:
        flash("Your email address is already confirmed.", "info")
    else:
        service.queue_verification(user)
        db.session.commit()
        flash(f"A confirmation link is on its way to {user.email}.", "success")
    return go_to(url_for("members.settings"))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the authority: mail clients post here without a session
def unsubscribe(token: str):
    """Stop one kind of email (or all) from a link in an email, without logging in.

    GET shows a button; POST (the button, or a mail client's RFC 8058 one-click POST) stops it.
    """
    found = service.read_unsubscribe_token(token)
    if found is None:
        return no_store(make_response(render_template("mail/unsubscribe.html", valid=False), 404))
    user, event = found
    label = "all email from RareCircle" if event == service.ALL_EVENTS else EVENTS[event].lower()
    if request.method == "POST":
        for name in EVENTS if event == service.ALL_EVENTS else [event]:
            save_setting(user.id, name, "off")
        db.session.commit()
        return no_store(
            make_response(
                render_template("mail/unsubscribe.html", valid=True, done=True, label=label)
            )
        )
    return no_store(
        make_response(render_template("mail/unsubscribe.html", valid=True, done=False, label=label))
    )


@bp.get("/admin/mail")
@login_required
def admin():
    """For admins: mail given up on after a day of tries, and mail still waiting."""
    if not current_user.is_admin:
        abort(403)
    return no_store(
        make_response(
            render_template(
                "mail/admin.html", failed=service.failed_mail(), waiting=service.waiting_mail()
            )
        )
    )
