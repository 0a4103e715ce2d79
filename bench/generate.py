"""Benchmark data, filled through the forum's own services.

    python bench/generate.py --database-url sqlite:////tmp/bench.db --comments 200 [--seed 7]

Migrates the database, loads the demo content, then adds 2,000 members on the map of one
disease (60 countries), 200 more questions of that disease with 20,000 upvotes spread over
them, and a thread of N comments under its latest-advances article: a quarter of them
top-level, the rest replies, some chains ten deep, 200 to 600 characters of Markdown each, by a
few hundred authors and a few guests. The same seed gives the same rows (only the demo
content's own dates follow today's date, as the seed sets them). The last line printed
is the path of the question page that holds the thread, so other tools can aim at it.

A second run on the same database adds only what is missing (comments up to N).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DISEASE = "scleromyxedema"
BIG_QUESTION = "what-are-the-latest-advances-in-scleromyxedema"
# The member the benchmark logs in as (it has a real password, unlike the generated members).
BENCH_MEMBER = "bench_member"
BENCH_PASSWORD = "bench member password 7"


@dataclass(frozen=True)
class Size:
    """How much to generate besides the thread; the defaults are the benchmark's."""

    members: int = 2_000
    comment_authors: int = 300
    countries: int = 60
    questions: int = 200
    votes: int = 20_000


# Fixed, so that two runs with the same seed store the same timestamps.
ANCHOR = datetime(2026, 6, 1, 12, 0)

OPENERS = [
    "My specialist started me on IVIG last spring",
    "We saw a haematologist at a reference centre after two years of waiting",
    "The thickening on my hands got worse every winter",
    "Our support group compared notes on this at the last meeting",
    "I asked my dermatologist about the new trial",
    "My mother was diagnosed at sixty-two",
    "Physiotherapy twice a week has become part of my routine",
    "Before the diagnosis we were told it was only eczema",
    "The nurse at the infusion clinic keeps a careful diary of my reactions",
    "I read the summary of the latest case series",
]
MIDDLES = [
    "and the stiffness in my fingers eased within a few months",
    "which meant a long train ride every four weeks",
    "though the fatigue after each infusion lasts about two days",
    "and nobody in our region had seen a case before",
    "so we keep a list of questions for every appointment",
    "and the blood tests showed the paraprotein falling slowly",
    "but the swallowing problems took longer to improve",
    "and moisturising twice a day helps more than I expected",
    "while the neurologist watched for any sign of confusion",
    "and my employer agreed to let me work from home on those days",
]
CLOSERS = [
    "Has anyone else noticed the same pattern?",
    "I would be glad to hear how others manage the travel.",
    "It is worth asking for a referral early.",
    "Keep a symptom diary: it makes appointments much shorter.",
    "Small steps, but they add up.",
    "Ask about the dose schedule, it can sometimes be spread out.",
    "I hope this helps someone who has just been diagnosed.",
    "Our doctor was happy to read the paper we brought along.",
]
LIST_ITEMS = [
    "warm water soaks before stretching",
    "a pill organiser for the weekly tablets",
    "asking for the infusion on a Friday",
    "gloves with a soft lining in winter",
    "a second opinion from a reference centre",
    "writing down every new symptom with its date",
]
TOPICS = [
    "hand stiffness",
    "IVIG infusions",
    "travel to the specialist",
    "fatigue",
    "skin care",
    "swallowing",
    "work and sick leave",
    "blood tests",
    "physiotherapy",
    "talking to family",
    "diet",
    "sleep",
    "insurance cover",
    "childhood memories",
    "new trials",
    "support groups",
    "dental care",
    "winter months",
    "exercise",
    "first symptoms",
]
QUESTION_FORMS = [
    "How do you handle {topic} with scleromyxedema",
    "What helped you most with {topic}",
    "Does anyone have advice about {topic}",
    "When did {topic} start to matter for you",
    "Who should we talk to about {topic}",
    "What should a newly diagnosed person know about {topic}",
    "How did {topic} change after treatment",
    "Is {topic} different for older patients",
    "Which doctors understand {topic}",
    "What would you tell a friend about {topic}",
]


