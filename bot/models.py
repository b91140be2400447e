"""Every table of both services, so that one metadata describes the database."""
from bot.claims.models import Claim, ClaimDocument, ClaimPhaseEvent  # noqa: F401
from bot.db import Base
from bot.policy.models import (  # noqa: F401
    CodeBudget, Contract, Customer, CustomerRequest, GeneratedDocument, Handoff,
    IdentificationCounter, OneTimeCode, OutboxMessage,
)

metadata = Base.metadata
