"""Uploads: a claim document exists before it is linked to a claim.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claim_documents") as batch:
        batch.alter_column("claim_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("sha256", sa.String(64)))
        batch.add_column(sa.Column("linked_at", sa.DateTime()))


def downgrade() -> None:
    # Uploads never linked to a claim have no place in the older schema.
    op.execute("DELETE FROM claim_documents WHERE claim_id IS NULL")
    with op.batch_alter_table("claim_documents") as batch:
        batch.drop_column("linked_at")
        batch.drop_column("sha256")
        batch.alter_column("claim_id", existing_type=sa.Integer(), nullable=False)