def comment_body(rng: random.Random) -> str:
    """200 to 600 characters of Markdown, in a handful of shapes."""
    shape = rng.randrange(6)
    parts = [f"{rng.choice(OPENERS)}, {rng.choice(MIDDLES)}."]
    if shape == 1:
        parts.append(f"What helped *most* was {rng.choice(LIST_ITEMS)}.")
    elif shape == 2:
        items = rng.sample(LIST_ITEMS, 3)
        parts.append("Things that made a difference:\n\n" + "\n".join(f"- {i}" for i in items))
    elif shape == 3:
        parts.insert(0, f"> {rng.choice(CLOSERS)}\n")
    elif shape == 4:
        parts.append(
            "There is a short patient summary on "
            "[the registry's site](https://example.org/registry) that explains the **basics**."
        )
    while sum(len(p) for p in parts) < 200 or rng.random() < 0.35:
        parts.append(f"{rng.choice(OPENERS)}, {rng.choice(MIDDLES)}. {rng.choice(CLOSERS)}")
    text = "\n\n".join(parts)
    if len(text) > 600:
        text = text[:597].rsplit(" ", 1)[0] + "..."
    return text


def _members(rng: random.Random, size: Size) -> list:
    """The generated members (created once) and the member the benchmark logs in as."""
    from sqlalchemy import select

    from forum.auth.passwords import UNUSABLE
    from forum.auth.service import create_user
    from forum.extensions import db
    from forum.models import User

    names = [f"bench_{n:04d}" for n in range(size.members)]
    existing = {
        u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))
    }
    made = [
        User(username=name, username_key=name, password_hash=UNUSABLE)
        for name in names
        if name not in existing
    ]
    db.session.add_all(made)
    if db.session.scalar(select(User).where(User.username_key == BENCH_MEMBER)) is None:
        create_user(BENCH_MEMBER, BENCH_PASSWORD)
    db.session.flush()
    by_name = existing | {u.username: u for u in made}
    return [by_name[name] for name in names]


def _map(disease, members: list, rng: random.Random, size: Size) -> int:
    """Put every generated member on the disease's map, over `size.countries` countries."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.maps import geo, service
    from forum.models import MapEntry
    from forum.models.map_entries import MAP_ROLES

    placed = set(
        db.session.scalars(select(MapEntry.user_id).where(MapEntry.disease_id == disease.id))
    )
    codes = sorted(shape.code for shape in geo.world_map().shapes if geo.is_country(shape.code))
    countries = rng.sample(codes, size.countries)
    # A few countries hold most members, as on a real map.
    weights = [1 / (rank + 1) ** 0.9 for rank in range(size.countries)]
    roles = list(MAP_ROLES)
    added = 0
    for member in members:
        country = rng.choices(countries, weights)[0]
        role = rng.choices(roles, [60, 15, 12, 7, 4, 2])[0]
        if member.id in placed:
            continue
        fields = service.EntryFields(
            role=role,
            country=country,
            region=rng.choice([None, None, "North", "Capital region", "Coast"]),
            since_year=rng.randrange(1995, 2026) if role == "patient" else None,
            anonymous=rng.random() < 0.1,
        )
        service.join(disease, member, fields)
        added += 1
    return added


def _questions(disease, members: list, rng: random.Random, size: Size) -> list:
    """`size.questions` more questions of the disease, asked by generated members."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Question
    from forum.questions.service import ask_question

    titles = [
        f"{form.format(topic=topic)}?"
        for form in QUESTION_FORMS
        for topic in TOPICS  # 10 forms x 20 topics = 200 titles
    ][: size.questions]
    have = {
        q.title: q for q in db.session.scalars(select(Question).where(Question.title.in_(titles)))
    }
    questions = []
    for n, title in enumerate(titles):
        question = have.get(title)
        if question is None:
            question = ask_question(disease, rng.choice(members), title)
            # Asked over the weeks before ANCHOR, so two runs store the same dates.
            question.created_at = ANCHOR - timedelta(hours=6 * (len(titles) - n))
        questions.append(question)
    db.session.flush()
    return questions


def _votes(questions: list, members: list, rng: random.Random, size: Size) -> int:
    """`size.votes` upvotes over the questions (a few popular, a long tail), by set_vote."""
    from sqlalchemy import func, select

    from forum.extensions import db
    from forum.models import Vote
    from forum.questions.voting import set_vote

    ids = [q.id for q in questions]
    if db.session.scalar(select(func.count()).where(Vote.question_id.in_(ids))):
        return 0
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(questions))]
    scale = size.votes / sum(weights)
    wanted = [min(len(members) - 1, round(w * scale)) for w in weights]
    wanted[-1] += size.votes - sum(wanted)
    added = 0
    for question, count in zip(questions, wanted, strict=True):
        voters = [m for m in rng.sample(members, count + 1) if m.id != question.author_id]
        for member in voters[:count]:
            set_vote(question, member, wanted=True)
            added += 1
    return added


