"""schema review: root_id always set, counters, map roles, author index

comments.root_id is NOT NULL with a foreign key; the counters default to 0 and can never go
negative; a map entry's role is one of the roles; questions.author_id has an index.

Revision ID: c09_schema_review
Revises: 6e58eaf79ca1

Written by hand. Every table is altered in batch mode, so SQLite (which cannot alter a
column or add a constraint in place) rebuilds it; migrations/env.py turns SQLite's foreign key
enforcement off while it does, so rebuilding a table never cascades deletes into the rows that
point at it.
"""

import sqlalchemy as sa
from alembic import op

revision = "c09_schema_review"
down_revision = "6e58eaf79ca1"
branch_labels = None
depends_on = None

# Frozen here as they were when this migration was written (forum/models/map_entries.py).
MAP_ROLES = ("patient", "relative", "caregiver", "professional", "researcher", "organization")
# table -> its counter columns, each defaulting to 0 and never negative.
COUNTERS = {
    "diseases": ("member_count", "question_count"),
    "questions": ("vote_count", "comment_count"),
    "comments": ("reply_count",),
}


def upgrade():
    _fill_root_ids()

    with op.batch_alter_table("comments") as batch:
        batch.alter_column("root_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f("fk_comments_root_id_comments"),
            "comments",
            ["root_id"],
            ["id"],
            ondelete="CASCADE",
        )
        _count_rules(batch, "comments")

    with op.batch_alter_table("questions") as batch:
        batch.create_index(op.f("ix_questions_author_id"), ["author_id"], unique=False)
        _count_rules(batch, "questions")

    with op.batch_alter_table("diseases") as batch:
        _count_rules(batch, "diseases")

    with op.batch_alter_table("map_entries") as batch:
        roles = ", ".join(f"'{role}'" for role in MAP_ROLES)
        batch.create_check_constraint(op.f("ck_map_entries_role"), f"role IN ({roles})")


def downgrade():
    with op.batch_alter_table("map_entries") as batch:
        batch.drop_constraint(op.f("ck_map_entries_role"), type_="check")

    with op.batch_alter_table("diseases") as batch:
        _drop_count_rules(batch, "diseases")

    with op.batch_alter_table("questions") as batch:
        _drop_count_rules(batch, "questions")
        batch.drop_index(op.f("ix_questions_author_id"))

    with op.batch_alter_table("comments") as batch:
        _drop_count_rules(batch, "comments")
        batch.drop_constraint(op.f("fk_comments_root_id_comments"), type_="foreignkey")
        batch.alter_column("root_id", existing_type=sa.Integer(), nullable=True)


def _fill_root_ids():
    """Give every comment its thread's root: itself when top-level, else its parent's root.

    The code has set root_id since threads were added; this covers any row that missed it,
    walking down one level of replies per pass.
    """
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE comments SET root_id = id WHERE parent_id IS NULL"))
    fill_replies = sa.text(
        "UPDATE comments SET root_id = "
        "(SELECT parent.root_id FROM comments AS parent WHERE parent.id = comments.parent_id) "
        "WHERE root_id IS NULL AND parent_id IN "
        "(SELECT known.id FROM comments AS known WHERE known.root_id IS NOT NULL)"
    )
    while conn.execute(fill_replies).rowcount:
        pass


def _count_rules(batch, table):
    for column in COUNTERS[table]:
        batch.alter_column(
            column, existing_type=sa.Integer(), existing_nullable=False, server_default="0"
        )
        batch.create_check_constraint(
            op.f(f"ck_{table}_{column}_not_negative"), sa.text(f"{column} >= 0")
        )


def _drop_count_rules(batch, table):
    for column in COUNTERS[table]:
        batch.drop_constraint(op.f(f"ck_{table}_{column}_not_negative"), type_="check")
        batch.alter_column(
            column, existing_type=sa.Integer(), existing_nullable=False, server_default=None
        )
