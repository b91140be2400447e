"""Quotes kept 30 days (and readable after), the risk data the tariff reads on contracts,
and an e-mail's attachment rendered when it is delivered.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The demo contracts' risk data (reference_services/demo_data.py), for databases loaded
# before the tariff: a contract not there stays unpriced (risk null).
DEMO_RISKS = {
    "AUT-482913": {"vehicle_year": 2019, "usage": "trajets", "parking": "garage", "young_driver": False},
    "AUT-559120": {"vehicle_year": 2017, "usage": "prive", "parking": "rue", "young_driver": False},
    "HAB-120034": {"housing": "appartement", "rooms": 3, "occupant": "locataire"},
    "HAB-099812": {"housing": "appartement", "rooms": 1, "occupant": "locataire"},
}


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(20), nullable=False, unique=True),
        sa.Column("product", sa.String(20), nullable=False),
        sa.Column("tariff_version", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(8), sa.ForeignKey("customers.customer_id")),
        sa.Column("risk", sa.JSON(), nullable=False),
        sa.Column("formulas", sa.JSON(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
    )
    op.create_index("ix_quotes_customer_id", "quotes", ["customer_id"])
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("risk", sa.JSON()))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment", sa.String(40)))
    contracts = sa.table("contracts", sa.column("contract_number", sa.String), sa.column("risk", sa.JSON))
    for contract_number, risk in DEMO_RISKS.items():
        op.execute(contracts.update().where(contracts.c.contract_number == contract_number)
                   .values(risk=risk))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachment")
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("risk")
    op.drop_index("ix_quotes_customer_id", "quotes")
    op.drop_table("quotes")
