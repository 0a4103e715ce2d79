"""A consistent copy of a live SQLite database, taken with SQLite's online backup API.

A file copy of a database in WAL mode can miss pages still in the `-wal` file or catch a page
half written; the backup API reads one consistent snapshot while the site keeps writing (WAL
lets readers and one writer run side by side). PostgreSQL has its own tool: pg_dump.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True)
class BackupReport:
    source: Path
    target: Path
    size_bytes: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Backed up {self.source} to {self.target} "
            f"({self.size_bytes / 1_048_576:.1f} MB in {self.seconds:.2f} s)."
        )


def pg_dump_advice(database_url: str, target: str) -> str:
    """What to run instead for a PostgreSQL database (the password never shown)."""
    url = make_url(database_url).set(drivername="postgresql")
    safe = url.render_as_string(hide_password=True)
    return (
        "This site's database is PostgreSQL; back it up with PostgreSQL's own tool, which takes "
        "a consistent snapshot while the site writes:\n"
        f"  pg_dump --format=custom --no-owner --file {target} '{safe}'\n"
        "Restore into an empty database with:\n"
        f"  pg_restore --no-owner --dbname 'postgresql://USER@HOST/NEW_DATABASE' {target}\n"
        "(see docs/deploying.md, 'Backups and a restore drill')."
    )


def backup_sqlite(database_url: str, target: str | os.PathLike) -> BackupReport:
    """Copy the SQLite database at `database_url` into the new file `target`.

    The copy is written beside the target and renamed into place only when complete and
    checked, so a half-made backup never carries the target's name. The copy is a single
    self-contained file (rollback journal, not WAL).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(pg_dump_advice(database_url, str(target)))
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up.")
    source = Path(url.database)
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name for the backup.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")

    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    started = time.monotonic()
    try:
        # The backup only reads: it never takes the write lock, so the site's writers never wait.
        src = sqlite3.connect(source, timeout=15)
        dst = sqlite3.connect(partial)
        try:
            # pages=-1 copies everything in one step: one read transaction, one snapshot.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
            result = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise BackupError(f"The copy failed SQLite's integrity check: {result}")
        finally:
            dst.close()
            src.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(source, target, target.stat().st_size, time.monotonic() - started)
