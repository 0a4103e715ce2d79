"""Forms for signing up, logging in and managing one's account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from forum.accounts import username_problem
from forum.passwords import MAX_LENGTH, password_problem


class _NewPassword:
    """Validator: the new password meets the length and common-password rules."""

    def __init__(self, username_field: str | None = None):
        self.username_field = username_field

    def __call__(self, form, field):
        if self.username_field:
            username = form[self.username_field].data
        else:
            username = getattr(form, "account_username", "")
        problem = password_problem(field.data or "", username or "")
        if problem:
            raise ValidationError(problem)


def _valid_username(form, field):
    problem = username_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field(label: str) -> StringField:
    """An optional email address: trimmed, at most 254 characters, one @ and a dotted domain."""
    return StringField(
        label,
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="That is not an email address."),
        ],
        render_kw={"autocomplete": "email", "type": "email", "maxlength": 254},
    )


class SignupForm(FlaskForm):
    username = StringField(
        "Username",
        # A space picked up from autofill or a paste is not part of the name.
        filters=[_strip],
        validators=[DataRequired(), _valid_username],
        render_kw={
            "autocomplete": "username",
            "maxlength": 30,
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), _NewPassword("username")],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )
    email = _email_field("Email (optional)")
    next = HiddenField()


class LoginForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


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
        validators=[DataRequired(), _NewPassword()],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        "Your password, to confirm",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )


class ChangeEmailForm(FlaskForm):
    email = _email_field("Email address")
