"""Private conversations: who may write, sending, reading, blocking's effect, and reports.

Only the two members of a conversation read it. A moderator reads a message only once it is
reported, and then only that message with three before and three after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.markdown import render_comment
from forum.models import Block, Conversation, Message, MessageReport, User
from forum.models.base import iso_utc, utcnow
from forum.moderation.bans import ban_problem
from forum.moderation.rules import acting_against_problem
from forum.notifications.service import notify

BODY_MAX = 5000
REPORT_REASON_MAX = 500
CONTEXT = 3
DELETED_MEMBER = "[deleted member]"
REMOVED = "message removed"


class MessageError(Exception):
    """A message that cannot be sent; `message` says why, `status` how to answer."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


def clean_text(raw: str, limit: int, empty: str) -> str:
    """Typed text with line endings unified; MessageError when blank or longer than `limit`."""
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise MessageError(empty)
    if len(text) > limit:
        raise MessageError(f"Write at most {limit:,} characters; this has {len(text):,}.")
    return text


def may_contact(sender: User) -> str | None:
    """Why `sender` may not send any contact request or message at all (a ban in force), or
    None. Both requests (forum.contacts.service) and messages ask it first."""
    return ban_problem(sender)


def blocked_between(a_id: int, b_id: int) -> bool:
    """True when either member has blocked the other."""
    return (
        db.session.scalar(
            select(Block.id)
            .where(
                or_(
                    and_(Block.blocker_id == a_id, Block.blocked_id == b_id),
                    and_(Block.blocker_id == b_id, Block.blocked_id == a_id),
                )
            )
            .limit(1)
        )
        is not None
    )


def has_blocked(blocker_id: int, blocked_id: int) -> bool:
    return (
        db.session.scalar(
            select(Block.id).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
        )
        is not None
    )


# -- conversations ------------------------------------------------------------------------------


def _pair(a_id: int, b_id: int) -> tuple[int, int]:
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def conversation_between(a_id: int, b_id: int) -> Conversation | None:
    low, high = _pair(a_id, b_id)
    return db.session.scalar(
        select(Conversation).where(
            Conversation.member_a_id == low, Conversation.member_b_id == high
        )
    )


def open_conversation(a_id: int, b_id: int) -> Conversation:
    """The pair's conversation, created when there is none yet. Flushed, not committed."""
    conversation = conversation_between(a_id, b_id)
    if conversation is None:
        low, high = _pair(a_id, b_id)
        conversation = Conversation(member_a_id=low, member_b_id=high)
        db.session.add(conversation)
        db.session.flush()
    return conversation


def members_conversation(conversation_id: int, user_id: int) -> Conversation | None:
    """The conversation when `user_id` is one of its two members, else None (a 404 for them)."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or not conversation.has_member(user_id):
        return None
    return conversation


def _visible_to(user_id: int):
    """Messages a member sees: all but those withheld from them (sent while they blocked)."""
    return or_(Message.withheld.is_(False), Message.sender_id == user_id)


@dataclass(frozen=True)
class ConversationRow:
    id: int
    other_name: str
    other_username: str | None
    last_line: str
    last_at: datetime
    last_mine: bool


def first_line(message: Message | None) -> str:
    """A message's first line of text, shortened, for the list of conversations."""
    if message is None:
        return ""
    if message.removed_at is not None:
        return REMOVED
    line = next((ln.strip() for ln in message.body_md.splitlines() if ln.strip()), "")
    return line if len(line) <= 90 else line[:89] + "…"


def conversations_for(user: User) -> list[ConversationRow]:
    """The member's conversations, newest first, with the other member and the last line the
    member can see: one query whatever the number of conversations."""
    other = aliased(User)
    last_id = (
        select(Message.id)
        .where(Message.conversation_id == Conversation.id, _visible_to(user.id))
        .order_by(Message.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Conversation, other, Message)
        .outerjoin(
            other,
            or_(
                and_(Conversation.member_a_id == user.id, other.id == Conversation.member_b_id),
                and_(Conversation.member_b_id == user.id, other.id == Conversation.member_a_id),
            ),
        )
        .outerjoin(Message, Message.id == last_id)
        .where(or_(Conversation.member_a_id == user.id, Conversation.member_b_id == user.id))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    )
    return [
        ConversationRow(
            id=conversation.id,
            other_name=member.username if member else DELETED_MEMBER,
            other_username=member.username if member else None,
            last_line=first_line(message),
            last_at=message.created_at if message else conversation.created_at,
            last_mine=bool(message and message.sender_id == user.id),
        )
        for conversation, member, message in rows
    ]


