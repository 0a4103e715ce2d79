"""connect: contact requests, blocks, conversations, messages, reports, notifications, outbox

Adds to users: who may send them contact requests, when their email address was verified,
and when their last daily digest went out.

Revision ID: c14_connect
Revises: c11_moderation
Create Date: 2026-12-02 10:40:25
"""

import sqlalchemy as sa
from alembic import op

revision = "c14_connect"
down_revision = "c11_moderation"
branch_labels = None
depends_on = None


def _user_fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "contact_policy",
                sa.String(length=12),
                server_default="communities",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("digest_sent_at", sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_users_contact_policy"), "contact_policy IN ('communities', 'anyone', 'nobody')"
        )

    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("note_md", sa.Text(), nullable=False),
        sa.Column("note_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'declined')", name=op.f("ck_contact_requests_status")
        ),
        _user_fk("sender_id", "contact_requests", "CASCADE"),
        _user_fk("recipient_id", "contact_requests", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_requests"),
    )
    op.create_index(
        "ix_contact_requests_pair", "contact_requests", ["sender_id", "recipient_id", "created_at"]
    )
    op.create_index(
        "ix_contact_requests_recipient_status", "contact_requests", ["recipient_id", "status"]
    )

    op.create_table(
        "blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blocker_id", sa.Integer(), nullable=False),
        sa.Column("blocked_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _user_fk("blocker_id", "blocks", "CASCADE"),
        _user_fk("blocked_id", "blocks", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_blocks"),
        sa.UniqueConstraint("blocker_id", "blocked_id", name="uq_blocks_pair"),
    )
    op.create_index("ix_blocks_blocked_id", "blocks", ["blocked_id"])

    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_a_id", sa.Integer(), nullable=True),
        sa.Column("member_b_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(), nullable=False),
        _user_fk("member_a_id", "conversations", "SET NULL"),
        _user_fk("member_b_id", "conversations", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.UniqueConstraint("member_a_id", "member_b_id", name="uq_conversations_pair"),
    )
    op.create_index("ix_conversations_member_a_id", "conversations", ["member_a_id"])
    op.create_index("ix_conversations_member_b_id", "conversations", ["member_b_id"])

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("withheld", sa.Boolean(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_messages_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        _user_fk("sender_id", "messages", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id", "id"])
    op.create_index("ix_messages_sender_id", "messages", ["sender_id"])

    op.create_table(
        "message_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_reports_message_id_messages",
            ondelete="CASCADE",
        ),
        _user_fk("reporter_id", "message_reports", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_message_reports"),
        sa.UniqueConstraint(
            "message_id", "reporter_id", name="uq_message_reports_message_reporter"
        ),
    )
    op.create_index("ix_message_reports_message_id", "message_reports", ["message_id"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("email_state", sa.String(length=10), nullable=False),
        _user_fk("user_id", "notifications", "CASCADE"),
        _user_fk("actor_id", "notifications", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_user_read", "notifications", ["user_id", "read_at", "id"])
    op.create_index("ix_notifications_email_state", "notifications", ["email_state", "user_id"])

    op.create_table(
        "notification_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("delivery", sa.String(length=12), nullable=False),
        sa.CheckConstraint(
            "delivery IN ('immediately', 'daily', 'off')",
            name=op.f("ck_notification_settings_delivery"),
        ),
        _user_fk("user_id", "notification_settings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_notification_settings"),
        sa.UniqueConstraint("user_id", "event", name="uq_notification_settings_user_event"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_outbox_status")
        ),
        _user_fk("user_id", "outbox", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_user_id", "outbox", ["user_id"])


def downgrade():
    # Indexes go with their tables.
    for table in (
        "outbox",
        "notification_settings",
        "notifications",
        "message_reports",
        "messages",
        "conversations",
        "blocks",
        "contact_requests",
    ):
        op.drop_table(table)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(op.f("ck_users_contact_policy"), type_="check")
        batch_op.drop_column("digest_sent_at")
        batch_op.drop_column("contact_policy")
        batch_op.drop_column("email_verified_at")
