"""Moderation writes: reports, dismiss, hide and restore, locks, bans, guest review, reported
private messages and roles.

Each function checks its rule, makes one change and writes its log entry in the session; the
caller commits once, so an action and its log entry land in one transaction or not at all.
Every moderation write goes through a function here (a cache of visitor pages hooks in here).

Other features ask `ban_problem(user)` / `active_ban(user)` before letting a member post.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from forum import pagecache
from forum.comments.service import recount_comments
from forum.extensions import db
from forum.models.base import utcnow
from forum.models.comments import Comment
from forum.models.diseases import Disease
from forum.models.moderation import (
    COMMENT,
    MEMBER,
    QUESTION,
    Ban,
    ModerationAction,
    Report,
)
from forum.models.questions import Question
from forum.models.users import User
from forum.moderation.bans import BAN_LENGTHS, active_ban, forget_active_bans
from forum.moderation.bans import ban_problem as ban_problem  # other features ask it here
from forum.moderation.rules import (
    AUTO_HIDDEN,
    REPORT_REASONS,
    acting_against_problem,
    is_moderator,
)
from forum.notifications.service import notify, path_for

KINDS = (COMMENT, QUESTION)


class ModerationRefused(Exception):
    """The action is not allowed (403), conflicts with the item's state (409) or finds nothing
    (404); str(exc) says why in words for the person who tried."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.status = status


class AlreadyReported(ModerationRefused):
    def __init__(self, noun: str):
        super().__init__(
            f"You have already reported this {noun}. Moderators will look at it; "
            "one report per member is enough.",
            409,
        )


@dataclass
class Target:
    """A comment or a question that a report or an action is about, with its thread."""

    kind: str
    item: Comment | Question
    question: Question
    author: User | None

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def noun(self) -> str:
        return self.kind

    @property
    def hidden(self) -> bool:
        return self.item.hidden_at is not None


def load_target(kind: str, item_id: int) -> Target | None:
    """The comment or question `item_id` with its question and author; None when there is none
    (or the comment was deleted by its author)."""
    if kind == COMMENT:
        comment = db.session.get(Comment, item_id)
        if comment is None or comment.deleted_at is not None:
            return None
        item, question = comment, db.session.get(Question, comment.question_id)
    elif kind == QUESTION:
        item = question = db.session.get(Question, item_id)
        if question is None:
            return None
    else:
        return None
    author = db.session.get(User, item.author_id) if item.author_id else None
    return Target(kind, item, question, author)


# -- the log --------------------------------------------------------------------------------


def log_action(
    action: str,
    moderator: User | None,
    target_type: str,
    target_id: int,
    target_user_id: int | None,
    reason: str = "",
    detail: str = "",
    automatic: bool = False,
) -> ModerationAction:
    """Add an entry to the moderation log (in the caller's transaction)."""
    entry = ModerationAction(
        action=action,
        moderator_id=moderator.id if moderator else None,
        automatic=automatic,
        target_type=target_type,
        target_id=target_id,
        target_user_id=target_user_id,
        reason=reason[:300],
        detail=detail[:100],
        created_at=utcnow(),
    )
    db.session.add(entry)
    _tell_the_member(action, target_type, target_id, target_user_id, reason)
    return entry


# What a member hears about moderators' actions on their content or account (never who
# reported it): a notification in the same transaction, leading to the public log.
_ACTION_WORDS = {
    "hide": "A moderator removed your {noun}",
    "restore": "A moderator restored your {noun}",
    "lock": "A moderator locked the discussion of your question",
    "unlock": "A moderator reopened the discussion of your question",
    "ban": "A moderator banned your account",
    "unban": "A moderator lifted the ban on your account",
}


def _tell_the_member(action, target_type, target_id, target_user_id, reason) -> None:
    words = _ACTION_WORDS.get(action)
    if words is None or target_user_id is None:
        return
    summary = words.format(noun=target_type)
    if reason:
        summary = f"{summary}: {reason}"
    notify(target_user_id, "moderation", path_for("moderation.log"), summary=summary[:200])


# -- reports ----------------------------------------------------------------------------------


