"""The little forum every moderation test runs in, and helpers to read what the database holds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, Disease, ModerationAction, Question, Report, User
from tests.conftest import login
from tests.factories import make_comment, make_disease, make_question, make_user


@dataclass
class World:
    alice: User  # a member: wrote the top comment
    bob: User  # a member: replied to alice
    carol: User
    dave: User
    mona: User  # a moderator
    ada: User  # an administrator
    disease: Disease
    question: Question  # asked by carol
    top: Comment  # alice's comment
    reply: Comment  # bob's reply to it
    admin_comment: Comment  # ada's comment
    mod_comment: Comment  # mona's comment

    @property
    def question_path(self) -> str:
        return f"/diseases/{self.disease.slug}/questions/{self.question.slug}"


def build_world() -> World:
    """Put the world in the test's database (call it from a `world` fixture)."""
    alice, bob, carol, dave = (make_user(n) for n in ("alice_a", "bob_b", "carol_c", "dave_d"))
    mona = make_user("mona_mod", role="moderator")
    ada = make_user("ada_admin", role="admin")
    disease = make_disease("Scleromyxedema")
    question = make_question(disease, "Is scleromyxedema hereditary?", author_id=carol.id)
    top = make_comment(question, alice, "Alice thinks it is not inherited.")
    reply = make_comment(question, bob, "Bob agrees with Alice.", parent=top)
    admin_comment = make_comment(question, ada, "Ada the administrator writes.")
    mod_comment = make_comment(question, mona, "Mona the moderator writes.")
    return World(
        alice, bob, carol, dave, mona, ada, disease, question, top, reply, admin_comment,
        mod_comment,
    )  # fmt: skip


def as_user(client, user: User | None):
    """The client, logged in as `user` (or left a visitor)."""
    if user is not None:
        login(client, user)
    return client


def fresh(model, item_id):
    """The row as the database holds it now."""
    db.session.expire_all()
    return db.session.get(model, item_id)


def log_entries(action: str | None = None) -> list[ModerationAction]:
    db.session.expire_all()
    stmt = select(ModerationAction).order_by(ModerationAction.id)
    if action:
        stmt = stmt.where(ModerationAction.action == action)
    return list(db.session.scalars(stmt))


def report_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Report.id)))


def article(html: str, comment_id: int) -> str:
    """The markup of one comment's <article> in a page."""
    match = re.search(rf'<article id="comment-{comment_id}".*?</article>', html, re.S)
    assert match, f"comment-{comment_id} is not on the page"
    return match.group(0)


def text_of(response) -> str:
    return response.get_data(as_text=True)
