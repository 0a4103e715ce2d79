"""Small column helpers shared by the models."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in every timestamp column (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso_utc(moment: datetime | None) -> str | None:
    """A stored timestamp as ISO 8601 in UTC ("2026-03-04T14:05:00Z"), for <time> and JSON."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
