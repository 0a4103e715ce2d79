"""Diseases: each has its own page, questions and member map."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow


class Disease(db.Model):
    __tablename__ = "diseases"
    __table_args__ = (
        CheckConstraint("member_count >= 0", name="member_count_not_negative"),
        CheckConstraint("question_count >= 0", name="question_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Lower-cased name and synonyms, so the home page search is one LIKE on every database.
    search_text: Mapped[str] = mapped_column(Text, default="")
    overview: Mapped[str] = mapped_column(Text, default="")
    # Kept in step with the map entries and questions in the same transaction.
    member_count: Mapped[int] = mapped_column(default=0, server_default="0")
    question_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped by every write that changes what the disease's pages show (forum.pagecache):
    # cached pages for visitors are keyed on it, so a write makes them stale at once.
    page_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def set_names(self, name: str, synonyms: list[str]) -> None:
        """Set the name and synonyms and the search text derived from them."""
        self.name = name
        self.synonyms = list(synonyms)
        self.search_text = " | ".join([name, *synonyms]).lower()

    def __repr__(self) -> str:
        return f"<Disease {self.slug}>"


def search_diseases(query: str = "") -> list[Disease]:
    """Diseases whose name or a synonym contains `query` (all of them when empty), by name."""
    stmt = select(Disease).order_by(Disease.name, Disease.id)
    needle = query.strip().lower()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Disease.search_text.like(f"%{escaped}%", escape="\\"))
    return list(db.session.scalars(stmt))


def disease_or_404(slug: str) -> Disease:
    """The disease with this slug, or a 404."""
    return db.first_or_404(select(Disease).where(Disease.slug == slug))