def report_item(
    reporter: User, target: Target, reason: str, note: str = "", hide_at: int | None = None
) -> Report:
    """File `reporter`'s report; hides the item once `hide_at` members reported it (default:
    REPORTS_TO_HIDE). Raises AlreadyReported, or ModerationRefused for the member's own item
    or an item already removed."""
    if reason not in REPORT_REASONS:
        raise ModerationRefused("Choose a reason for the report.", 422)
    refused = report_refusal(reporter, target)
    if refused:
        raise refused
    report = Report(
        target_type=target.kind,
        target_id=target.id,
        reporter_id=reporter.id,
        reason=reason,
        note=" ".join(note.split())[:500],
        created_at=utcnow(),
    )
    try:
        # A savepoint: a second report by the same member (even a concurrent one) only undoes
        # this INSERT, and the member is told they already reported it.
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise AlreadyReported(target.noun) from None
    threshold = hide_at if hide_at is not None else current_app.config["REPORTS_TO_HIDE"]
    if open_report_count(target) >= threshold and not _is_staff(target.author):
        _hide(target, AUTO_HIDDEN)
        log_action(
            "hide",
            None,
            target.kind,
            target.id,
            target.item.author_id,
            reason=AUTO_HIDDEN,
            automatic=True,
        )
    return report


def report_refusal(reporter: User, target: Target) -> ModerationRefused | None:
    """Why `reporter` cannot report the item (their own, already out of sight, or already
    reported by them), or None."""
    if target.item.author_id is not None and target.item.author_id == reporter.id:
        return ModerationRefused(f"You cannot report your own {target.noun}.", 403)
    if target.hidden or getattr(target.item, "held_at", None) is not None:
        return ModerationRefused(
            f"This {target.noun} is already out of sight, waiting for a moderator or removed.",
            409,
        )
    if has_reported(reporter, target.kind, target.id):
        return AlreadyReported(target.noun)
    return None


def has_reported(user: User, kind: str, item_id: int) -> bool:
    stmt = select(Report.id).where(
        Report.target_type == kind, Report.target_id == item_id, Report.reporter_id == user.id
    )
    return db.session.scalar(stmt.limit(1)) is not None


def open_report_count(target: Target) -> int:
    stmt = select(func.count(Report.id)).where(
        Report.target_type == target.kind,
        Report.target_id == target.id,
        Report.resolved_at.is_(None),
    )
    return db.session.scalar(stmt) or 0


