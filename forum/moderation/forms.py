"""The moderation forms: a member's report, and a moderator's hide, ban and role forms.

The queue shows many items at once, each with its own forms, so templates write the inputs
with ids unique per item; these classes parse and check what is posted.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from forum.models.users import ROLES
from forum.moderation.bans import BAN_LENGTHS
from forum.moderation.rules import (
    BAN_REASON_MAX,
    HIDE_REASONS,
    NOTE_MAX,
    REASON_DETAIL_MAX,
    REPORT_REASONS,
)


class _Form(FlaskForm):
    class Meta:
        # CSRFProtect already checks every post (form field or htmx's X-CSRFToken header).
        csrf = False


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


class ReportForm(_Form):
    reason = RadioField(
        "Why are you reporting this?",
        choices=_choices(REPORT_REASONS),
        validators=[InputRequired("Choose a reason.")],
    )
    note = TextAreaField(
        "Anything moderators should know (optional)",
        validators=[Length(max=NOTE_MAX, message=f"Keep the note under {NOTE_MAX} characters.")],
        render_kw={"maxlength": NOTE_MAX, "rows": 3, "dir": "auto"},
    )

    def validate_note(self, field) -> None:
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError("Say in a few words what is wrong.")


class HideForm(_Form):
    reason = SelectField(
        "Public reason",
        choices=_choices(HIDE_REASONS),
        validators=[InputRequired("Choose the reason everyone will read.")],
    )
    detail = StringField(
        "In your words (optional)",
        filters=[_one_line],
        validators=[
            Length(max=REASON_DETAIL_MAX, message=f"Keep it under {REASON_DETAIL_MAX} characters.")
        ],
    )

    def validate_detail(self, field) -> None:
        if self.reason.data == "other" and not field.data:
            raise ValidationError("Write the reason everyone will read.")


class BanForm(_Form):
    length = SelectField(
        "For how long",
        choices=_choices({key: words for key, (words, _) in BAN_LENGTHS.items()}),
        validators=[InputRequired("Choose how long.")],
    )
    reason = StringField(
        "Reason (the member and the public log show it)",
        filters=[_one_line],
        validators=[
            DataRequired("Write the reason for the ban."),
            Length(max=BAN_REASON_MAX, message=f"Keep it under {BAN_REASON_MAX} characters."),
        ],
    )


class RoleForm(_Form):
    username = StringField(
        "Member's username",
        filters=[lambda s: (s or "").strip()],
        validators=[DataRequired("Write the member's username.")],
    )
    role = SelectField(
        "Role",
        choices=_choices({role: role.capitalize() for role in ROLES}),
        validators=[InputRequired("Choose a role.")],
    )
