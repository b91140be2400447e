"""Consents to claim notices and the notices' outbox: what to tell a customer unprompted,
written with the change it tells, delivered by the notifier.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("given_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime()),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name="fk_notice_consents_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_notice_consents"),
    )
    op.create_index("ix_notice_consents_customer_id", "notice_consents", ["customer_id"])
    op.create_index("ix_notice_consents_address", "notice_consents", ["address"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("claim_number", sa.String(15)),
        sa.Column("event", sa.String(30)),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template_parameters", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime()),
        sa.Column("delivered_by", sa.String(20)),
        sa.Column("last_error", sa.String(200)),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name="fk_notices_customer_id_customers"),
        sa.ForeignKeyConstraint(["consent_id"], ["notice_consents.id"],
                                name="fk_notices_consent_id_notice_consents"),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.UniqueConstraint("dedup_key", name="uq_notices_dedup_key"),
    )
    op.create_index("ix_notices_customer_id", "notices", ["customer_id"])
    op.create_index("ix_notices_consent_id", "notices", ["consent_id"])
    op.create_index("ix_notices_status", "notices", ["status"])


def downgrade() -> None:
    op.drop_index("ix_notices_status", table_name="notices")
    op.drop_index("ix_notices_consent_id", table_name="notices")
    op.drop_index("ix_notices_customer_id", table_name="notices")
    op.drop_table("notices")
    op.drop_index("ix_notice_consents_address", table_name="notice_consents")
    op.drop_index("ix_notice_consents_customer_id", table_name="notice_consents")
    op.drop_table("notice_consents")
