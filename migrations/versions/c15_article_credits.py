"""Article credits: who wrote a question's article and when it was last reviewed.

Revision ID: c15_article_credits
Revises: c09_schema_review
Create Date: 2026-12-02

Both columns are optional: questions members ask have no article, and so no credits.
"""

import sqlalchemy as sa
from alembic import op

revision = "c15_article_credits"
down_revision = "c09_schema_review"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("article_author", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("article_reviewed_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("article_reviewed_on")
        batch_op.drop_column("article_author")
