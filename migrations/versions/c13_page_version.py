"""diseases.page_version: the counter that keys cached pages for visitors

Every write that changes what a disease's pages show bumps it in the same transaction
(forum.pagecache), so a page cached under the old value is never served again.

Revision ID: c13_page_version
Revises: c10_hardening
"""

import sqlalchemy as sa
from alembic import op

revision = "c13_page_version"
down_revision = "c10_hardening"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("diseases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("page_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("diseases", schema=None) as batch_op:
        batch_op.drop_column("page_version")
