"""What a member's data export holds of moderation: the reports they filed, their bans."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.models.base import iso_utc
from forum.models.moderation import Ban, Report
from forum.models.users import User


def member_export(user: User) -> dict:
    """The reports `user` filed and the bans they received, for their account export."""
    reports = db.session.scalars(
        select(Report).where(Report.reporter_id == user.id).order_by(Report.created_at)
    )
    bans = db.session.scalars(select(Ban).where(Ban.user_id == user.id).order_by(Ban.created_at))
    return {
        "reports_filed": [
            {
                "item": f"{r.target_type} {r.target_id}",
                "reason": r.reason,
                "note": r.note,
                "created_at": iso_utc(r.created_at),
                "resolution": r.resolution,
            }
            for r in reports
        ],
        "bans": [
            {
                "reason": b.reason,
                "created_at": iso_utc(b.created_at),
                "ends_at": iso_utc(b.ends_at),
                "lifted_at": iso_utc(b.lifted_at),
            }
            for b in bans
        ],
    }
