"""The message box and the report form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField

from forum.messages.service import BODY_MAX, REPORT_REASON_MAX


class MessageForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every post (form field or htmx's header)

    body = TextAreaField(
        "Your message",
        render_kw={"maxlength": BODY_MAX, "rows": 3, "dir": "auto", "required": True},
    )
    error: str | None = None


class ReportForm(FlaskForm):
    class Meta:
        csrf = False

    reason = TextAreaField(
        "What is wrong with this message? (optional)",
        render_kw={"maxlength": REPORT_REASON_MAX, "rows": 2},
    )
