"""What the question page shows of moderation: the removal notice, the lock, and the report and
moderation controls, decided here for the reader so templates decide nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_login import current_user

from forum.models.questions import Question
from forum.moderation.rules import is_moderator, removal_notice


@dataclass(frozen=True)
class QuestionModeration:
    """A question's moderation state as the current reader sees it."""

    question_id: int
    removal_notice: str | None
    hidden_at: datetime | None
    # True when the reader may not see the hidden question at all (only its notice).
    concealed: bool
    locked_at: datetime | None
    can_report: bool
    can_moderate: bool


def question_moderation(question: Question) -> QuestionModeration:
    """The moderation state of `question` for the logged-in reader (or visitor)."""
    member = current_user.is_authenticated
    moderator = is_moderator(current_user)
    author = member and question.author_id is not None and question.author_id == current_user.id
    hidden = question.hidden_at is not None
    return QuestionModeration(
        question_id=question.id,
        removal_notice=removal_notice(question.hidden_reason) if hidden else None,
        hidden_at=question.hidden_at,
        concealed=hidden and not (moderator or author),
        locked_at=question.locked_at,
        can_report=member and not author and not hidden,
        can_moderate=moderator,
    )