@dataclass(frozen=True)
class MessageRow:
    id: int
    mine: bool
    sender_name: str
    body_html: str
    removed: bool
    created_at: datetime


def _row(message: Message, user_id: int, names: dict[int, str]) -> MessageRow:
    mine = message.sender_id == user_id
    return MessageRow(
        id=message.id,
        mine=mine,
        sender_name=names.get(message.sender_id, DELETED_MEMBER),
        body_html="" if message.removed_at else message.body_html,
        removed=message.removed_at is not None,
        created_at=message.created_at,
    )


def messages_for(
    conversation: Conversation, user: User, limit: int
) -> tuple[list[MessageRow], bool]:
    """The conversation's latest `limit` messages the member sees, oldest first, and whether
    there are earlier ones. Two queries whatever the length."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation.id, _visible_to(user.id))
        .order_by(Message.id.desc())
        .limit(limit + 1)
    )
    messages = list(db.session.scalars(stmt))
    earlier = len(messages) > limit
    messages = list(reversed(messages[:limit]))
    names = member_names([conversation.member_a_id, conversation.member_b_id])
    return [_row(m, user.id, names) for m in messages], earlier


def newest_visible_id(conversation: Conversation, user: User) -> int:
    """The id of the newest message the member sees (0 for none): the poll's cursor."""
    return (
        db.session.scalar(
            select(Message.id)
            .where(Message.conversation_id == conversation.id, _visible_to(user.id))
            .order_by(Message.id.desc())
            .limit(1)
        )
        or 0
    )


