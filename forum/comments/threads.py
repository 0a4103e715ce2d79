"""Loading threads: a fixed number of queries, then a flat pre-ordered list for the template.

A page of threads costs two queries whatever its size: one for the ids of the page's top-level
comments, one for every comment under them joined to its author's name and map role. The tree
is then walked with an explicit stack (no recursion), so a chain thousands of replies deep is
as cheap as a flat one, and the template loops over a list with a depth on each item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select

from forum import avatars
from forum.comments import service
from forum.extensions import db
from forum.models.base import utcnow
from forum.models.comments import Comment
from forum.models.map_entries import MAP_ROLES, MapEntry
from forum.models.questions import Question
from forum.models.users import User
from forum.moderation.rules import discussion_problem, removal_notice

ORDERS = ("oldest", "newest")
DELETED_MEMBER = "[deleted member]"
# The stylesheet indents depth-0 to depth-8 (the CSP allows no inline styles): a deeper limit
# set by an operator still nests, drawn at the deepest styled step.
STYLED_INDENTS = 8


@dataclass(frozen=True)
class Viewer:
    """Who is reading, and the settings that decide what they may do with each comment."""

    user_id: int | None
    may_post: bool
    edit_minutes: int
    max_depth: int
    profile_url: Callable[[str], str | None]
    now: datetime = field(default_factory=utcnow)
    # Moderators see hidden and held text (with the notice) and the moderation controls.
    is_moderator: bool = False
    # A guest's own comments awaiting review, remembered by their browser session.
    held_ids: frozenset[int] = frozenset()


@dataclass(slots=True)
class ThreadItem:
    """One comment as a page shows it, with its permissions already decided."""

    id: int
    parent_id: int | None
    root_id: int
    depth: int
    indent: int
    author_name: str
    author_url: str | None
    # The initials avatar beside the name: its letters and colour step (forum.avatars).
    initials: str
    tone: int
    is_guest: bool
    role_label: str | None
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    # "[deleted]" or "[hidden]" for a removed comment kept for the replies under it.
    tombstone: str | None
    can_reply: bool
    can_edit: bool
    can_delete: bool
    # Set past the depth limit, where indentation no longer shows what a reply answers.
    reply_to_id: int | None = None
    reply_to_name: str | None = None
    # Set on the last reply shown before a fold: how many replies follow it unseen.
    more_count: int = 0
    # Moderation (forum.moderation): the notice over text hidden or awaiting review, shown to
    # the author and moderators (everyone else gets the notice as the tombstone); hidden is
    # True for a comment a moderator or members' reports removed.
    notice: str | None = None
    hidden: bool = False
    held: bool = False
    can_report: bool = False
    can_moderate: bool = False


@dataclass
class Thread:
    """One top-level comment and the replies shown under it, in reading order.

    The page wraps each thread in one element (`thread-<root_id>`), so unfolding a long
    thread replaces the whole thread and never lists a comment twice.
    """

    root_id: int
    items: list[ThreadItem]


@dataclass
class ThreadPage:
    """A page of top-level threads with what the pager needs."""

    threads: list[Thread]
    order: str
    page: int
    has_more: bool
    # The last top-level comment on the page: where "more comments" continues from.
    last_root_id: int | None = None
    # Every member who wrote a comment loaded for the page, shown or not: the page looks the
    # same to any other ordinary member (forum.comments.shared_list).
    author_ids: frozenset[int] = frozenset()


def comment_rows(disease_id: int) -> Select:
    """The select of comments with author name and map role; callers add the filter."""
    return (
        select(
            Comment.id,
            Comment.parent_id,
            Comment.root_id,
            Comment.depth,
            Comment.author_id,
            Comment.guest_name,
            Comment.body_html,
            Comment.created_at,
            Comment.edited_at,
            Comment.deleted_at,
            Comment.hidden_at,
            Comment.hidden_reason,
            Comment.held_at,
            User.username,
            MapEntry.role,
            MapEntry.anonymous,
        )
        .outerjoin(User, User.id == Comment.author_id)
        .outerjoin(
            MapEntry,
            and_(MapEntry.user_id == Comment.author_id, MapEntry.disease_id == disease_id),
        )
        .order_by(Comment.created_at, Comment.id)
    )


def _shown_top_level(question: Question):
    """The filter of the top-level comments a page lists: a deleted one only when something
    was ever posted under it; a hidden one stays, shown as its removal notice."""
    return (
        Comment.question_id == question.id,
        Comment.parent_id.is_(None),
        or_(Comment.deleted_at.is_(None), Comment.reply_count > 0),
    )


def top_level_ids(
    question: Question, order: str, page: int, per_page: int, after_id: int | None = None
) -> list[int]:
    """Ids of one page of the question's top-level comments, plus one more if a page follows.

    With `after_id` the page starts right after that top-level comment in the chosen order
    (keyset paging): comments posted or deleted meanwhile shift nothing, so "more comments"
    appended under a page never repeats or skips a thread. Otherwise `page` counts pages.
    A deleted top-level comment is skipped unless something was ever posted under it; a hidden
    one stays, shown as its removal notice.
    """
    stmt = select(Comment.id).where(*_shown_top_level(question))
    newest = order == "newest"
    if newest:
        stmt = stmt.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        stmt = stmt.order_by(Comment.created_at, Comment.id)
    cursor = _cursor(question, after_id)
    if cursor is not None:
        created_at, cursor_id = cursor
        if newest:
            stmt = stmt.where(
                or_(
                    Comment.created_at < created_at,
                    and_(Comment.created_at == created_at, Comment.id < cursor_id),
                )
            )
        else:
            stmt = stmt.where(
                or_(
                    Comment.created_at > created_at,
                    and_(Comment.created_at == created_at, Comment.id > cursor_id),
                )
            )
    else:
        stmt = stmt.offset((page - 1) * per_page)
    return list(db.session.scalars(stmt.limit(per_page + 1)))


def page_of_thread(question: Question, root_id: int, order: str, per_page: int) -> int:
    """The page number (from 1) of the question's threads on which thread `root_id` is listed."""
    root = _cursor(question, root_id)
    if root is None:
        return 1
    created_at, cursor_id = root
    if order == "newest":
        before = or_(
            Comment.created_at > created_at,
            and_(Comment.created_at == created_at, Comment.id > cursor_id),
        )
    else:
        before = or_(
            Comment.created_at < created_at,
            and_(Comment.created_at == created_at, Comment.id < cursor_id),
        )
    ahead = db.session.scalar(
        select(func.count(Comment.id)).where(*_shown_top_level(question), before)
    )
    return (ahead or 0) // per_page + 1


