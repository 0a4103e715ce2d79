"""The form a member fills in to join the map or change their entry."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from forum.maps import geo
from forum.maps.service import EntryFields
from forum.models.map_entries import MAP_ROLES
from forum.text import strip_bidi_controls

REGION_MAX = 80
EARLIEST_YEAR = 1900
VISIBILITY_CHOICES = {"named": "By my username", "anonymous": "Anonymously"}


def _strip(value):
    """Trimmed, and without bidi controls (the region is shown beside a member's name)."""
    return strip_bidi_controls(value).strip() if isinstance(value, str) else value


class MapEntryForm(FlaskForm):
    role = SelectField(
        "I am a",
        choices=[
            SelectChoice("", "Choose one"),
            *(SelectChoice(value, label) for value, label in MAP_ROLES.items()),
        ],
        validators=[InputRequired("Choose how you are connected to the disease.")],
        validate_choice=False,
    )
    # A text box with a list of suggestions: browsers filter the list as the member types,
    # with no script. The name (or alpha-2 code) typed is turned into the code stored.
    country = StringField(
        "Country",
        filters=[_strip],
        validators=[InputRequired("Choose your country.")],
    )
    region = StringField(
        "Region or city (optional)",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=REGION_MAX, message=f"Keep the region to {REGION_MAX} characters or fewer."),
        ],
    )
    since_year = IntegerField(
        "Year the condition began (optional)",
        validators=[Optional()],
        invalid_value_message="Give the year as a number, like 2015.",
    )
    visibility = RadioField(
        "How you appear on the map",
        choices=[SelectChoice(value, label) for value, label in VISIBILITY_CHOICES.items()],
        default="named",
        validators=[InputRequired("Choose how you appear on the map.")],
        # validate_visibility says what is wrong in words a member understands.
        validate_choice=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.since_year.validators = [
            Optional(),
            NumberRange(
                EARLIEST_YEAR,
                date.today().year,
                message=f"Give a year between {EARLIEST_YEAR} and {date.today().year}.",
            ),
        ]

    def validate_role(self, field):
        if field.data not in MAP_ROLES:
            raise ValidationError("Choose one of the roles in the list.")

    def validate_country(self, field):
        if not field.data:
            raise ValidationError("Choose your country.")
        if geo.country_code(field.data) is None:
            typed = field.data if len(field.data) <= 60 else field.data[:59] + "…"
            raise ValidationError(
                f'We do not know a country called "{typed}". Choose a country from the list.'
            )

    def validate_visibility(self, field):
        if field.data not in VISIBILITY_CHOICES:
            raise ValidationError("Choose whether you appear by your username or anonymously.")

    @property
    def country_names(self) -> list[str]:
        """The names the country box suggests."""
        return [name for _, name in geo.country_choices()]

    def fill_from(self, entry) -> None:
        """Put an existing entry's values in the form (for the edit page)."""
        self.role.data = entry.role
        self.country.data = geo.country_name(entry.country)
        self.region.data = entry.region or ""
        self.since_year.data = entry.since_year
        self.visibility.data = "anonymous" if entry.anonymous else "named"

    def entry_fields(self) -> EntryFields:
        """The validated values, ready for the service."""
        return EntryFields(
            role=self.role.data,
            country=geo.country_code(self.country.data),
            region=self.region.data or None,
            since_year=self.since_year.data,
            anonymous=self.visibility.data == "anonymous",
        )
