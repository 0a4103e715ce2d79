"""Forms for signing up and logging in, and the field rules account forms share."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from forum.auth.passwords import MAX_LENGTH, password_problem
from forum.auth.service import signup_name_problem, username_problem


class NewPassword:
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
    problem = username_problem(field.data or "") or signup_name_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


def email_field(label: str) -> StringField:
    """An optional email address: trimmed, at most 254 characters, one @ and a dotted domain."""
    return StringField(
        label,
        filters=[strip_text],
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
        filters=[strip_text],
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
        validators=[DataRequired(), NewPassword("username")],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )
    email = email_field("Email (optional)")
    next = HiddenField()
    # Why an account is needed (a key of forum.redirects.LOGIN_REASONS), kept across errors.
    why = HiddenField()


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
    why = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = email_field("Your email address")


class ResetPasswordForm(FlaskForm):
    # The view sets this to the account's username, so the new password cannot equal it.
    account_username = ""

    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), NewPassword()],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )
