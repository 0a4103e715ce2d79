"""The form members use to ask a new question."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from forum.questions.service import PROMPT_MAX, TITLE_MAX, TITLE_MIN, one_line
from forum.text import title_key


class AskQuestionForm(FlaskForm):
    title = StringField(
        "Your question",
        filters=[one_line],
        validators=[DataRequired("Write your question.")],
    )
    prompt = StringField(
        "One line of context (optional)",
        filters=[one_line],
        validators=[Length(max=PROMPT_MAX, message=f"Keep it under {PROMPT_MAX} characters.")],
    )

    def validate_title(self, field) -> None:
        length = len(field.data)
        if not TITLE_MIN <= length <= TITLE_MAX:
            raise ValidationError(
                f"A question needs {TITLE_MIN} to {TITLE_MAX} characters; this one has {length}."
            )
        if not title_key(field.data):
            raise ValidationError("A question needs some letters or digits.")
