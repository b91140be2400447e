"""Identification counted per conversation, per source and per phone number, never per
customer id; SMS codes bounded per customer; checks that send no code.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("phone_identification_locks")
    op.drop_table("identification_locks")
    op.create_table(
        "identification_counters",
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_hash", name="pk_identification_counters"),
    )
    op.create_table(
        "identification_code_budgets",
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("hour_started_at", sa.DateTime(), nullable=False),
        sa.Column("codes_this_hour", sa.Integer(), nullable=False),
        sa.Column("day_started_at", sa.DateTime(), nullable=False),
        sa.Column("codes_this_day", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_identification_code_budgets_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("customer_id", "requester", name="pk_identification_code_budgets"),
    )
    # Codes pending during the upgrade belong to no conversation any more: they are
    # refused like expired ones (they only live ten minutes).
    with op.batch_alter_table("one_time_codes") as batch:
        batch.add_column(sa.Column("conversation_hash", sa.String(64), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("source_hash", sa.String(64)))
        batch.alter_column("customer_id", existing_type=sa.String(8), nullable=True)
        batch.alter_column("code_hash", existing_type=sa.String(64), nullable=True)
    with op.batch_alter_table("one_time_codes") as batch:
        batch.alter_column("conversation_hash", existing_type=sa.String(64), server_default=None)
    op.create_index("ix_one_time_codes_conversation_hash", "one_time_codes", ["conversation_hash"])


def downgrade() -> None:
    # Checks that sent no code have no place in the older schema.
    op.execute("DELETE FROM one_time_codes WHERE customer_id IS NULL OR code_hash IS NULL")
    op.drop_index("ix_one_time_codes_conversation_hash", table_name="one_time_codes")
    with op.batch_alter_table("one_time_codes") as batch:
        batch.alter_column("code_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("customer_id", existing_type=sa.String(8), nullable=False)
        batch.drop_column("source_hash")
        batch.drop_column("conversation_hash")
    op.drop_table("identification_code_budgets")
    op.drop_table("identification_counters")
    op.create_table(
        "identification_locks",
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_identification_locks_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("customer_id", name="pk_identification_locks"),
    )
    op.create_table(
        "phone_identification_locks",
        sa.Column("phone_number", sa.String(20), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("phone_number", name="pk_phone_identification_locks"),
    )
