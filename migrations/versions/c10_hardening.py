"""Hardening: users.name_key, the confusable skeleton of each username

A new username or a guest's display name that looks the same as a member's name (a Cyrillic
letter, a dotless i, an invisible character) is refused by comparing these keys. The key is
indexed, not unique: names already taken before this revision may share one.

Revision ID: c10_hardening
Revises: c15_article_credits
"""

import sqlalchemy as sa
from alembic import op

from forum.names import KEY_MAX, name_key

revision = "c10_hardening"
down_revision = "c15_article_credits"
branch_labels = None
depends_on = None

users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("name_key")
)


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=KEY_MAX), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_name_key"), ["name_key"], unique=False)

    # Existing members get their key now; new ones get it when their username is set.
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.username)).all()
    for user_id, username in rows:
        conn.execute(
            users.update().where(users.c.id == user_id).values(name_key=name_key(username))
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_name_key"))
        batch_op.drop_column("name_key")
