"""moderation: reports, bans, the moderation log; hidden and locked questions, held comments

Revision ID: c11_moderation
Revises: c13_page_version
Create Date: 2026-12-02 10:40:00

Adds three tables (reports, moderation_actions, bans) and columns on two:
- comments: hidden_reason (the public reason shown in a hidden comment's place) and held_at
  (a guest's comment waiting for review when GUEST_MODERATION is on);
- questions: hidden_at and hidden_reason (a hidden question leaves every list), locked_at and
  locked_by_id (a locked thread takes no new comments).
Every new column is nullable, so existing rows need no value and the upgrade is instant.
"""

import sqlalchemy as sa
from alembic import op

revision = "c11_moderation"
down_revision = "c13_page_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_reports_reporter_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_reports_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint(
            "target_type", "target_id", "reporter_id", name="uq_reports_target_reporter"
        ),
    )
    with op.batch_alter_table("reports") as batch_op:
        batch_op.create_index("ix_reports_target", ["target_type", "target_id"], unique=False)
        batch_op.create_index("ix_reports_open", ["resolved_at", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_reporter_id"), ["reporter_id"], unique=False)

    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["users.id"],
            name=op.f("fk_moderation_actions_moderator_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["users.id"],
            name=op.f("fk_moderation_actions_target_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
    )
    with op.batch_alter_table("moderation_actions") as batch_op:
        batch_op.create_index(
            "ix_moderation_actions_target", ["target_type", "target_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_moderation_actions_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_moderation_actions_target_user_id"), ["target_user_id"], unique=False
        )

    op.create_table(
        "bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bans_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["users.id"],
            name=op.f("fk_bans_moderator_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"],
            ["users.id"],
            name=op.f("fk_bans_lifted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bans")),
    )
    with op.batch_alter_table("bans") as batch_op:
        batch_op.create_index(batch_op.f("ix_bans_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("comments") as batch_op:
        batch_op.add_column(sa.Column("hidden_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("held_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("questions") as batch_op:
        batch_op.add_column(sa.Column("hidden_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("hidden_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("locked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("locked_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_questions_locked_by_id_users"),
            "users",
            ["locked_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("questions") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_questions_locked_by_id_users"), type_="foreignkey")
        batch_op.drop_column("locked_by_id")
        batch_op.drop_column("locked_at")
        batch_op.drop_column("hidden_reason")
        batch_op.drop_column("hidden_at")

    with op.batch_alter_table("comments") as batch_op:
        batch_op.drop_column("held_at")
        batch_op.drop_column("hidden_reason")

    with op.batch_alter_table("bans") as batch_op:
        batch_op.drop_index(batch_op.f("ix_bans_user_id"))
    op.drop_table("bans")

    with op.batch_alter_table("moderation_actions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_actions_target_user_id"))
        batch_op.drop_index(batch_op.f("ix_moderation_actions_created_at"))
        batch_op.drop_index("ix_moderation_actions_target")
    op.drop_table("moderation_actions")

    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_reporter_id"))
        batch_op.drop_index("ix_reports_open")
        batch_op.drop_index("ix_reports_target")
    op.drop_table("reports")
