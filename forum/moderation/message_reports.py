"""Moderators' answers to a reported private message: dismiss the report, or remove the message.

Messages are private: the public log records a removal with its reason, never the text, the
conversation or the members in it (forum.moderation.service.log_action with kind MESSAGE).
"""

from __future__ import annotations

from sqlalchemy import update

from forum.extensions import db
from forum.models.base import utcnow
from forum.models.messages import Message, MessageReport
from forum.models.moderation import MESSAGE
from forum.models.users import User
from forum.moderation.rules import acting_against_problem
from forum.moderation.service import ModerationRefused, log_action, require_moderator


def _close_message_reports(message_id: int) -> int:
    """Close the message's open reports; gives how many (0 when another moderator was first)."""
    result = db.session.execute(
        update(MessageReport)
        .where(MessageReport.message_id == message_id, MessageReport.resolved_at.is_(None))
        .values(resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def dismiss_message_report(moderator: User, report: MessageReport) -> None:
    """Close a message's report as handled, the message left as it is. Logged, not publicly."""
    require_moderator(moderator)
    message = db.session.get(Message, report.message_id)
    count = _close_message_reports(message.id)
    if not count:
        raise ModerationRefused("This report is already closed.", 409)
    log_action("dismiss", moderator, MESSAGE, message.id, message.sender_id, detail=str(count))


def remove_message(moderator: User, report: MessageReport, reason: str) -> None:
    """Take a reported message out of its conversation (both members see "message removed"; the
    text is kept, unseen) and close its reports. The public log records it with the reason but
    without the text or the conversation; the sender is told."""
    require_moderator(moderator)
    message = db.session.get(Message, report.message_id)
    sender = db.session.get(User, message.sender_id) if message.sender_id else None
    problem = acting_against_problem(moderator, sender)
    if problem:
        raise ModerationRefused(problem, 403)
    removed = db.session.execute(
        update(Message)
        .where(Message.id == message.id, Message.removed_at.is_(None))
        .values(removed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not removed.rowcount:
        raise ModerationRefused("This message is already removed.", 409)
    _close_message_reports(message.id)
    log_action("hide", moderator, MESSAGE, message.id, message.sender_id, reason=reason)
