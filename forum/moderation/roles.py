"""Roles: administrators appoint moderators and administrators (a page, or the command line)."""

from __future__ import annotations

from forum.models.moderation import MEMBER
from forum.models.users import ROLES, User
from forum.moderation.rules import is_admin
from forum.moderation.service import ModerationRefused, log_action


def set_role(actor: User | None, member: User, role: str) -> bool:
    """Give `member` a role; `actor` None is the command line. Gives False when unchanged.

    Only an administrator appoints moderators and administrators, and never changes their own
    role (so the site cannot lose its last administrator by a slip).
    """
    if role not in ROLES:
        raise ModerationRefused(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.", 422)
    if actor is not None:
        if not is_admin(actor):
            raise ModerationRefused("Only administrators can change roles.", 403)
        if actor.id == member.id:
            raise ModerationRefused(
                "You cannot change your own role; ask another administrator.", 409
            )
    if member.role == role:
        return False
    before = member.role
    member.role = role
    log_action("role", actor, MEMBER, member.id, member.id, detail=f"{before} -> {role}")
    return True
