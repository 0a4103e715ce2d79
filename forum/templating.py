"""Template filters and globals: dates for people, pluralized counts."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from forum import avatars
from forum.models.base import iso_utc, utcnow


def time_ago(moment: datetime, now: datetime | None = None) -> str:
    """A short relative time ("3 hours ago") for a naive UTC datetime; from a year back, the
    date itself ("January 26, 2019"), which says more than "7 years ago"."""
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds >= 31_536_000:
        return long_date(moment)
    for unit, size in (
        ("month", 2_592_000),
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def long_date(moment) -> str:
    """A date for people: "January 26, 2019"."""
    return f"{moment:%B} {moment.day}, {moment:%Y}"


def exact_time(moment: datetime) -> str:
    """The full date and time, for a tooltip: "March 4, 2025, 14:05 UTC"."""
    return f"{moment:%B} {moment.day}, {moment:%Y}, {moment:%H:%M} UTC"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 vote', '3 votes'."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def register(app: Flask) -> None:
    app.jinja_env.filters["time_ago"] = time_ago
    app.jinja_env.filters["iso"] = iso_utc
    app.jinja_env.filters["exact_time"] = exact_time
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["plural"] = plural
    app.jinja_env.filters["initials"] = avatars.initials
    app.jinja_env.filters["avatar_tone"] = avatars.tone
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
