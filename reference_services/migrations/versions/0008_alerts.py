"""Alerts the customers set for due dates, renewals and unpaid premiums, the reminders
produced for them (one per contract and occasion), and the premiums left unpaid.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(8), sa.ForeignKey("customers.customer_id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("contract_number", sa.String(10), sa.ForeignKey("contracts.contract_number")),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime()),
    )
    op.create_index("ix_alerts_customer_id", "alerts", ["customer_id"])
    op.create_table(
        "alert_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.String(32), sa.ForeignKey("alerts.alert_id"), nullable=False),
        sa.Column("contract_number", sa.String(10), nullable=False),
        sa.Column("occasion", sa.Date(), nullable=False),
        sa.Column("sent_via", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("alert_id", "contract_number", "occasion"),
    )
    op.create_index("ix_alert_reminders_alert_id", "alert_reminders", ["alert_id"])
    op.create_table(
        "unpaid_premiums",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contract_number", sa.String(10), sa.ForeignKey("contracts.contract_number"),
                  nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("paid_at", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_unpaid_premiums_contract_number", "unpaid_premiums", ["contract_number"])


def downgrade() -> None:
    op.drop_index("ix_unpaid_premiums_contract_number", "unpaid_premiums")
    op.drop_table("unpaid_premiums")
    op.drop_index("ix_alert_reminders_alert_id", "alert_reminders")
    op.drop_table("alert_reminders")
    op.drop_index("ix_alerts_customer_id", "alerts")
    op.drop_table("alerts")
