"""Every table of both services, so that one metadata describes the database."""
from core.db import Base
from reference_services.claims.models import Claim, ClaimDocument, ClaimPhaseEvent  # noqa: F401
from reference_services.notices.models import Notice, NoticeConsent  # noqa: F401
from reference_services.policy.models import (  # noqa: F401
    Adviser,
    AdviserSession,
    CodeBudget,
    Contract,
    Customer,
    CustomerRequest,
    GeneratedDocument,
    Handoff,
    HandoffEvent,
    IdentificationCounter,
    OneTimeCode,
    OutboxMessage,
)
from reference_services.training.models import StatisticsSnapshot, TrainingReview  # noqa: F401

metadata = Base.metadata
