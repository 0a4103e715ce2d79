"""A member's place on a disease's map: country and optional region, never coordinates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.base import utcnow

MAP_ROLES = {
    "patient": "Person with the disease",
    "relative": "Relative or friend",
    "caregiver": "Caregiver",
    "professional": "Health care professional",
    "researcher": "Researcher",
    "organization": "Organization",
}


class MapEntry(db.Model):
    __tablename__ = "map_entries"
    __table_args__ = (
        UniqueConstraint("disease_id", "user_id", name="uq_map_entries_disease_user"),
        Index("ix_map_entries_disease_country", "disease_id", "country"),
        CheckConstraint(
            "role IN (" + ", ".join(f"'{role}'" for role in MAP_ROLES) + ")", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    disease_id: Mapped[int] = mapped_column(ForeignKey("diseases.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    # ISO 3166-1 alpha-2 code.
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(80))
    since_year: Mapped[int | None]
    anonymous: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