def _resolve_reports(target: Target, moderator: User, resolution: str) -> int:
    """Close the item's open reports with the moderator's decision; gives how many."""
    result = db.session.execute(
        update(Report)
        .where(
            Report.target_type == target.kind,
            Report.target_id == target.id,
            Report.resolved_at.is_(None),
        )
        .values(resolved_at=utcnow(), resolution=resolution, resolved_by_id=moderator.id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _is_staff(user: User | None) -> bool:
    # Reports alone never hide a moderator's or an administrator's words: a moderator decides.
    return user is not None and user.is_moderator


# -- hiding, restoring, dismissing --------------------------------------------------------------


def require_moderator(actor: User) -> None:
    if not is_moderator(actor):
        raise ModerationRefused("Only moderators can do that.", 403)


def _hide(target: Target, reason: str) -> None:
    item = target.item
    newly = item.hidden_at is None
    item.hidden_at = item.hidden_at or utcnow()
    item.hidden_reason = reason
    db.session.flush()
    if target.kind == COMMENT:
        recount_comments(item.question_id)
    else:
        pagecache.invalidate_disease(item.disease_id)
        if newly:
            _add_to_question_count(item.disease_id, -1)


def _unhide(target: Target) -> None:
    item = target.item
    item.hidden_at = None
    item.hidden_reason = None
    db.session.flush()
    if target.kind == COMMENT:
        recount_comments(item.question_id)
    else:
        _add_to_question_count(item.disease_id, 1)


def _add_to_question_count(disease_id: int, delta: int) -> None:
    # The disease's lists change: visitors' cached pages of it go stale at once.
    pagecache.invalidate_disease(disease_id)
    db.session.execute(
        update(Disease)
        .where(Disease.id == disease_id)
        .values(question_count=Disease.question_count + delta)
        .execution_options(synchronize_session=False)
    )


def hide_item(moderator: User, target: Target, reason: str) -> None:
    """Hide the item with a public reason and close its reports; logged."""
    require_moderator(moderator)
    problem = acting_against_problem(moderator, target.author)
    if problem:
        raise ModerationRefused(problem, 403)
    if getattr(target.item, "held_at", None) is not None:
        raise ModerationRefused("This guest comment awaits review: approve or reject it.", 409)
    if target.hidden and target.item.hidden_reason == reason:
        raise ModerationRefused(f"This {target.noun} is already hidden.", 409)
    _hide(target, reason)
    _resolve_reports(target, moderator, "hidden")
    log_action("hide", moderator, target.kind, target.id, target.item.author_id, reason=reason)


def restore_item(moderator: User, target: Target) -> None:
    """Bring a hidden item back exactly as it was and close its reports; logged."""
    require_moderator(moderator)
    if target.author is not None and target.author.id == moderator.id:
        raise ModerationRefused("You cannot restore your own content; ask another moderator.", 403)
    if not target.hidden:
        raise ModerationRefused(f"This {target.noun} is not hidden.", 409)
    _unhide(target)
    _resolve_reports(target, moderator, "restored")
    log_action("restore", moderator, target.kind, target.id, target.item.author_id)


def dismiss_reports(moderator: User, target: Target) -> int:
    """Close the item's open reports as unfounded; an item the reports hid comes back."""
    require_moderator(moderator)
    count = _resolve_reports(target, moderator, "dismissed")
    if not count:
        raise ModerationRefused(f"This {target.noun} has no open reports.", 409)
    log_action(
        "dismiss", moderator, target.kind, target.id, target.item.author_id, detail=str(count)
    )
    if target.hidden and target.item.hidden_reason == AUTO_HIDDEN:
        _unhide(target)
        log_action("restore", moderator, target.kind, target.id, target.item.author_id)
    return count


# -- locks ------------------------------------------------------------------------------------


def lock_question(moderator: User, question: Question) -> None:
    """Close the question's discussion to new comments and replies; logged."""
    require_moderator(moderator)
    if question.locked_at is not None:
        raise ModerationRefused("This discussion is already locked.", 409)
    question.locked_at = utcnow()
    question.locked_by_id = moderator.id
    pagecache.invalidate_question(question.id)
    log_action("lock", moderator, QUESTION, question.id, question.author_id)


def unlock_question(moderator: User, question: Question) -> None:
    """Open a locked discussion again; logged."""
    require_moderator(moderator)
    if question.locked_at is None:
        raise ModerationRefused("This discussion is not locked.", 409)
    question.locked_at = None
    question.locked_by_id = None
    pagecache.invalidate_question(question.id)
    log_action("unlock", moderator, QUESTION, question.id, question.author_id)


# -- bans --------------------------------------------------------------------------------------


def ban_member(moderator: User, member: User, length: str, reason: str) -> Ban:
    """Ban `member` for a day, a week or until lifted; a ban in force is replaced. Logged."""
    forget_active_bans()
    require_moderator(moderator)
    problem = acting_against_problem(moderator, member)
    if problem:
        raise ModerationRefused(problem, 403)
    words, duration = BAN_LENGTHS[length]
    now = utcnow()
    current = active_ban(member)
    if current is not None:
        current.lifted_at = now
        current.lifted_by_id = moderator.id
    ban = Ban(
        user_id=member.id,
        moderator_id=moderator.id,
        reason=reason,
        created_at=now,
        ends_at=now + duration if duration else None,
    )
    db.session.add(ban)
    log_action("ban", moderator, MEMBER, member.id, member.id, reason=reason, detail=words)
    return ban


def lift_ban(moderator: User, member: User) -> None:
    """End the member's ban now; logged."""
    forget_active_bans()
    require_moderator(moderator)
    problem = acting_against_problem(moderator, member)
    if problem:
        raise ModerationRefused(problem, 403)
    ban = active_ban(member)
    if ban is None:
        raise ModerationRefused(f"{member.username} is not banned.", 409)
    ban.lifted_at = utcnow()
    ban.lifted_by_id = moderator.id
    log_action("unban", moderator, MEMBER, member.id, member.id)


# -- guests' comments awaiting review ------------------------------------------------------------


def _held_comment(comment: Comment) -> None:
    if comment.held_at is None or comment.deleted_at is not None:
        raise ModerationRefused("This comment is not awaiting review.", 409)


def approve_comment(moderator: User, comment: Comment) -> None:
    """Publish a guest's held comment: everyone sees it, and it counts. Logged."""
    require_moderator(moderator)
    _held_comment(comment)
    comment.held_at = None
    db.session.flush()
    recount_comments(comment.question_id)
    log_action("approve", moderator, COMMENT, comment.id, None)


def reject_comment(moderator: User, comment: Comment) -> None:
    """Refuse a guest's held comment: it is deleted unseen. Logged."""
    require_moderator(moderator)
    _held_comment(comment)
    comment.deleted_at = utcnow()
    # Its placeholder leaves the thread (or says "[deleted]" over replies): cached pages too.
    pagecache.invalidate_question(comment.question_id)
    log_action("reject", moderator, COMMENT, comment.id, None)
