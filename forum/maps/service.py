"""The map's rules and queries: joining, editing and leaving, counts, and who may see whom."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError

from forum import pagecache
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
# Counts of anonymous members and of roles below this show as "fewer than 3": a count of 1
# or 2 can point at one person (small-cell suppression, as health statistics publish).
SMALL_CELL = 3
# Lower bounds of the shade steps: 1, 2-4, 5-9, 10-24, 25 and more members.
SHADE_STEPS = (1, 2, 5, 10, 25)
# The fill of each shade step (0: no members), the same as .shade-N in static/css/site.css
# (a test keeps them equal): the small map is an image, which the page's stylesheet cannot reach.
SHADE_FILLS = ("#ebe4da", "#f3c9a4", "#e59c6a", "#c8703f", "#9c4a24", "#6b2c12")
SMALL_MAP_WIDTH = 480


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
    small_map_url: str


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
            counts.append(small_count(rows[role], one, many))
    return counts


def small_count(count: int, one: str, many: str) -> str:
    """ "3 caregivers", "1 caregiver", or for 1 and 2 "Fewer than 3 caregivers"."""
    if 0 < count < SMALL_CELL:
        return f"Fewer than {SMALL_CELL} {many}"
    return f"{count:,} {one if count == 1 else many}"


def country_heading(country_name: str, total: int, hidden: int, show_names: bool) -> str:
    """The country panel's heading: its total, unless the total and the named members listed
    under it would give away a suppressed count of anonymous ones."""
    if show_names and 0 < hidden < SMALL_CELL:
        return country_name
    return f"{country_name}: {total:,} member{'' if total == 1 else 's'}"


def anonymous_note(country_name: str, hidden: int) -> str | None:
    """The line about the country's anonymous members, suppressed under 3; None for none."""
    if not hidden:
        return None
    words = small_count(hidden, f"member in {country_name}", f"members in {country_name}")
    return f"{words[0].upper()}{words[1:]} chose to appear anonymously."


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
    pagecache.invalidate_disease(disease.id)
    return entry


def update_entry(entry: MapEntry, fields: EntryFields) -> None:
    """Change the member's entry (the count stays the same)."""
    _apply(entry, fields)
    pagecache.invalidate_disease(entry.disease_id)


def leave(disease: Disease, user: User) -> bool:
    """Remove the member's entry at once and uncount them; False if they had none."""
    removed = db.session.execute(
        delete(MapEntry).where(MapEntry.disease_id == disease.id, MapEntry.user_id == user.id)
    ).rowcount
    if removed:
        disease.member_count = Disease.member_count - removed
        pagecache.invalidate_disease(disease.id)
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
        small_map_url=url_for("maps.small_map", slug=disease.slug),
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


def small_map_svg(disease: Disease, counts: dict[str, int]) -> str:
    """The disease's map as a small standalone SVG image: each shade step one path, filled by
    attribute (an image takes no stylesheet), no names or links (the full map has those)."""
    world = geo.world_map(SMALL_MAP_WIDTH)
    paths: list[list[str]] = [[] for _ in SHADE_FILLS]
    for country in world.shapes:
        paths[shade(counts.get(country.code, 0))].append(country.path)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{world.view_box}" '
        f'width="{world.width}" height="{world.height}" fill-rule="evenodd">',
        f'<path d="{world.outline}" fill="#fbf8f3" stroke="#d9cfc2"/>',
    ]
    for step, fill in enumerate(SHADE_FILLS):
        if paths[step]:
            stroke = ' stroke="#ffffff" stroke-width="0.4"' if step == 0 else ""
            parts.append(f'<path d="{"".join(paths[step])}" fill="{fill}"{stroke}/>')
    parts.append("</svg>")
    return "".join(parts)


def _members(count: int) -> str:
    if count == 0:
        return "no members"
    return f"{count:,} member{'' if count == 1 else 's'}"
