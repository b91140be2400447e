"""The figures for the business and the review of misunderstood messages (issue 16).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statistics_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_statistics_snapshots"),
    )
    op.create_table(
        "training_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("text_key", sa.String(64), nullable=False),
        sa.Column("predicted_intent", sa.String(80)),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("first_seen_on", sa.Date(), nullable=False),
        sa.Column("last_seen_on", sa.Date(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("chosen_intent", sa.String(80)),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_training_reviews"),
        sa.UniqueConstraint("text_key", name="uq_training_reviews_text_key"),
    )
    op.create_index("ix_training_reviews_status", "training_reviews", ["status"])


def downgrade() -> None:
    op.drop_index("ix_training_reviews_status", table_name="training_reviews")
    op.drop_table("training_reviews")
    op.drop_table("statistics_snapshots")
