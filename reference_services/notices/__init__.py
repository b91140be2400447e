"""Claim notices: customers' consents, and the notices the notifier delivers (service.py)."""
from reference_services.notices.service import queue_notice, record_claim_event

__all__ = ["queue_notice", "record_claim_event"]
