"""The map's rules and queries: joining, editing and leaving, counts, and who may see whom."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError

from forum.extensions import db
from forum.maps import geo
from forum.models import Disease, MapEntry, User
from forum.models.map_entries import MAP_ROLES

# How each role reads in a count: (one, many).
ROLE_COUNT_WORDS = {
    "patient": ("person with the disease", "people with the disease"),
    "relative": ("relative or friend", "relatives or friends"),
    "caregiver": ("caregiver", "caregivers"),
    "professional": ("health care professional", "health care professionals"),
    "researcher": ("researcher", "researchers"),
    "organization": ("organization", "organizations"),
}
# Lower bounds of the shade steps: 1, 2-4, 5-9, 10-24, 25 and more members.
SHADE_STEPS = (1, 2, 5, 10, 25)


class AlreadyOnMap(Exception):
    """The member already has an entry on this disease's map."""


@dataclass(frozen=True)
class EntryFields:
    role: str
    country: str
    region: str | None
    since_year: int | None
    anonymous: bool


@dataclass(frozen=True)
class MapBlock:
    """What the map call-out on disease and question pages shows."""

    member_count: int
    joined: bool
    map_url: str
    join_url: str
    edit_url: str


@dataclass(frozen=True)
class CountryCount:
    code: str
    name: str
    count: int
    url: str


@dataclass(frozen=True)
class MapCountry:
    """One country as the SVG draws it."""

    code: str
    path: str
    shade: int
    title: str
    url: str | None


@dataclass(frozen=True)
class LegendStep:
    shade: int
    label: str


@dataclass(frozen=True)
class NamedMember:
    username: str
    role: str
    region: str | None
    since_year: int | None
    profile_url: str | None
    user_id: int = 0


# Queries ---------------------------------------------------------------------------------------


def member_entry(disease: Disease, user) -> MapEntry | None:
    """The member's entry on the disease's map, or None (always None for a visitor)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(MapEntry).where(MapEntry.disease_id == disease.id, MapEntry.user_id == user.id)
    )


def country_counts(disease: Disease) -> dict[str, int]:
    """Members per country (alpha-2 code), anonymous members included."""
    rows = db.session.execute(
        select(MapEntry.country, func.count())
        .where(MapEntry.disease_id == disease.id)
        .group_by(MapEntry.country)
    )
    return {country: count for country, count in rows}


def role_counts(disease: Disease) -> list[str]:
    """Phrases like "3 people with the disease" for every role that has members, in role order."""
    rows = {
        role: count
        for role, count in db.session.execute(
            select(MapEntry.role, func.count())
            .where(MapEntry.disease_id == disease.id)
            .group_by(MapEntry.role)
        )
    }
    counts = []
    for role in MAP_ROLES:
        if rows.get(role):
            one, many = ROLE_COUNT_WORDS[role]
            counts.append(f"{rows[role]:,} {one if rows[role] == 1 else many}")
    return counts


def named_members(disease: Disease, country: str) -> list[NamedMember]:
    """The country's members who chose to appear by name, by username; never anonymous ones."""
    rows = db.session.execute(
        select(User.username, MapEntry.role, MapEntry.region, MapEntry.since_year, User.id)
        .join(User, User.id == MapEntry.user_id)
        .where(
            MapEntry.disease_id == disease.id,
            MapEntry.country == country,
            MapEntry.anonymous.is_(False),
        )
        .order_by(User.username_key)
    )
    return [
        NamedMember(
            username, MAP_ROLES.get(role, role), region, since_year, profile_url(username), user_id
        )
        for username, role, region, since_year, user_id in rows
    ]


def profile_url(username: str) -> str | None:
    """The member's profile page, once the members blueprint has one."""
    try:
        return url_for("members.show", username=username)
    except BuildError:
        return None


# Changes ---------------------------------------------------------------------------------------


def join(disease: Disease, user: User, fields: EntryFields) -> MapEntry:
    """Put the member on the map and count them, in the caller's transaction.

    Raises AlreadyOnMap (after rolling back) when they already have an entry, even when two
    requests race: the unique constraint decides.
    """
    entry = MapEntry(disease_id=disease.id, user_id=user.id)
    _apply(entry, fields)
    db.session.add(entry)
    # An UPDATE ... SET member_count = member_count + 1, so concurrent joins never lose a count.
    disease.member_count = Disease.member_count + 1
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise AlreadyOnMap from exc
    return entry


def update_entry(entry: MapEntry, fields: EntryFields) -> None:
    """Change the member's entry (the count stays the same)."""
    _apply(entry, fields)


def leave(disease: Disease, user: User) -> bool:
    """Remove the member's entry at once and uncount them; False if they had none."""
    removed = db.session.execute(
        delete(MapEntry).where(MapEntry.disease_id == disease.id, MapEntry.user_id == user.id)
    ).rowcount
    if removed:
        disease.member_count = Disease.member_count - removed
    return bool(removed)


def _apply(entry: MapEntry, fields: EntryFields) -> None:
    entry.role = fields.role
    entry.country = fields.country
    entry.region = fields.region or None
    entry.since_year = fields.since_year
    entry.anonymous = fields.anonymous


# What pages show -------------------------------------------------------------------------------


def map_block(disease: Disease) -> MapBlock:
    """The map call-out's state for the current member (or visitor)."""
    return MapBlock(
        member_count=disease.member_count,
        joined=member_entry(disease, current_user) is not None,
        map_url=url_for("maps.show", slug=disease.slug),
        join_url=url_for("maps.join", slug=disease.slug),
        edit_url=url_for("maps.edit", slug=disease.slug),
    )


def shade(count: int) -> int:
    """The shade step (0 for none, up to len(SHADE_STEPS)) for a member count."""
    return sum(1 for low in SHADE_STEPS if count >= low)


def legend() -> list[LegendStep]:
    """The legend's steps, from no members to the darkest shade."""
    steps = [LegendStep(0, "None")]
    for i, low in enumerate(SHADE_STEPS):
        high = SHADE_STEPS[i + 1] - 1 if i + 1 < len(SHADE_STEPS) else None
        if high is None:
            label = f"{low} or more"
        elif high == low:
            label = str(low)
        else:
            label = f"{low}–{high}"
        steps.append(LegendStep(i + 1, label))
    return steps


def country_url(disease: Disease, code: str) -> str:
    return url_for("maps.country", slug=disease.slug, code=code)


def count_table(disease: Disease, counts: dict[str, int]) -> list[CountryCount]:
    """Countries with members, most members first, then by name."""
    rows = [
        CountryCount(code, geo.country_name(code), count, country_url(disease, code))
        for code, count in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row.count, row.name))


def map_countries(disease: Disease, counts: dict[str, int]) -> list[MapCountry]:
    """Every country shape with its shade, tooltip and (when it has members) its link."""
    countries = []
    for shape in geo.world_map().shapes:
        count = counts.get(shape.code, 0)
        countries.append(
            MapCountry(
                code=shape.code,
                path=shape.path,
                shade=shade(count),
                title=f"{shape.name}: {_members(count)}",
                url=country_url(disease, shape.code) if count else None,
            )
        )
    return countries


def _members(count: int) -> str:
    if count == 0:
        return "no members"
    return f"{count:,} member{'' if count == 1 else 's'}"