def is_folded(items: list[ThreadItem], comment_id: int, replies_shown: int) -> bool:
    """True when a page folds comment `comment_id` of this whole thread away (see fold)."""
    position = next((i for i, item in enumerate(items) if item.id == comment_id), 0)
    # items[0] is the top-level comment; the first `replies_shown` replies after it are shown.
    return position > replies_shown


def _cursor(question: Question, after_id: int | None) -> tuple[datetime, int] | None:
    """The (created_at, id) of the top-level comment a keyset page starts after."""
    if after_id is None:
        return None
    row = db.session.execute(
        select(Comment.created_at, Comment.id).where(
            Comment.id == after_id,
            Comment.question_id == question.id,
            Comment.parent_id.is_(None),
        )
    ).first()
    return (row.created_at, row.id) if row else None


def thread_page(
    question: Question,
    viewer: Viewer,
    order: str,
    page: int,
    per_page: int,
    replies_shown: int,
    after_id: int | None = None,
    open_root: int | None = None,
) -> ThreadPage:
    """A page of top-level threads with their replies, long threads folded (all but the
    thread `open_root`, opened to show a comment a link points at)."""
    viewer = open_for(question, viewer)
    ids = top_level_ids(question, order, page, per_page, after_id)
    has_more = len(ids) > per_page
    ids = ids[:per_page]
    rows = db.session.execute(comment_rows(question.disease_id).where(Comment.root_id.in_(ids)))
    rows = rows.all() if ids else []
    items = flatten(rows, ids, viewer) if ids else []
    return ThreadPage(
        group_threads(fold(items, replies_shown, open_root)),
        order,
        page,
        has_more,
        last_root_id=ids[-1] if ids else None,
        author_ids=frozenset(row.author_id for row in rows if row.author_id is not None),
    )


def whole_thread(question: Question, root_id: int, viewer: Viewer) -> list[ThreadItem]:
    """Every shown comment of one top-level thread, unfolded, in reading order."""
    viewer = open_for(question, viewer)
    rows = db.session.execute(comment_rows(question.disease_id).where(Comment.root_id == root_id))
    return flatten(rows, [root_id], viewer)


def group_threads(items: list[ThreadItem]) -> list[Thread]:
    """Items in reading order, cut into one Thread per top-level comment."""
    groups: list[Thread] = []
    for item in items:
        if item.parent_id is None or not groups:
            groups.append(Thread(item.root_id, []))
        groups[-1].items.append(item)
    return groups


def single_item(question: Question, comment: Comment, viewer: Viewer) -> ThreadItem | None:
    """One comment as its thread shows it (None when it is removed and shown nowhere).

    Loads the comment's whole thread (one query), so a tombstone, the name of the comment
    answered and the permissions come out exactly as on the thread page.
    """
    items = whole_thread(question, comment.root_id, viewer)
    return next((item for item in items if item.id == comment.id), None)


def open_for(question: Question, viewer: Viewer) -> Viewer:
    """The viewer as this question's thread sees them: nobody replies in a locked or hidden
    discussion."""
    if viewer.may_post and discussion_problem(question):
        return replace(viewer, may_post=False)
    return viewer


def _sees_held(row, viewer: Viewer) -> bool:
    return viewer.is_moderator or row.id in viewer.held_ids


