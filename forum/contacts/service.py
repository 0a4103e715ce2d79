"""Contact by consent: who may ask whom, requests and their answers, blocks.

A member chooses who may send them a request: members of a community they joined by name
(the default), any member, or nobody. Only named map entries count for "communities" on both
sides, so neither the Connect button nor a request can ever tell that someone is on a map
anonymously. A block works both ways and is never told: to the blocked member the other simply
takes no requests, as if they had chosen "nobody".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.markdown import render_comment
from forum.messages.service import (
    add_first_message,
    conversation_between,
    may_contact,
    open_conversation,
)
from forum.models import Block, ContactRequest, Conversation, MapEntry, User
from forum.models.base import iso_utc, utcnow
from forum.models.users import CONTACT_POLICIES
from forum.notifications.service import notify

NOTE_MAX = 500
NOT_TAKING = "This member is not taking contact requests."


class ContactError(Exception):
    """A request that cannot be sent or answered; `status` says how to answer it."""

    def __init__(self, message: str, status: int = 422, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


# -- who may ask whom ---------------------------------------------------------------------------


def _named_diseases(user_ids) -> dict[int, set[int]]:
    """The diseases each member joined by name (anonymous entries never count)."""
    found: dict[int, set[int]] = {}
    rows = db.session.execute(
        select(MapEntry.user_id, MapEntry.disease_id).where(
            MapEntry.user_id.in_(list(user_ids)), MapEntry.anonymous.is_(False)
        )
    )
    for user_id, disease_id in rows:
        found.setdefault(user_id, set()).add(disease_id)
    return found


def _blocked_ids(user_id: int, others) -> set[int]:
    """Which of `others` have blocked the member or been blocked by them."""
    others = list(others)
    rows = db.session.execute(
        select(Block.blocker_id, Block.blocked_id).where(
            or_(
                and_(Block.blocker_id == user_id, Block.blocked_id.in_(others)),
                and_(Block.blocked_id == user_id, Block.blocker_id.in_(others)),
            )
        )
    )
    return {b if a == user_id else a for a, b in rows}


def _policy_allows(policy: str, sender_diseases: set[int], recipient_diseases: set[int]) -> bool:
    if policy == "anyone":
        return True
    if policy == "communities":
        return bool(sender_diseases & recipient_diseases)
    return False


@dataclass(frozen=True)
class Standing:
    """Where a viewer stands with a member, as the Connect button shows it."""

    state: str  # "connect", "pending", "connected" or "none" (nothing is shown)
    url: str | None = None


def standings(viewer, members: list[User]) -> dict[int, Standing]:
    """The Connect button's state for each member, for a viewer (a fixed number of queries,
    whatever the number of members). Visitors and the viewer themself get "none"."""
    result = {m.id: Standing("none") for m in members}
    if not getattr(viewer, "is_authenticated", False):
        return result
    others = [m for m in members if m.id != viewer.id]
    if not others or may_contact(viewer) is not None:
        return result
    ids = [m.id for m in others]
    blocked = _blocked_ids(viewer.id, ids)
    diseases = _named_diseases([viewer.id, *ids])
    mine = diseases.get(viewer.id, set())
    conversations = {
        (c.member_a_id if c.member_b_id == viewer.id else c.member_b_id): c.id
        for c in db.session.scalars(
            select(Conversation).where(
                or_(
                    and_(Conversation.member_a_id == viewer.id, Conversation.member_b_id.in_(ids)),
                    and_(Conversation.member_b_id == viewer.id, Conversation.member_a_id.in_(ids)),
                )
            )
        )
    }
    pending = set(
        db.session.scalars(
            select(ContactRequest.recipient_id).where(
                ContactRequest.sender_id == viewer.id,
                ContactRequest.recipient_id.in_(ids),
                ContactRequest.status == "open",
            )
        )
    )
    for member in others:
        if member.id in blocked:
            continue
        if member.id in conversations:
            result[member.id] = Standing(
                "connected", url_for("messages.show", conversation_id=conversations[member.id])
            )
        elif member.id in pending:
            result[member.id] = Standing("pending")
        elif _policy_allows(member.contact_policy, mine, diseases.get(member.id, set())):
            result[member.id] = Standing(
                "connect", url_for("contacts.ask", username=member.username)
            )
    return result


def standings_for_ids(viewer, user_ids: list[int]) -> dict[int, Standing]:
    """standings() for members given by id (one more query to load them)."""
    if not user_ids or not getattr(viewer, "is_authenticated", False):
        return {i: Standing("none") for i in user_ids}
    users = list(db.session.scalars(select(User).where(User.id.in_(user_ids))))
    return standings(viewer, users)


def standing(viewer, member: User) -> Standing:
    return standings(viewer, [member])[member.id]


def _last_request(sender_id: int, recipient_id: int) -> ContactRequest | None:
    return db.session.scalar(
        select(ContactRequest)
        .where(ContactRequest.sender_id == sender_id, ContactRequest.recipient_id == recipient_id)
        .order_by(ContactRequest.created_at.desc(), ContactRequest.id.desc())
        .limit(1)
    )


def sent_today(sender_id: int, now: datetime | None = None) -> int:
    """How many requests the member sent in the last 24 hours."""
    since = (now or utcnow()) - timedelta(days=1)
    return (
        db.session.scalar(
            select(func.count(ContactRequest.id)).where(
                ContactRequest.sender_id == sender_id, ContactRequest.created_at > since
            )
        )
        or 0
    )


def request_problem(sender: User, recipient: User) -> ContactError | None:
    """Why `sender` cannot ask `recipient` now, or None when they can."""
    if sender.id == recipient.id:
        return ContactError("You cannot send a contact request to yourself.", 409)
    problem = may_contact(sender)
    if problem:
        return ContactError(problem, 403)
    state = standing(sender, recipient).state
    if state == "connected":
        return ContactError(f"You and {recipient.username} are already connected.", 409)
    if state == "pending":
        return ContactError(
            f"You have already asked {recipient.username}. Their answer will come as a "
            "notification.",
            409,
        )
    if state != "connect":
        return ContactError(NOT_TAKING, 403)
    answered = _last_request(sender.id, recipient.id)
    wait = timedelta(days=current_app.config["CONTACT_ASK_AGAIN_DAYS"])
    if answered is not None and answered.status == "declined":
        again = (answered.answered_at or answered.created_at) + wait
        if utcnow() < again:
            return ContactError(
                f"Your earlier request was not accepted. You may ask again from "
                f"{again:%B} {again.day}, {again:%Y}.",
                409,
            )
    reverse = _last_request(recipient.id, sender.id)
    if reverse is not None and reverse.status == "open":
        return ContactError(
            f"{recipient.username} has already asked to connect with you: answer their "
            "request on your contacts page.",
            409,
        )
    per_day = current_app.config["CONTACT_REQUESTS_PER_DAY"]
    if sent_today(sender.id) >= per_day:
        return ContactError(
            f"You can send at most {per_day} contact requests a day.", 429, retry_after=3600
        )
    return None


def send_request(sender: User, recipient: User, note: str) -> ContactRequest:
    """Send a contact request with its note and notify the recipient; raises ContactError.

    Not committed.
    """
    problem = request_problem(sender, recipient)
    if problem is not None:
        raise problem
    note = (note or "").replace("\r\n", "\n").replace("\r", "\n")
    if len(note) > NOTE_MAX:
        raise ContactError(f"The note can be at most {NOTE_MAX} characters.")
    request = ContactRequest(
        sender_id=sender.id,
        recipient_id=recipient.id,
        note_md=note.strip(),
        note_html=render_comment(note) if note.strip() else "",
    )
    db.session.add(request)
    db.session.flush()
    notify(
        recipient.id,
        "contact_request",
        url_for("contacts.index", _anchor=f"request-{request.id}"),
        actor=sender,
    )
    return request


# -- answers ----------------------------------------------------------------------------------


def incoming_request(request_id: int, user: User) -> ContactRequest | None:
    """An open request sent to `user`, else None (someone else's request is a 404)."""
    request = db.session.get(ContactRequest, request_id)
    if request is None or request.recipient_id != user.id or request.status != "open":
        return None
    return request


def accept(request: ContactRequest, user: User) -> Conversation:
    """Accept: the conversation opens with the note, and the sender is told. Not committed."""
    problem = may_contact(user)
    if problem:
        raise ContactError(problem, 403)
    request.status = "accepted"
    request.answered_at = utcnow()
    existing = conversation_between(request.sender_id, user.id)
    conversation = open_conversation(request.sender_id, user.id)
    if existing is None:
        add_first_message(conversation, request.sender_id, request.note_md, request.created_at)
        conversation.last_message_at = utcnow()
    notify(
        request.sender_id,
        "request_accepted",
        url_for("messages.show", conversation_id=conversation.id),
        actor=user,
    )
    return conversation


def decline(request: ContactRequest) -> None:
    """Decline: the sender sees "not accepted" and may ask again after a while. Not committed."""
    request.status = "declined"
    request.answered_at = utcnow()


def block(user: User, other_id: int) -> None:
    """Block another member: no requests or messages either way, the other is not told.

    Their open requests to each other are closed. Not committed.
    """
    if other_id == user.id:
        return
    exists = db.session.scalar(
        select(Block.id).where(Block.blocker_id == user.id, Block.blocked_id == other_id)
    )
    if exists is None:
        db.session.add(Block(blocker_id=user.id, blocked_id=other_id))
    now = utcnow()
    for request in db.session.scalars(
        select(ContactRequest).where(
            ContactRequest.status == "open",
            or_(
                and_(ContactRequest.sender_id == other_id, ContactRequest.recipient_id == user.id),
                and_(ContactRequest.sender_id == user.id, ContactRequest.recipient_id == other_id),
            ),
        )
    ):
        request.status = "declined"
        request.answered_at = now


def unblock(user: User, other_id: int) -> bool:
    """Lift the member's block of another; gives False when there was none. Not committed."""
    result = db.session.execute(
        delete(Block).where(Block.blocker_id == user.id, Block.blocked_id == other_id)
    )
    return bool(result.rowcount)


def set_policy(user: User, policy: str) -> None:
    """Choose who may send the member contact requests. Not committed."""
    if policy not in CONTACT_POLICIES:
        raise ContactError("Choose one of the options.")
    user.contact_policy = policy


# -- the contacts page --------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    id: int
    other: str
    note_html: str
    status: str  # as the viewer may see it: "waiting", "not accepted", "accepted", "open"
    created_at: datetime
    conversation_url: str | None = None


def incoming_requests(user: User) -> list[RequestRow]:
    """Open requests to the member, oldest first, with the sender's name (one query)."""
    sender = aliased(User)
    rows = db.session.execute(
        select(ContactRequest, sender.username)
        .join(sender, sender.id == ContactRequest.sender_id)
        .where(ContactRequest.recipient_id == user.id, ContactRequest.status == "open")
        .order_by(ContactRequest.created_at, ContactRequest.id)
    )
    return [RequestRow(r.id, name, r.note_html, "open", r.created_at) for r, name in rows]


SENDER_WORDS = {"open": "waiting for an answer", "accepted": "accepted", "declined": "not accepted"}


def sent_requests(user: User, limit: int = 50) -> list[RequestRow]:
    """The member's own requests, newest first; a declined one reads "not accepted"."""
    recipient = aliased(User)
    rows = db.session.execute(
        select(ContactRequest, recipient.username)
        .join(recipient, recipient.id == ContactRequest.recipient_id)
        .where(ContactRequest.sender_id == user.id)
        .order_by(ContactRequest.created_at.desc(), ContactRequest.id.desc())
        .limit(limit)
    )
    return [
        RequestRow(r.id, name, r.note_html, SENDER_WORDS[r.status], r.created_at)
        for r, name in rows
    ]


@dataclass(frozen=True)
class BlockedRow:
    user_id: int
    username: str
    since: datetime


def blocked_members(user: User) -> list[BlockedRow]:
    rows = db.session.execute(
        select(Block, User.username)
        .join(User, User.id == Block.blocked_id)
        .where(Block.blocker_id == user.id)
        .order_by(User.username_key)
    )
    return [BlockedRow(b.blocked_id, name, b.created_at) for b, name in rows]


def export_requests(user: User) -> list[dict]:
    """The member's sent requests (with their notes) and received ones, for the export."""
    other = aliased(User)
    rows = db.session.execute(
        select(ContactRequest, other.username)
        .outerjoin(
            other,
            other.id
            == case(
                (ContactRequest.sender_id == user.id, ContactRequest.recipient_id),
                else_=ContactRequest.sender_id,
            ),
        )
        .where(or_(ContactRequest.sender_id == user.id, ContactRequest.recipient_id == user.id))
        .order_by(ContactRequest.created_at, ContactRequest.id)
    )
    exported = []
    for r, name in rows:
        mine = r.sender_id == user.id
        item = {
            "direction": "sent" if mine else "received",
            "other_member": name,
            "status": r.status
            if not mine
            else {"declined": "not accepted"}.get(r.status, r.status),
            "sent_at": iso_utc(r.created_at),
            "answered_at": iso_utc(r.answered_at),
        }
        if mine:
            item["note_markdown"] = r.note_md
        exported.append(item)
    return exported