def member_names(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def can_write(conversation: Conversation, user: User) -> bool:
    """Whether the page offers the box to write: the other member exists and the member has
    not blocked them. (Being blocked shows nothing: such messages are withheld silently.)"""
    other_id = conversation.other_id(user.id)
    return other_id is not None and not has_blocked(user.id, other_id)


def send_message(conversation: Conversation, sender: User, body: str) -> Message:
    """Add a message from `sender` and tell the other member; raises MessageError.

    A message to a member who blocked the sender is stored but withheld from them, and
    nobody is told: the blocked member learns nothing. Not committed.
    """
    problem = may_contact(sender)
    if problem:
        raise MessageError(problem, 403)
    other_id = conversation.other_id(sender.id)
    if other_id is None:
        raise MessageError("This member has deleted their account.", 409)
    if has_blocked(sender.id, other_id):
        raise MessageError("You blocked this member. Unblock them to write again.", 409)
    body = clean_text(body, BODY_MAX, "Write something before sending.")
    withheld = has_blocked(other_id, sender.id)
    message = Message(
        conversation_id=conversation.id,
        sender_id=sender.id,
        body_md=body,
        body_html=render_comment(body),
        withheld=withheld,
    )
    db.session.add(message)
    db.session.flush()
    if not withheld:
        conversation.last_message_at = message.created_at
        notify(
            other_id,
            "message",
            url_for("messages.show", conversation_id=conversation.id),
            actor=sender,
        )
    return message


def add_first_message(conversation: Conversation, sender_id: int, body_md: str, at) -> None:
    """Put an accepted request's note at the start of the conversation. Not committed."""
    if not body_md.strip():
        return
    db.session.add(
        Message(
            conversation_id=conversation.id,
            sender_id=sender_id,
            body_md=body_md,
            body_html=render_comment(body_md),
            created_at=at,
        )
    )


# -- reports -----------------------------------------------------------------------------------


def report_message(message: Message, reporter: User, reason: str) -> MessageReport:
    """Record that `reporter` (who received it) reports the message; once per member.

    Not committed."""
    existing = db.session.scalar(
        select(MessageReport).where(
            MessageReport.message_id == message.id, MessageReport.reporter_id == reporter.id
        )
    )
    if existing is not None:
        return existing
    report = MessageReport(
        message_id=message.id, reporter_id=reporter.id, reason=(reason or "").strip()[:500]
    )
    db.session.add(report)
    return report


def reportable_message(conversation: Conversation, message_id: int, user: User) -> Message | None:
    """A message of the conversation that the member received and sees, else None."""
    message = db.session.get(Message, message_id)
    if (
        message is None
        or message.conversation_id != conversation.id
        or message.sender_id == user.id
        or message.withheld
    ):
        return None
    return message


@dataclass(frozen=True)
class ReportRow:
    id: int
    created_at: datetime
    reason: str
    reporter: str
    conversation_id: int


def open_reports() -> list[ReportRow]:
    """Reported messages not yet dealt with, oldest first (moderators' list; no text)."""
    reporter = aliased(User)
    rows = db.session.execute(
        select(MessageReport, reporter.username, Message.conversation_id)
        .join(Message, Message.id == MessageReport.message_id)
        .outerjoin(reporter, reporter.id == MessageReport.reporter_id)
        .where(MessageReport.resolved_at.is_(None))
        .order_by(MessageReport.created_at, MessageReport.id)
    )
    return [
        ReportRow(r.id, r.created_at, r.reason, name or DELETED_MEMBER, conversation_id)
        for r, name, conversation_id in rows
    ]


def reported_context(report: MessageReport) -> tuple[list[MessageRow], int]:
    """The reported message with up to three messages before and three after it (what a
    moderator may read), and the reported message's id."""
    message = db.session.get(Message, report.message_id)
    base = select(Message).where(Message.conversation_id == message.conversation_id)
    before = list(
        db.session.scalars(
            base.where(Message.id < message.id).order_by(Message.id.desc()).limit(CONTEXT)
        )
    )
    after = list(
        db.session.scalars(base.where(Message.id > message.id).order_by(Message.id).limit(CONTEXT))
    )
    shown = [*reversed(before), message, *after]
    names = member_names({m.sender_id for m in shown})
    return [_row(m, -1, names) for m in shown], message.id


def report_view(report: MessageReport, moderator: User) -> dict:
    """What a moderator's page of a report shows: the message in its context, and which of the
    report's outcomes `moderator` may still choose (dismiss it, remove the message)."""
    rows, reported_id = reported_context(report)
    message = db.session.get(Message, reported_id)
    sender = db.session.get(User, message.sender_id) if message.sender_id else None
    return {
        "report": report,
        "rows": rows,
        "reported_id": reported_id,
        "can_dismiss": report.resolved_at is None,
        "can_remove": message.removed_at is None,
        "remove_problem": acting_against_problem(moderator, sender),
    }


# -- accounts ----------------------------------------------------------------------------------


def remove_member_messages(user_id: int) -> None:
    """Before an account is deleted: its messages lose their text and sender (the other side
    sees "[deleted member]" and "message removed"). Not committed."""
    db.session.execute(
        update(Message)
        .where(Message.sender_id == user_id)
        .values(body_md="", body_html="", removed_at=utcnow(), sender_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Conversation)
        .where(Conversation.member_a_id == user_id)
        .values(member_a_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Conversation)
        .where(Conversation.member_b_id == user_id)
        .values(member_b_id=None)
        .execution_options(synchronize_session=False)
    )
    # A conversation both of whose members are gone has nobody left to read it.
    db.session.execute(
        delete(Conversation).where(
            Conversation.member_a_id.is_(None), Conversation.member_b_id.is_(None)
        )
    )


def export_messages(user_id: int) -> list[dict]:
    """The member's own messages, for their JSON export."""
    rows = db.session.scalars(
        select(Message).where(Message.sender_id == user_id).order_by(Message.id)
    )
    return [
        {
            "conversation_id": m.conversation_id,
            "body_markdown": m.body_md,
            "sent_at": iso_utc(m.created_at),
        }
        for m in rows
    ]
