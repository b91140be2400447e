"""The advisers' console's client of the policy service (its adviser routes).

It calls with ADVISER_CONSOLE_TOKEN and the adviser's session (`X-Adviser-Session`), through
the services client's plumbing (core/service_client.py: timeouts, retries of reads only,
answers checked against the contract's models). Refusals come back as AdviserRefused with
the contract's code (`adviser_login_refused`, `adviser_locked` with retry_after_seconds,
`adviser_session_invalid`, `handoff_not_yours`, `handoff_taken`...); a policy service that
does not answer, or answers outside the contract, as ServiceUnavailable.
"""
from __future__ import annotations

from typing import Any, List, Optional, Union
from urllib.parse import quote

from core.service_client import ServiceRefusal, ServicesClient, ServiceUnavailable
from core.service_contract import (
    AdviserMessageRecorded,
    AdviserSessionCurrent,
    AdviserSessionOpened,
    ErrorCode,
    HandoffDetail,
    HandoffList,
    HandoffSummary,
)
from core.service_contract.answers import Statistics, TrainingReview, TrainingReviewList

__all__ = ["AdviserRefused", "AdviserServices", "ServiceUnavailable"]

SESSION_HEADER = "X-Adviser-Session"


class AdviserRefused(ServiceRefusal):
    """The policy service refused (4xx) with a code; `retry_after_seconds` when locked."""

    def __init__(self, status: int, code: Union[ErrorCode, str], message: str = "",
                 details: Optional[dict] = None) -> None:
        super().__init__(status, code, message, details)
        retry_after = (details or {}).get("retry_after_seconds")
        self.retry_after_seconds: Optional[int] = retry_after if isinstance(retry_after, int) else None


class AdviserServices:
    """Async client of the policy service's adviser routes, for the console."""

    def __init__(self, policy_url: str, console_token: str, timeout: float = 5.0) -> None:
        self.policy_url = policy_url.rstrip("/")
        # The services client's plumbing, with the console's token (never the services').
        self._client = ServicesClient(self.policy_url, self.policy_url, console_token, timeout)

    async def close_client(self) -> None:
        """Closes the HTTP connections (`close` is a hand-off's)."""
        await self._client.close()

    async def login(self, login: str, password: str) -> AdviserSessionOpened:
        return await self._call("POST", "/v1/adviser-sessions", None, AdviserSessionOpened,
                                {"login": login, "password": password})

    async def current(self, session: str) -> AdviserSessionCurrent:
        """The session's adviser (and the session kept alive)."""
        return await self._call("GET", "/v1/adviser-sessions/current", session, AdviserSessionCurrent)

    async def logout(self, session: str) -> None:
        await self._call("DELETE", "/v1/adviser-sessions/current", session, type(None))

    async def handoffs(self, session: str, status: Optional[str] = None) -> List[HandoffSummary]:
        """Newest first: all for a supervisor, the waiting ones and one's own for an adviser."""
        query = f"?status={quote(status, safe='')}" if status else ""
        return (await self._call("GET", f"/v1/handoffs{query}", session, HandoffList)).handoffs

    async def handoff(self, session: str, reference: str) -> HandoffDetail:
        """The hand-off, the customer's file and a fresh grant (the opening is recorded)."""
        return await self._call("GET", _handoff_path(reference), session, HandoffDetail)

    async def take(self, session: str, reference: str) -> HandoffDetail:
        return await self._call("POST", _handoff_path(reference, "take"), session, HandoffDetail)

    async def send(self, session: str, reference: str, text: str) -> AdviserMessageRecorded:
        """Records the adviser's message (the Rasa server delivers it)."""
        return await self._call("POST", _handoff_path(reference, "messages"), session, AdviserMessageRecorded,
                                {"text": text})

    async def close(self, session: str, reference: str) -> HandoffDetail:
        return await self._call("POST", _handoff_path(reference, "close"), session, HandoffDetail)

    # I: the business's figures and the review of misunderstood messages (issue 16).
    async def statistics(self, session: str) -> Statistics:
        return await self._call("GET", "/v1/statistics", session, Statistics)

    async def training_reviews(self, session: str) -> List[TrainingReview]:
        return (await self._call("GET", "/v1/training-reviews", session, TrainingReviewList)).reviews

    async def review(self, session: str, review_id: int, intent: str) -> TrainingReview:
        return await self._call("POST", f"/v1/training-reviews/{int(review_id)}", session, TrainingReview,
                                {"intent": intent})

    async def _call(self, method: str, path: str, session: Optional[str], answer: Any,
                    payload: Optional[dict] = None) -> Any:
        headers = {SESSION_HEADER: session} if session is not None else {}
        try:
            # Reads are retried; writes are not (a take or a message must not happen twice).
            return await self._client._send(method, self.policy_url + path, payload, retry=method == "GET",
                                            answer=answer, headers=headers)
        except ServiceRefusal as refusal:
            raise AdviserRefused(refusal.status, refusal.code, refusal.message, refusal.details) from None


def _handoff_path(reference: str, action: str = "") -> str:
    return f"/v1/handoffs/{quote(reference, safe='')}" + (f"/{action}" if action else "")
