"""Factories for the connect features: requests, conversations, messages, verified addresses."""

from __future__ import annotations

from datetime import timedelta

from forum.extensions import db
from forum.markdown import render_comment
from forum.models import Block, ContactRequest, Conversation, Message, User
from forum.models.base import utcnow


def verify(user: User, email: str | None = None) -> User:
    """Give the member a verified address."""
    user.email = email or f"{user.username}@example.org"
    user.email_verified_at = utcnow()
    db.session.commit()
    return user


def make_request(
    sender: User, recipient: User, note: str = "Hello there.", status: str = "open", age=None
) -> ContactRequest:
    created = utcnow() - (age or timedelta(0))
    request = ContactRequest(
        sender_id=sender.id,
        recipient_id=recipient.id,
        note_md=note,
        note_html=render_comment(note),
        status=status,
        created_at=created,
        answered_at=created if status != "open" else None,
    )
    db.session.add(request)
    db.session.commit()
    return request


def make_conversation(
    a: User, b: User, *messages: tuple[User, str], age: timedelta = timedelta(0)
) -> Conversation:
    """A conversation of two members with messages (sender, text), oldest first; its last
    message `age` ago."""
    low, high = sorted((a.id, b.id))
    conversation = Conversation(member_a_id=low, member_b_id=high)
    db.session.add(conversation)
    db.session.flush()
    start = utcnow() - age - timedelta(minutes=len(messages) + 1)
    for n, (sender, text) in enumerate(messages):
        db.session.add(
            Message(
                conversation_id=conversation.id,
                sender_id=sender.id,
                body_md=text,
                body_html=render_comment(text),
                created_at=start + timedelta(minutes=n),
            )
        )
    conversation.last_message_at = start + timedelta(minutes=len(messages))
    db.session.commit()
    return conversation


def make_block(blocker: User, blocked: User) -> Block:
    block = Block(blocker_id=blocker.id, blocked_id=blocked.id)
    db.session.add(block)
    db.session.commit()
    return block
