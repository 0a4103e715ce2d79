"""Forms on a member's own account page: password, email and deletion."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired

from forum.auth.forms import NewPassword, email_field
from forum.auth.passwords import MAX_LENGTH


class ChangePasswordForm(FlaskForm):
    # The view sets this to the member's username, so the new password cannot equal it.
    account_username = ""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), NewPassword()],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        "Your password, to confirm",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )


class ChangeEmailForm(FlaskForm):
    email = email_field("Email address")
