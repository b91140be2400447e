"""Identification from a phone number: customers found by phone, and the lock of
identifications started from a phone number.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customers_phone", "customers", ["phone"])
    op.create_table(
        "phone_identification_locks",
        sa.Column("phone_number", sa.String(20), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("phone_number", name="pk_phone_identification_locks"),
    )


def downgrade() -> None:
    op.drop_table("phone_identification_locks")
    op.drop_index("ix_customers_phone", table_name="customers")
