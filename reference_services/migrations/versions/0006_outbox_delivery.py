"""E-mails delivered through an SMTP server: the outbox counts the attempts, holds the
next one's time and when it was sent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime()))
        batch.add_column(sa.Column("sent_at", sa.DateTime()))
        batch.create_index("ix_outbox_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_status")
        batch.drop_column("sent_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
