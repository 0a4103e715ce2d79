"""Small column helpers shared by the models."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in every timestamp column (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)
