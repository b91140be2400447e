"""The advisers' console: advisers, their sessions, hand-offs they take and answer, and
every opening and change of a hand-off recorded.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advisers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_advisers"),
        sa.UniqueConstraint("login", name="uq_advisers_login"),
    )
    op.create_table(
        "adviser_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["adviser_id"], ["advisers.id"],
                                name="fk_adviser_sessions_adviser_id_advisers"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_adviser_sessions"),
    )
    op.create_index("ix_adviser_sessions_adviser_id", "adviser_sessions", ["adviser_id"])
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(128)))
        batch.add_column(sa.Column("contact", sa.String(254)))
        batch.add_column(sa.Column("taken_by", sa.Integer()))
        batch.add_column(sa.Column("taken_at", sa.DateTime()))
        batch.add_column(sa.Column("closed_at", sa.DateTime()))
        batch.create_foreign_key("fk_handoffs_taken_by_advisers", "advisers", ["taken_by"], ["id"])
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("adviser_id", sa.Integer()),
        sa.Column("text", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"],
                                name="fk_handoff_events_handoff_id_handoffs"),
        sa.ForeignKeyConstraint(["adviser_id"], ["advisers.id"],
                                name="fk_handoff_events_adviser_id_advisers"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_events"),
    )
    op.create_index("ix_handoff_events_handoff_id", "handoff_events", ["handoff_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_events_handoff_id", table_name="handoff_events")
    op.drop_table("handoff_events")
    op.drop_index("ix_handoffs_conversation_id", table_name="handoffs")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint("fk_handoffs_taken_by_advisers", type_="foreignkey")
        batch.drop_column("closed_at")
        batch.drop_column("taken_at")
        batch.drop_column("taken_by")
        batch.drop_column("contact")
        batch.drop_column("conversation_id")
    op.drop_index("ix_adviser_sessions_adviser_id", table_name="adviser_sessions")
    op.drop_table("adviser_sessions")
    op.drop_table("advisers")
