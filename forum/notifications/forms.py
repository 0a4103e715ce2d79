"""The email settings form: one choice per event."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from forum.models.notifications import DELIVERIES, EVENTS


class SettingsForm(FlaskForm):
    """Built with one SelectField per event (see settings_form)."""

    class Meta:
        # CSRFProtect checks every post already (form field or htmx's header).
        csrf = False

    def event_fields(self):
        return [self[event] for event in EVENTS]

    def deliveries(self) -> dict[str, str]:
        return {event: self[event].data for event in EVENTS}


for _event, _label in EVENTS.items():
    setattr(
        SettingsForm,
        _event,
        SelectField(_label, choices=[SelectChoice(v, label) for v, label in DELIVERIES.items()]),
    )


def settings_form(current: dict[str, str], formdata=None) -> SettingsForm:
    """The form filled with the member's settings (or with what was posted)."""
    if formdata is None:
        return SettingsForm(formdata=None, data=current)
    return SettingsForm(formdata=formdata)
