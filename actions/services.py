"""The one client of the insurer's policy and claims services.

Every call has a timeout. Only idempotent calls are retried (reads, and claim
filing, which carries an idempotency key). Failures come back as typed errors
that the actions turn into answers the customer understands.

Every call about one customer carries that customer's identity assertion (header
`X-Identity-Assertion`), issued by the policy service where the identity was
verified: the customer is a CustomerIdentity, never a bare customer id.
"""

import asyncio
import logging
import os
import re
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

IDENTITY_HEADER = "X-Identity-Assertion"
# The services' refusals of the identity assertion itself (docs/services-api.md).
IDENTITY_REFUSALS = frozenset({"identity_required", "identity_invalid", "identity_expired", "identity_forbidden"})


class CustomerIdentity(str):
    """A customer id with the identity assertion that proves it (None: not proven)."""

    assertion: Optional[str]

    def __new__(cls, customer_id: str, assertion: Optional[str]) -> "CustomerIdentity":
        identity = super().__new__(cls, customer_id)
        identity.assertion = assertion
        return identity

    def __repr__(self) -> str:  # never the assertion in a log
        return f"CustomerIdentity({str(self)!r})"


class IdentityRefused(Exception):
    """The services refused the identity assertion (expired, forged, missing, another
    customer's): the customer must identify again. Not a ServiceError, so that no
    action takes it for a failure of its own: the action server answers it for every
    action (actions/server.py)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ServiceError(Exception):
    """Base of the errors the services client raises."""


class ServiceUnavailable(ServiceError):
    """The service did not answer, answered too late or failed (5xx)."""


class ServiceRefusal(ServiceError):
    """The service understood the request and refused it (4xx) with a stable code."""

    def __init__(self, status: int, code: str, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


class NotFound(ServiceRefusal):
    """The resource does not exist for this customer (or belongs to another one)."""


class ServicesClient:
    """Async HTTP client of the policy service and the claims service."""

    def __init__(
        self,
        policy_url: str,
        claims_url: str,
        token: str,
        timeout_seconds: float = 5.0,
        retries: int = 2,
    ) -> None:
        self.policy_url = policy_url.rstrip("/")
        self.claims_url = claims_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._retries = retries
        self._session: Optional[aiohttp.ClientSession] = None

    @classmethod
    def from_environment(cls) -> "ServicesClient":
        return cls(
            policy_url=os.environ.get("POLICY_SERVICE_URL", "http://localhost:5101"),
            claims_url=os.environ.get("CLAIMS_SERVICE_URL", "http://localhost:5102"),
            token=os.environ.get("SERVICES_API_TOKEN", ""),
            timeout_seconds=float(os.environ.get("SERVICES_TIMEOUT_SECONDS", "5")),
        )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    # --- policy service ---------------------------------------------------------

    async def list_contracts(self, customer: CustomerIdentity) -> List[Dict[str, Any]]:
        body = await self._get(f"{self.policy_url}/v1/customers/{customer}/contracts", customer)
        return body["contracts"]

    async def get_contract(self, customer: CustomerIdentity, contract_number: str) -> Dict[str, Any]:
        return await self._get(f"{self.policy_url}/v1/customers/{customer}/contracts/{contract_number}", customer)

    async def create_attestation(
        self, customer: CustomerIdentity, contract_number: str, kind: str = "standard", send_by_email: bool = False
    ) -> Dict[str, Any]:
        """Generates the PDF; with `send_by_email`, its link is also e-mailed to the address on file."""
        url = f"{self.policy_url}/v1/customers/{customer}/contracts/{contract_number}/attestations"
        return await self._send("POST", url, {"kind": kind, "send_by_email": send_by_email}, retry=False,
                                customer=customer)

    async def send_password_reset(self, customer: CustomerIdentity) -> Dict[str, Any]:
        url = f"{self.policy_url}/v1/customers/{customer}/password-reset"
        return await self._send("POST", url, {}, retry=False, customer=customer)

    async def send_identifier_reminder(self, customer: CustomerIdentity) -> Dict[str, Any]:
        url = f"{self.policy_url}/v1/customers/{customer}/identifier-reminder"
        return await self._send("POST", url, {}, retry=False, customer=customer)

    # Identification: wrong answers are counted per conversation and per `source` (the
    # client's address or platform user, when the channel gave it), never per customer.

    async def start_identity_check(
        self, customer_id: str, birth_date: str, conversation_id: str, channel: str, source: Optional[str] = None
    ) -> Dict[str, Any]:
        """Starts a check (`check_id`): the one-time code goes by SMS to the phone on file only
        when the customer exists and the birth date is right, but the answer is the same."""
        url = f"{self.policy_url}/v1/customers/{customer_id}/identity-checks"
        body = {"birth_date": birth_date, **_asked(conversation_id, channel, source)}
        return await self._send("POST", url, body, retry=False)

    async def start_phone_identity_check(
        self, phone_number: str, birth_date: str, send_code: bool, conversation_id: str, channel: str,
        source: Optional[str] = None, channel_assertion: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Matches a phone number a channel verified and the birth date to a customer: then a
        one-time code goes by SMS (`check_id`, the same answer when nothing matched), or
        without `send_code` the customer id comes back with the identity assertion for this
        conversation. Without a code the policy service wants `channel_assertion`, the number
        as the channel signed it (ServiceRefusal `channel_assertion_required` or `_invalid`)."""
        body = {"phone_number": phone_number, "birth_date": birth_date, "send_code": send_code,
                **_asked(conversation_id, channel, source)}
        if not send_code and channel_assertion:
            body["channel_assertion"] = channel_assertion
        return await self._send("POST", f"{self.policy_url}/v1/phone-identity-checks", body, retry=False)

    async def verify_identity_check(
        self, check_id: str, code: str, conversation_id: str, channel: str, source: Optional[str] = None
    ) -> Dict[str, Any]:
        """The SMS code: the customer id and the identity assertion for this conversation."""
        url = f"{self.policy_url}/v1/identity-checks/{check_id}/verify"
        body = {"code": code, **_asked(conversation_id, channel, source)}
        return await self._send("POST", url, body, retry=False)

    async def check_session_token(self, token: str, conversation_id: str, channel: str) -> Dict[str, Any]:
        """An espace-client session token, verified by the policy service: the customer id and
        the identity assertion for this conversation. NotFound `customer_not_found`: a valid
        token of a customer the insurer does not know; ServiceRefusal `session_token_invalid`."""
        body = {"token": token, "conversation_id": conversation_id, "channel": channel}
        return await self._send("POST", f"{self.policy_url}/v1/espace-client-token-checks", body, retry=True)

    async def file_request(
        self, customer: CustomerIdentity, kind: str, details: Dict[str, Any], contract_number: Optional[str] = None
    ) -> Dict[str, Any]:
        """Files a change request that needs the insurer's approval; answers its reference and delay."""
        body: Dict[str, Any] = {"kind": kind, "details": details}
        if contract_number:
            body["contract_number"] = contract_number
        url = f"{self.policy_url}/v1/customers/{customer}/requests"
        return await self._send("POST", url, body, retry=False, customer=customer)

    async def file_handoff(
        self, customer: Optional[CustomerIdentity], channel: str, reason: str, summary: str
    ) -> Dict[str, Any]:
        """A hand-off, of an identified customer or (None) of an anonymous one."""
        body = {"customer_id": customer, "channel": channel, "reason": reason, "summary": summary}
        return await self._send("POST", f"{self.policy_url}/v1/handoffs", body, retry=False, customer=customer)

    # --- claims service ---------------------------------------------------------

    async def list_claims(self, customer: CustomerIdentity) -> List[Dict[str, Any]]:
        body = await self._get(f"{self.claims_url}/v1/customers/{customer}/claims", customer)
        return body["claims"]

    async def get_claim(self, customer: CustomerIdentity, claim_number: str) -> Dict[str, Any]:
        return await self._get(f"{self.claims_url}/v1/customers/{customer}/claims/{claim_number}", customer)

    async def file_claim(
        self,
        customer: CustomerIdentity,
        declaration: Dict[str, Any],
        idempotency_key: str,
        attachments: Sequence[str] = (),
        retry: bool = True,
    ) -> Dict[str, Any]:
        """Files a claim with the uploads given (their ids) linked to it; safe to retry:
        the same key never creates a second claim. `retry=False` makes one attempt only
        (the claim outbox retries later instead of keeping the customer waiting)."""
        url = f"{self.claims_url}/v1/customers/{customer}/claims"
        body = {**declaration, "attachments": list(attachments)} if attachments else declaration
        return await self._send("POST", url, body, retry=retry, headers={"Idempotency-Key": idempotency_key},
                                customer=customer)

    async def upload_document(self, filename: str, content_type: str, data: bytes) -> Dict[str, Any]:
        """Hands a received file to the claims service, which checks it by its content.

        Answers `{"upload_id", "content_type", "size", "filename"}`; refusals come as
        ServiceRefusal with code `empty`, `too_large` or `unsupported_type`."""
        headers = {
            "Content-Type": content_type or "application/octet-stream",
            "X-Filename": quote(filename or "", safe=""),
        }
        url = f"{self.claims_url}/v1/uploads"
        return await self._send("POST", url, None, retry=False, headers=headers, data=data)

    async def add_claim_document(self, customer: CustomerIdentity, claim_number: str, upload_id: str) -> Dict[str, Any]:
        """Links an upload to one of the customer's claims; safe to retry (linking twice
        to the same claim changes nothing)."""
        url = f"{self.claims_url}/v1/customers/{customer}/claims/{claim_number}/documents"
        return await self._send("POST", url, {"upload_id": upload_id}, retry=True, customer=customer)

    # --- plumbing ---------------------------------------------------------------

    async def _get(self, url: str, customer: CustomerIdentity) -> Dict[str, Any]:
        return await self._send("GET", url, None, retry=True, customer=customer)

    async def _send(
        self,
        method: str,
        url: str,
        payload: Optional[Dict[str, Any]],
        retry: bool,
        headers: Optional[Dict[str, str]] = None,
        data: Optional[bytes] = None,
        customer: Optional[str] = None,
    ) -> Dict[str, Any]:
        headers = dict(headers or {})
        if customer is not None:
            # A call about a customer without the assertion would be refused: not even made.
            assertion = getattr(customer, "assertion", None)
            if not assertion:
                raise IdentityRefused("identity_required")
            headers[IDENTITY_HEADER] = assertion
        attempts = 1 + (self._retries if retry else 0)
        for attempt in range(1, attempts + 1):
            try:
                return await self._send_once(method, url, payload, headers, data)
            except ServiceUnavailable:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    async def _send_once(
        self,
        method: str,
        url: str,
        payload: Optional[Dict[str, Any]],
        headers: Dict[str, str],
        data: Optional[bytes] = None,
    ) -> Dict[str, Any]:
        session = self._get_session()
        # A raw body (an uploaded file) or JSON.
        body = {"data": data} if data is not None else {"json": payload}
        try:
            async with session.request(
                method,
                url,
                **body,
                headers={"Authorization": f"Bearer {self._token}", **headers},
            ) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("%s %s failed: %s", method, _path_of(url), type(error).__name__)
            raise ServiceUnavailable(str(type(error).__name__)) from error

        if status >= 500:
            logger.warning("%s %s answered %s", method, _path_of(url), status)
            raise ServiceUnavailable(f"status {status}")
        if status >= 400:
            error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
            if status in (401, 403) and error.get("code") in IDENTITY_REFUSALS:
                raise IdentityRefused(error["code"])
            kind = NotFound if status == 404 else ServiceRefusal
            raise kind(status, error.get("code", "unknown"), error.get("message", ""), error)
        return body

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def _asked(conversation_id: str, channel: str, source: Optional[str]) -> Dict[str, str]:
    """Where an identification answer comes from, as the policy service counts it."""
    asked = {"conversation_id": conversation_id, "channel": channel}
    if source:
        asked["source"] = source
    return asked


def _path_of(url: str) -> str:
    """The path with identifiers masked, for logs without personal data."""
    return re.sub(r"\d{4,}", "*", url.split("/v1/", 1)[-1])


_client: Optional[ServicesClient] = None


def services() -> ServicesClient:
    """The process-wide client, built on first use from the environment."""
    global _client
    if _client is None:
        _client = ServicesClient.from_environment()
    return _client


def use_services(client: Optional[ServicesClient]) -> None:
    """Replaces the process-wide client (tests point it at their own services)."""
    global _client
    _client = client
