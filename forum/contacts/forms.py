"""The contact request form and the "who may contact me" form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField

from forum.contacts.service import NOTE_MAX
from forum.models.users import CONTACT_POLICIES


class RequestForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every post (form field or htmx's header)

    note = TextAreaField(
        "A short note (optional)",
        render_kw={"maxlength": NOTE_MAX, "rows": 4, "dir": "auto"},
    )


class PolicyForm(FlaskForm):
    class Meta:
        csrf = False

    policy = RadioField(
        "Who may send me contact requests",
        choices=[SelectChoice(v, label) for v, label in CONTACT_POLICIES.items()],
    )
