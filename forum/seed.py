"""Demo content: diseases and questions from Markdown files, demo members and their votes.

Loading is idempotent: rows are matched by slug or username, so a second run changes nothing.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import frontmatter
from sqlalchemy import func, select

from forum import pagecache
from forum.auth.passwords import UNUSABLE, hash_password
from forum.comments.service import place_comment
from forum.extensions import db
from forum.markdown import render_article
from forum.models import Comment, Disease, MapEntry, Question, User, Vote
from forum.models.base import utcnow
from forum.text import slugify, title_key

# Invented demo members: (username, country, region, map role, anonymous); a member without a
# country is not on the map.
DEMO_MEMBERS = [
    ("kay2500", None, None, None, False),
    ("maren_oslo", "NO", "Oslo", "patient", False),
    ("tomasz.k", "PL", "Kraków", "patient", False),
    ("lucia-rm", "ES", "Madrid", "patient", False),
    ("jeanne_d", "FR", "Lyon", "patient", False),
    ("pierre.m", "FR", "Bordeaux", "relative", False),
    ("camille_r", "FR", None, "patient", True),
    ("hans-jurgen", "DE", "Hamburg", "patient", False),
    ("greta_w", "DE", "Munich", "caregiver", False),
    ("drfischer", "DE", "Berlin", "professional", False),
    ("giulia.b", "IT", "Bologna", "patient", False),
    ("marco_t", "IT", None, "relative", True),
    ("sarah_h", "GB", "Leeds", "patient", False),
    ("oliver-p", "GB", "Bristol", "relative", False),
    ("nhs_derm_amy", "GB", "London", "professional", False),
    ("emma.jones", "US", "Ohio", "patient", False),
    ("mike_r", "US", "Texas", "patient", False),
    ("dana-caregiver", "US", "Oregon", "caregiver", False),
    ("research_lee", "US", "Maryland", "researcher", False),
    ("kate_m", "US", None, "patient", True),
    ("priya_s", "IN", "Pune", "patient", False),
    ("arjun.n", "IN", "Chennai", "relative", False),
    ("ana_paula", "BR", "São Paulo", "patient", False),
    ("joao.f", "BR", "Recife", "relative", False),
    ("sofia_ar", "AR", "Córdoba", "patient", False),
    ("diego.mx", "MX", "Guadalajara", "patient", False),
    ("claire_ca", "CA", "Quebec", "patient", False),
    ("ben_ca", "CA", "Ontario", "caregiver", False),
    ("yuki_t", "JP", "Osaka", "patient", False),
    ("mei.l", "CN", None, "patient", True),
    ("liam_au", "AU", "Perth", "patient", False),
    ("noor_h", "NL", "Utrecht", "patient", False),
    ("raregen_org", "BE", "Brussels", "organization", False),
    ("ayse.k", "TR", "Izmir", "patient", False),
    ("fatima_z", "MA", "Rabat", "relative", False),
    ("thabo_m", "ZA", "Durban", "patient", False),
    ("ingrid_se", "SE", "Gothenburg", "patient", False),
]
MAP_DISEASE = "scleromyxedema"
# The one demo account a newcomer can log in as (never in production): its password is made
# at random when the account is created, and printed by `flask seed` then, or on request.
DEMO_LOGIN = "demo"
# The demo moderator, so a newcomer can open the queue; its password is printed on first seed.
DEMO_MODERATOR = "moderator"


@dataclass
class SeedReport:
    diseases: int = 0
    questions: int = 0
    members: int = 0
    votes: int = 0
    comments: int = 0
    map_entries: int = 0
    # The demo login's password, when this run made it (it is shown once, never stored).
    demo_password: str | None = None
    # Set only on the run that created the demo moderator (the password is never stored).
    moderator_password: str | None = None

    def __str__(self) -> str:
        return (
            f"added {self.diseases} diseases, {self.questions} questions, {self.members} members, "
            f"{self.votes} votes, {self.comments} comments, {self.map_entries} map entries"
        )


def load_demo_content(
    content_dir: Path, demo_login: bool = False, new_demo_password: bool = False
) -> SeedReport:
    """Load the demo content into the database; returns what was added.

    With `demo_login`, also make the accounts a newcomer can log in as: DEMO_LOGIN (its
    password in the report; `new_demo_password` gives it a new one) and the demo moderator
    DEMO_MODERATOR (its password in the report on the run that creates it).
    """
    report = SeedReport()
    members = _ensure_members(report)
    if demo_login:
        _ensure_moderator(report)
    for folder in sorted(p for p in content_dir.iterdir() if (p / "_disease.md").exists()):
        disease = _ensure_disease(folder, report)
        for path in sorted(folder.glob("*.md")):
            if path.name.startswith("_"):
                continue
            question, post = _ensure_question(disease, path, report)
            _ensure_votes(question, members, int(post.get("demo_votes", 0)), report)
            _ensure_comments(question, members, post.get("demo_comments", []), report)
        if disease.slug == MAP_DISEASE:
            _ensure_map_entries(disease, members, report)
        _recount(disease)
    _joined_before_first_comment(members)
    if demo_login:
        _ensure_demo_login(report, new_demo_password)
    pagecache.invalidate_site()
    db.session.commit()
    return report


def _ensure_demo_login(report: SeedReport, new_password: bool) -> None:
    """The account DEMO_LOGIN, with a random password when it is made (or when asked)."""
    user = db.session.scalar(select(User).where(User.username_key == DEMO_LOGIN))
    if user is not None and not new_password:
        return
    password = secrets.token_urlsafe(12)
    if user is None:
        user = User(username=DEMO_LOGIN, username_key=DEMO_LOGIN)
        db.session.add(user)
        report.members += 1
    else:
        user.rotate_session_token()  # a new password ends the old one's logins
    user.password_hash = hash_password(password)
    report.demo_password = password


def _joined_before_first_comment(members: list[User]) -> None:
    """Give each demo member a join date some weeks or months before their first comment."""
    first = dict(
        db.session.execute(
            select(Comment.author_id, func.min(Comment.created_at))
            .where(Comment.author_id.in_([m.id for m in members]))
            .group_by(Comment.author_id)
        ).all()
    )
    for member in members:
        earliest = first.get(member.id)
        if earliest is not None and member.created_at >= earliest:
            days = random.Random(member.username).randint(20, 400)
            member.created_at = earliest - timedelta(days=days)


def _comment_time(entry: dict) -> datetime:
    """When a demo comment was posted: its fixed `date` (at 14:00), or `days_ago` before now."""
    fixed = entry.get("date")
    if isinstance(fixed, date):
        return datetime.combine(fixed, time(14, 0))
    return utcnow() - timedelta(days=int(entry.get("days_ago", 0)))


def _ensure_members(report: SeedReport) -> list[User]:
    existing = {
        u.username_key: u
        for u in db.session.scalars(
            select(User).where(User.username_key.in_([m[0].lower() for m in DEMO_MEMBERS]))
        )
    }
    members = []
    for username, *_ in DEMO_MEMBERS:
        user = existing.get(username.lower())
        if user is None:
            # Demo members cannot log in: their password hash matches no password.
            user = User(username=username, username_key=username.lower(), password_hash=UNUSABLE)
            db.session.add(user)
            report.members += 1
        members.append(user)
    db.session.flush()
    return members


def _ensure_moderator(report: SeedReport) -> None:
    """Create the demo moderator once, with a random password given back in the report."""
    if db.session.scalar(select(User.id).where(User.username_key == DEMO_MODERATOR)):
        return
    password = secrets.token_urlsafe(12)
    db.session.add(
        User(
            username=DEMO_MODERATOR,
            username_key=DEMO_MODERATOR,
            password_hash=hash_password(password),
            role="moderator",
        )
    )
    db.session.flush()
    report.members += 1
    report.moderator_password = password


def _ensure_disease(folder: Path, report: SeedReport) -> Disease:
    post = frontmatter.load(folder / "_disease.md")
    disease = db.session.scalar(select(Disease).where(Disease.slug == folder.name))
    if disease is None:
        disease = Disease(slug=folder.name)
        db.session.add(disease)
        report.diseases += 1
    synonyms = [str(s) for s in post.get("synonyms", [])]
    if disease.name != post["name"] or disease.synonyms != synonyms:
        disease.set_names(str(post["name"]), synonyms)
    if disease.overview != post.content.strip():
        disease.overview = post.content.strip()
    db.session.flush()
    return disease


def _ensure_question(disease: Disease, path: Path, report: SeedReport) -> tuple[Question, int]:
    post = frontmatter.load(path)
    slug = slugify(path.stem)
    question = db.session.scalar(
        select(Question).where(Question.disease_id == disease.id, Question.slug == slug)
    )
    if question is None:
        created = post.get("created")
        question = Question(disease_id=disease.id, slug=slug)
        if created is not None:
            question.created_at = datetime.combine(created, datetime.min.time().replace(hour=9))
        db.session.add(question)
        report.questions += 1
    reviewed = post.get("reviewed")
    fields = {
        "title": str(post["title"]),
        "title_key": title_key(str(post["title"])),
        "prompt": str(post.get("prompt", "")),
        "body_md": post.content.strip(),
        "article_author": str(post["author"]) if post.get("author") else None,
        "article_reviewed_on": reviewed if isinstance(reviewed, date) else None,
    }
    for name, value in fields.items():
        if getattr(question, name) != value:
            setattr(question, name, value)
    html = render_article(question.body_md)
    if question.body_html != html:
        question.body_html = html
    db.session.flush()
    return question, post


def _ensure_votes(question: Question, members: list[User], wanted: int, report) -> None:
    voted = set(db.session.scalars(select(Vote.user_id).where(Vote.question_id == question.id)))
    # The same members every run (seeded by the question's slug), so reruns add nothing.
    chosen = random.Random(question.slug).sample(members, min(wanted, len(members)))
    for member in chosen:
        if member.id not in voted:
            db.session.add(Vote(question_id=question.id, user_id=member.id))
            report.votes += 1
    db.session.flush()
    count = db.session.scalar(select(func.count()).where(Vote.question_id == question.id))
    if question.vote_count != count:
        question.vote_count = count


def _ensure_comments(question: Question, members: list[User], thread: list, report) -> None:
    """Post the demo conversation once; a comment already there (same author, same text)
    is left alone, so reruns add nothing."""
    by_name = {m.username: m for m in members}
    existing = {
        (row.author_id, row.body_md): row
        for row in db.session.scalars(select(Comment).where(Comment.question_id == question.id))
    }
    # Walk the nested list without recursion: (entry, parent comment or None).
    pending = [(entry, None) for entry in reversed(thread)]
    while pending:
        entry, parent = pending.pop()
        author = by_name[entry["author"]]
        body = str(entry["body"]).strip()
        comment = existing.get((author.id, body))
        if comment is None:
            comment = place_comment(
                question.id,
                parent,
                body,
                author_id=author.id,
                created_at=_comment_time(entry),
            )
            report.comments += 1
        pending.extend((reply, comment) for reply in reversed(entry.get("replies", [])))


def _ensure_map_entries(disease: Disease, members: list[User], report: SeedReport) -> None:
    placed = set(
        db.session.scalars(select(MapEntry.user_id).where(MapEntry.disease_id == disease.id))
    )
    years = random.Random("since").choices(range(1998, 2026), k=len(members))
    for member, (_, country, region, role, anonymous), year in zip(
        members, DEMO_MEMBERS, years, strict=True
    ):
        if member.id in placed or country is None:
            continue
        db.session.add(
            MapEntry(
                disease_id=disease.id,
                user_id=member.id,
                role=role,
                country=country,
                region=region,
                since_year=year if role == "patient" else None,
                anonymous=anonymous,
            )
        )
        report.map_entries += 1
    db.session.flush()


def _recount(disease: Disease) -> None:
    """Set the disease's kept counts from the rows."""
    questions = db.session.scalar(
        select(func.count()).select_from(Question).where(Question.disease_id == disease.id)
    )
    members = db.session.scalar(
        select(func.count()).select_from(MapEntry).where(MapEntry.disease_id == disease.id)
    )
    if disease.question_count != questions:
        disease.question_count = questions
    if disease.member_count != members:
        disease.member_count = members
