"""Member profiles, and a member's own account: password, export and deletion."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from forum.auth.passwords import verify_password
from forum.auth.service import change_password, user_by_username
from forum.auth.sessions import end_session, start_session
from forum.contacts.service import standing
from forum.extensions import db, limiter
from forum.htmx import is_htmx
from forum.limits import member_or_address, setting
from forum.members.forms import ChangeEmailForm, ChangePasswordForm, DeleteAccountForm
from forum.members.service import (
    change_email,
    delete_account,
    export_account,
    member_comments,
    member_communities,
    member_questions,
    questions_by_id,
)
from forum.redirects import go_to
from forum.security import no_store

bp = Blueprint("members", __name__)

TABS = ("questions", "comments")
WRONG_PASSWORD = "That is not your current password."
PASSWORD_LIMITED = "Too many password attempts."

# Both forms check the current password: someone at a member's unlocked screen must not be
# able to guess it (to reuse elsewhere) faster than the login form allows.
password_checks_limit = limiter.shared_limit(
    setting("RATELIMIT_LOGIN_ACCOUNT"),
    scope="account-password-check",
    key_func=member_or_address,
    methods=["POST"],
    error_message=PASSWORD_LIMITED,
)


@bp.get("/members/<username>")
def show(username: str):
    """A member's profile: role, date joined, communities, and their questions or comments."""
    member = user_by_username(username)
    if member is None:
        abort(404)
    own = current_user.is_authenticated and current_user.id == member.id
    tab = request.args.get("tab", "questions")
    if tab not in TABS:
        tab = "questions"
    stmt = member_questions(member) if tab == "questions" else member_comments(member)
    page = db.paginate(stmt, per_page=current_app.config["QUESTIONS_PER_PAGE"], max_per_page=100)
    if tab == "questions":
        questions = questions_by_id([q.id for q in page.items])
    else:
        questions = questions_by_id(sorted({c.question_id for c in page.items}))
    response = make_response(
        render_template(
            "members/show.html",
            member=member,
            own=own,
            tab=tab,
            page=page,
            questions=questions,
            connect=standing(current_user, member),
            # Which disease communities someone joined is health data: members only, never
            # visitors, and anonymous entries only for their owner.
            communities=(
                member_communities(member, include_anonymous=own)
                if current_user.is_authenticated
                else None
            ),
        )
    )
    # A member's own profile lists their anonymous communities too: never cache it anywhere.
    return no_store(response) if own else response


def _settings_page(password_form=None, delete_form=None, email_form=None, status=200):
    """The account page, with the one form that was posted showing its errors."""
    password_form = password_form or ChangePasswordForm(formdata=None)
    delete_form = delete_form or DeleteAccountForm(formdata=None)
    email_form = email_form or ChangeEmailForm(formdata=None, email=current_user.email)
    headers = {}
    if status >= 400 and is_htmx():
        # A boosted form would put its POST-only address in the location bar; keep the page's.
        headers["HX-Push-Url"] = url_for("members.settings")
    return no_store(
        make_response(
            render_template(
                "members/settings.html",
                password_form=password_form,
                delete_form=delete_form,
                email_form=email_form,
            ),
            status,
            headers,
        )
    )


@bp.get("/account")
@login_required
def settings():
    """The member's account page: change password, download data, delete the account."""
    return _settings_page()


@bp.post("/account/password")
@login_required
@password_checks_limit
def password():
    """Change the password; every other session of this member ends, this one carries on."""
    form = ChangePasswordForm()
    form.account_username = current_user.username
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current_password.data):
            user = current_user._get_current_object()
            change_password(user, form.new_password.data)
            db.session.commit()
            start_session(user)
            flash("Your password is changed. Your other sessions are logged out.", "success")
            return go_to(url_for("members.settings"))
        form.current_password.errors.append(WRONG_PASSWORD)
    return _settings_page(password_form=form, status=422)


@bp.post("/account/email")
@login_required
def email():
    """Add, change or remove the member's private email address."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        changed = change_email(current_user._get_current_object(), form.email.data)
        db.session.commit()
        if not current_user.email:
            flash("Your email is removed.", "success")
        elif changed:
            flash(
                f"Your email address is saved. Open the link we sent to {current_user.email} "
                "to confirm it; until then nothing else is emailed to it.",
                "success",
            )
        else:
            flash("Your email address is saved.", "success")
        return go_to(url_for("members.settings"))
    return _settings_page(email_form=form, status=422)


@bp.get("/account/export")
@login_required
def export():
    """Download everything the site holds about the member, as a JSON file."""
    data = export_account(current_user)
    # <, > and & written as \u escapes: the same JSON to any parser, and no tag in the file
    # if anything ever reads it as HTML.
    text = json.dumps(data, indent=2, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    response = make_response(text)
    response.mimetype = "application/json"
    filename = f"rarecircle-{current_user.username}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)


@bp.post("/account/delete")
@login_required
@password_checks_limit
def delete():
    """Delete the account after the member confirms with their password."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.password.data):
            delete_account(current_user._get_current_object())
            db.session.commit()
            end_session()
            flash(
                "Your account is deleted. Your comments now show as from a deleted member.", "info"
            )
            return go_to(url_for("home.index"))
        form.password.errors.append(WRONG_PASSWORD)
    return _settings_page(delete_form=form, status=422)