def _is_removed(row, viewer: Viewer) -> bool:
    """True for a comment shown only as a placeholder kept for the replies under it: deleted, or
    awaiting review unseen by this viewer. (A hidden comment always shows its notice.)"""
    return row.deleted_at is not None or (row.held_at is not None and not _sees_held(row, viewer))


def flatten(rows: Iterable, root_ids: list[int], viewer: Viewer) -> list[ThreadItem]:
    """Rows (oldest first) to ThreadItems in pre-order under the given roots, in their order.

    Deleted comments stay as tombstones only while a shown comment hangs below them.
    """
    by_id = {}
    children: dict[int | None, list] = defaultdict(list)
    for row in rows:
        by_id[row.id] = row
        children[row.parent_id].append(row)

    ordered = []
    stack = [by_id[i] for i in reversed(root_ids) if i in by_id]
    while stack:
        row = stack.pop()
        ordered.append(row)
        kids = children.get(row.id)
        if kids:
            stack.extend(reversed(kids))

    # Walking backwards meets every reply before the comment it answers.
    shown: set[int] = set()
    for row in reversed(ordered):
        if row.id in shown or not _is_removed(row, viewer):
            shown.add(row.id)
            if row.parent_id is not None:
                shown.add(row.parent_id)

    names: dict[int, str] = {}
    items = []
    for row in ordered:
        if row.id in shown:
            item = _item(row, viewer, names)
            names[row.id] = item.author_name
            items.append(item)
    return items


def _item(row, viewer: Viewer, names: dict[int, str]) -> ThreadItem:
    removed = _is_removed(row, viewer)
    hidden = row.hidden_at is not None and row.deleted_at is None
    held = row.held_at is not None and not removed
    sees_hidden = viewer.is_moderator or service.is_author(row, viewer.user_id)
    # A hidden comment is its removal notice for everyone but its author and moderators.
    concealed = removed or (hidden and not sees_hidden)
    if row.author_id is not None:
        name, url, guest = row.username, viewer.profile_url(row.username), False
    elif row.guest_name:
        name, url, guest = row.guest_name, None, True
    else:
        name, url, guest = DELETED_MEMBER, None, False
    past_limit = row.depth > viewer.max_depth
    return ThreadItem(
        id=row.id,
        parent_id=row.parent_id,
        root_id=row.root_id,
        depth=row.depth,
        indent=min(row.depth, viewer.max_depth, STYLED_INDENTS),
        author_name=name,
        author_url=url,
        initials=avatars.initials(name) if row.author_id or guest else "?",
        tone=avatars.tone(name),
        is_guest=guest,
        # The role someone has in a disease community is health data: shown to members only,
        # and never for a member who put themselves on the map anonymously.
        role_label=MAP_ROLES.get(row.role)
        if row.role and not row.anonymous and viewer.user_id is not None
        else None,
        body_html="" if concealed else row.body_html,
        created_at=row.created_at,
        edited_at=row.edited_at,
        tombstone=_tombstone(row, removed, hidden) if concealed else None,
        can_reply=viewer.may_post and not (removed or hidden or held),
        can_edit=service.can_edit(row, viewer.user_id, viewer.edit_minutes, viewer.now),
        can_delete=service.can_delete(row, viewer.user_id),
        reply_to_id=row.parent_id if past_limit else None,
        reply_to_name=names.get(row.parent_id) if past_limit else None,
        notice=_notice(row, viewer, hidden, held) if not concealed else None,
        hidden=hidden,
        held=held,
        can_report=viewer.user_id is not None
        and not (removed or hidden or held or service.is_author(row, viewer.user_id)),
        can_moderate=viewer.is_moderator and row.deleted_at is None,
    )


def _tombstone(row, removed: bool, hidden: bool) -> str:
    if row.deleted_at is not None:
        return "[deleted]"
    if hidden:
        return removal_notice(row.hidden_reason)
    return "[awaiting review]"


def _notice(row, viewer: Viewer, hidden: bool, held: bool) -> str | None:
    """The notice over text that others cannot see, for the author or a moderator."""
    if hidden:
        if viewer.is_moderator and not service.is_author(row, viewer.user_id):
            return removal_notice(row.hidden_reason)
        return f"{removal_notice(row.hidden_reason)} Only you and the moderators see this text."
    if held:
        return "Awaiting review: a moderator will read this comment before others can see it."
    return None


def fold(
    items: list[ThreadItem], replies_shown: int, open_root: int | None = None
) -> list[ThreadItem]:
    """Keep each thread's first `replies_shown` replies; mark where the rest are folded away.

    The thread `open_root` is kept whole.
    """
    kept: list[ThreadItem] = []
    shown_in_thread = 0
    hidden_in_thread = 0
    for item in items:
        if item.parent_id is None:
            if hidden_in_thread:
                kept[-1].more_count = hidden_in_thread
            shown_in_thread = hidden_in_thread = 0
            kept.append(item)
        elif item.root_id == open_root or shown_in_thread < replies_shown:
            shown_in_thread += 1
            kept.append(item)
        else:
            hidden_in_thread += 1
    if hidden_in_thread:
        kept[-1].more_count = hidden_in_thread
    return kept
