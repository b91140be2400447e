"""Initial schema: customers, contracts, claims and everything around them.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customers"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200)),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_recipient", "outbox", ["recipient"])
    op.create_table(
        "contracts",
        sa.Column("contract_number", sa.String(10), nullable=False),
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("product", sa.String(20), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date()),
        sa.Column("next_due_date", sa.Date()),
        sa.Column("premium_cents", sa.Integer(), nullable=False),
        sa.Column("premium_frequency", sa.String(20), nullable=False),
        sa.Column("payment_method", sa.String(30), nullable=False),
        sa.Column("franchise_cents", sa.Integer()),
        sa.Column("bonus_malus", sa.Numeric(4, 2, asdecimal=False)),
        sa.Column("beneficiary_clause", sa.Text()),
        sa.Column("vehicle_make", sa.String(60)),
        sa.Column("vehicle_model", sa.String(60)),
        sa.Column("vehicle_plate", sa.String(12)),
        sa.Column("insured_street", sa.String(200)),
        sa.Column("insured_postcode", sa.String(10)),
        sa.Column("insured_city", sa.String(100)),
        sa.Column("insured_activity", sa.String(200)),
        sa.Column("guarantees", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_contracts_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("contract_number", name="pk_contracts"),
    )
    op.create_index("ix_contracts_customer_id", "contracts", ["customer_id"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(8)),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_handoffs_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
        sa.UniqueConstraint("reference", name="uq_handoffs_reference"),
    )
    op.create_index("ix_handoffs_customer_id", "handoffs", ["customer_id"])
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
        "one_time_codes",
        sa.Column("check_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime()),
        sa.Column("revoked_at", sa.DateTime()),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_one_time_codes_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("check_id", name="pk_one_time_codes"),
    )
    op.create_index("ix_one_time_codes_customer_id", "one_time_codes", ["customer_id"])
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_number", sa.String(15), nullable=False),
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("contract_number", sa.String(10), nullable=False),
        sa.Column("claim_type", sa.String(30), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("declared_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("circumstances", sa.Text(), nullable=False),
        sa.Column("damage", sa.Text(), nullable=False),
        sa.Column("third_party", sa.Text()),
        sa.Column("witnesses", sa.Text()),
        sa.Column("channel", sa.String(40)),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("expert_appointment", sa.DateTime()),
        sa.Column("amount_paid_cents", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(100)),
        sa.ForeignKeyConstraint(
            ["contract_number"], ["contracts.contract_number"],
            name="fk_claims_contract_number_contracts",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_claims_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claims"),
        sa.UniqueConstraint("claim_number", name="uq_claims_claim_number"),
        sa.UniqueConstraint(
            "customer_id", "idempotency_key", name="uq_claims_customer_id_idempotency_key"
        ),
    )
    op.create_index("ix_claims_customer_id", "claims", ["customer_id"])
    op.create_table(
        "customer_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("contract_number", sa.String(10)),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expected_by", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_number"], ["contracts.contract_number"],
            name="fk_customer_requests_contract_number_contracts",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_customer_requests_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_requests"),
        sa.UniqueConstraint("reference", name="uq_customer_requests_reference"),
    )
    op.create_index("ix_customer_requests_customer_id", "customer_requests", ["customer_id"])
    op.create_table(
        "generated_documents",
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(8), nullable=False),
        sa.Column("contract_number", sa.String(10), nullable=False),
        sa.Column("document_type", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("filename", sa.String(100), nullable=False),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_number"], ["contracts.contract_number"],
            name="fk_generated_documents_contract_number_contracts",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_generated_documents_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("document_id", name="pk_generated_documents"),
        sa.UniqueConstraint("reference", name="uq_generated_documents_reference"),
    )
    op.create_index(
        "ix_generated_documents_customer_id", "generated_documents", ["customer_id"]
    )
    op.create_table(
        "claim_documents",
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name="fk_claim_documents_claim_id_claims"
        ),
        sa.PrimaryKeyConstraint("document_id", name="pk_claim_documents"),
    )
    op.create_index("ix_claim_documents_claim_id", "claim_documents", ["claim_id"])
    op.create_table(
        "claim_phase_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name="fk_claim_phase_events_claim_id_claims"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claim_phase_events"),
    )
    op.create_index("ix_claim_phase_events_claim_id", "claim_phase_events", ["claim_id"])


def downgrade() -> None:
    for table in (
        "claim_phase_events", "claim_documents", "generated_documents", "customer_requests",
        "claims", "one_time_codes", "identification_locks", "handoffs", "contracts",
        "outbox", "customers",
    ):
        op.drop_table(table)