def _thread(question, authors: list, comments: int, rng: random.Random) -> int:
    """Top the question's thread up to `comments` comments through place_comment."""
    from sqlalchemy import select

    from forum.comments.service import place_comment
    from forum.extensions import db
    from forum.models import Comment

    existing = list(
        db.session.scalars(
            select(Comment).where(Comment.question_id == question.id).order_by(Comment.id)
        )
    )
    threads: list[list] = []
    by_root: dict[int, list] = {}
    for comment in existing:
        if comment.parent_id is None:
            threads.append([comment])
            by_root[comment.id] = threads[-1]
        else:
            by_root[comment.root_id].append(comment)
    start = ANCHOR - timedelta(minutes=comments)
    # One thread in eight grows a chain of replies, each answering the one before, ten deep.
    chain_tips: list = []
    added = 0
    for n in range(len(existing), comments):
        body = comment_body(rng)
        in_chain = False
        if n % 4 == 0 or not threads:
            parent = None
        elif chain_tips and rng.random() < 0.4:
            parent, in_chain = chain_tips.pop(0), True
        else:
            # Recent threads get most replies, to any comment already in them.
            thread = threads[-1 - min(int(rng.expovariate(0.4)), len(threads) - 1)]
            parent = rng.choice(thread)
        guest = rng.random() < 0.05
        comment = place_comment(
            question.id,
            parent,
            body,
            author_id=None if guest else rng.choice(authors).id,
            guest_name=f"Guest {rng.randrange(1, 90)}" if guest else None,
            created_at=start + timedelta(minutes=n),
        )
        if parent is None:
            threads.append([comment])
            by_root[comment.id] = threads[-1]
            if len(threads) % 8 == 1:
                chain_tips.append(comment)
        else:
            by_root[comment.root_id].append(comment)
            if in_chain and comment.depth < 10:
                chain_tips.insert(0, comment)
        added += 1
    return added


def generate(database_url: str, comments: int, seed: int = 7, size: Size = Size()) -> str:
    """Fill the database; gives the path of the question page that holds the thread."""
    from flask import url_for
    from flask_migrate import upgrade
    from sqlalchemy import select

    from forum import create_app
    from forum.extensions import db
    from forum.models import Disease, Question
    from forum.seed import load_demo_content

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    rng = random.Random(seed)
    with app.app_context():
        began = time.perf_counter()
        upgrade()
        load_demo_content(Path(app.config["CONTENT_DIR"]))
        disease = db.session.scalar(select(Disease).where(Disease.slug == BENCH_DISEASE))
        members = _members(rng, size)
        on_map = _map(disease, members, rng, size)
        db.session.commit()
        questions = _questions(disease, members, rng, size)
        votes = _votes(questions, members, rng, size)
        db.session.commit()
        question = db.session.scalar(
            select(Question).where(Question.disease_id == disease.id, Question.slug == BIG_QUESTION)
        )
        added = _thread(question, members[: size.comment_authors], comments, rng)
        db.session.commit()
        print(
            f"generated in {time.perf_counter() - began:.1f} s: {on_map} map entries, "
            f"{len(questions)} questions, {votes} votes, {added} comments added "
            f"({comments} in the thread)"
        )
        with app.test_request_context():
            return url_for("questions.show", slug=disease.slug, question_slug=question.slug)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="e.g. sqlite:////tmp/bench.db")
    parser.add_argument("--comments", type=int, required=True, help="comments in the thread")
    parser.add_argument("--seed", type=int, default=7, help="the same seed gives the same rows")
    args = parser.parse_args(argv)
    if args.comments < 1:
        parser.error("--comments must be at least 1")
    # The forum's own settings accept the URL forms hosts hand out (postgres://...).
    os.environ["DATABASE_URL"] = args.database_url
    from forum.config import load

    url = load(str(ROOT / "instance"))["SQLALCHEMY_DATABASE_URI"]
    path = generate(url, args.comments, args.seed)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
