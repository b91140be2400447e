"""The one client of the insurer's policy and claims services.

Every call has a timeout. Only idempotent calls are retried (reads, and claim
filing, which carries an idempotency key). Failures come back as typed errors
that the actions turn into answers the customer understands. Answers come back as
the contract's answer models (core/service_contract), read by attribute: an answer
outside the contract is a failure of the service, not data to act on. Error codes
are ErrorCode members (a code this client does not know stays a plain string).

Every call about one customer carries that customer's identity assertion (header
`X-Identity-Assertion`), issued by the policy service where the identity was
verified: the customer is a CustomerIdentity, never a bare customer id.
"""

import asyncio
import logging
import re
from typing import Any, Dict, List, Optional, Sequence, Type, TypeVar, Union
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError, parse_obj_as

from core.logs import request_id_headers
from core.metrics import SERVICE_ERRORS, bounded
from core.service_contract import (
    IDENTITY_REFUSALS,
    AdvisersAvailable,
    Attestation,
    Claim,
    ClaimDocumentLinked,
    ClaimList,
    Contract,
    ContractList,
    CustomerRequestCreated,
    ErrorCode,
    HandoffCreated,
    IdentityCheckStarted,
    IdentityVerified,
    Quote,
    SentTo,
    Simulation,
    Upload,
    error_code,
)
from core.service_contract.answers import (
    AlertAnswer,  # C: alerts
    AlertList,
    NoticeConsentAnswer,  # D: claim notices
    NoticeConsentList,
    NoticeConsentsWithdrawn,
)
from core.settings import ServicesClientSettings

logger = logging.getLogger(__name__)

IDENTITY_HEADER = "X-Identity-Assertion"
# The model of an answer: a pydantic model, or a Union of them (parse_obj_as).
AnswerModel = Any
Model = TypeVar("Model", bound=BaseModel)


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

    def __init__(self, code: Union[ErrorCode, str]) -> None:
        super().__init__(code)
        self.code = code


class ServiceError(Exception):
    """Base of the errors the services client raises."""


class ServiceUnavailable(ServiceError):
    """The service did not answer, answered too late or failed (5xx)."""


class ServiceRefusal(ServiceError):
    """The service understood the request and refused it (4xx) with a stable code."""

    def __init__(
        self, status: int, code: Union[ErrorCode, str], message: str, details: Optional[Dict[str, Any]] = None
    ) -> None:
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
    def from_environment(cls, settings: Optional[ServicesClientSettings] = None) -> "ServicesClient":
        """The client of `settings` (default: read from the environment now)."""
        settings = settings or ServicesClientSettings.from_env()
        return cls(
            policy_url=settings.policy_service_url,
            claims_url=settings.claims_service_url,
            token=settings.services_api_token,
            timeout_seconds=settings.services_timeout_seconds,
        )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    # --- policy service ---------------------------------------------------------

    async def list_contracts(self, customer: CustomerIdentity) -> List[Contract]:
        body = await self._get(f"{self.policy_url}/v1/customers/{customer}/contracts", customer, ContractList)
        return body.contracts

    async def get_contract(self, customer: CustomerIdentity, contract_number: str) -> Contract:
        return await self._get(f"{self.policy_url}/v1/customers/{customer}/contracts/{contract_number}", customer,
                               Contract)

    async def create_attestation(
        self, customer: CustomerIdentity, contract_number: str, kind: str = "standard", send_by_email: bool = False
    ) -> Attestation:
        """Generates the PDF; with `send_by_email`, its link is also e-mailed to the address on file."""
        url = f"{self.policy_url}/v1/customers/{customer}/contracts/{contract_number}/attestations"
        return await self._send("POST", url, {"kind": kind, "send_by_email": send_by_email}, retry=False,
                                customer=customer, answer=Attestation)

    async def send_password_reset(self, customer: CustomerIdentity) -> SentTo:
        url = f"{self.policy_url}/v1/customers/{customer}/password-reset"
        return await self._send("POST", url, {}, retry=False, customer=customer, answer=SentTo)

    async def send_identifier_reminder(self, customer: CustomerIdentity) -> SentTo:
        url = f"{self.policy_url}/v1/customers/{customer}/identifier-reminder"
        return await self._send("POST", url, {}, retry=False, customer=customer, answer=SentTo)

    # Identification: wrong answers are counted per conversation and per `source` (the
    # client's address or platform user, when the channel gave it), never per customer.

    async def start_identity_check(
        self, customer_id: str, birth_date: str, conversation_id: str, channel: str, source: Optional[str] = None
    ) -> IdentityCheckStarted:
        """Starts a check (`check_id`): the one-time code goes by SMS to the phone on file only
        when the customer exists and the birth date is right, but the answer is the same."""
        url = f"{self.policy_url}/v1/customers/{customer_id}/identity-checks"
        body = {"birth_date": birth_date, **_asked(conversation_id, channel, source)}
        return await self._send("POST", url, body, retry=False, answer=IdentityCheckStarted)

    async def start_phone_identity_check(
        self, phone_number: str, birth_date: str, send_code: bool, conversation_id: str, channel: str,
        source: Optional[str] = None, channel_assertion: Optional[str] = None,
    ) -> Union[IdentityCheckStarted, IdentityVerified]:
        """Matches a phone number a channel verified and the birth date to a customer: then a
        one-time code goes by SMS (`check_id`, the same answer when nothing matched), or
        without `send_code` the customer id comes back with the identity assertion for this
        conversation. Without a code the policy service wants `channel_assertion`, the number
        as the channel signed it (ServiceRefusal `channel_assertion_required` or `_invalid`)."""
        body = {"phone_number": phone_number, "birth_date": birth_date, "send_code": send_code,
                **_asked(conversation_id, channel, source)}
        if not send_code and channel_assertion:
            body["channel_assertion"] = channel_assertion
        return await self._send("POST", f"{self.policy_url}/v1/phone-identity-checks", body, retry=False,
                                answer=IdentityCheckStarted if send_code else IdentityVerified)

    async def verify_identity_check(
        self, check_id: str, code: str, conversation_id: str, channel: str, source: Optional[str] = None
    ) -> IdentityVerified:
        """The SMS code: the customer id and the identity assertion for this conversation."""
        url = f"{self.policy_url}/v1/identity-checks/{check_id}/verify"
        body = {"code": code, **_asked(conversation_id, channel, source)}
        return await self._send("POST", url, body, retry=False, answer=IdentityVerified)

    async def check_session_token(self, token: str, conversation_id: str, channel: str) -> IdentityVerified:
        """An espace-client session token, verified by the policy service: the customer id and
        the identity assertion for this conversation. NotFound `customer_not_found`: a valid
        token of a customer the insurer does not know; ServiceRefusal `session_token_invalid`."""
        body = {"token": token, "conversation_id": conversation_id, "channel": channel}
        return await self._send("POST", f"{self.policy_url}/v1/espace-client-token-checks", body, retry=True,
                                answer=IdentityVerified)

    async def file_request(
        self, customer: CustomerIdentity, kind: str, details: Dict[str, Any], contract_number: Optional[str] = None
    ) -> CustomerRequestCreated:
        """Files a change request that needs the insurer's approval; answers its reference and delay."""
        body: Dict[str, Any] = {"kind": kind, "details": details}
        if contract_number:
            body["contract_number"] = contract_number
        url = f"{self.policy_url}/v1/customers/{customer}/requests"
        return await self._send("POST", url, body, retry=False, customer=customer, answer=CustomerRequestCreated)

    async def file_handoff(
        self, customer: Optional[CustomerIdentity], channel: str, reason: str, summary: str,
        conversation_id: Optional[str] = None, contact: Optional[str] = None,
    ) -> HandoffCreated:
        """A hand-off, of an identified customer or (None) of an anonymous one; with the
        conversation an adviser may then read and answer (`conversation_id`, the sender id)
        and where to call an anonymous visitor back (`contact`: a phone number or an
        e-mail, ServiceRefusal `validation_error` otherwise)."""
        body = {"customer_id": customer, "channel": channel, "reason": reason, "summary": summary}
        if conversation_id:
            body["conversation_id"] = conversation_id
        if contact:
            body["contact"] = contact
        return await self._send("POST", f"{self.policy_url}/v1/handoffs", body, retry=False, customer=customer,
                                answer=HandoffCreated)

    async def advisers_available(self) -> int:
        """How many advisers are at their console now (their session used these 2 minutes)."""
        url = f"{self.policy_url}/v1/advisers/available"
        return (await self._send("GET", url, None, retry=True, answer=AdvisersAvailable)).available

    # --- policy service: quotes and simulations (A, issue 18) --------------------
    # Money in the answers: integer cents (`..._cents`); deductibles in whole euros.

    async def create_quote(
        self, product: str, risk: Dict[str, Any], customer: Optional[CustomerIdentity] = None
    ) -> Quote:
        """Prices `risk` for `product` ("auto" | "habitation") with the tariff and keeps the quote
        (DEV-AAAA-NNNNNN, valid 30 days): 2 or 3 formulas, each with its guarantees, deductible,
        annual and monthly premium. Anyone may ask; an identified `customer` is linked to it.
        A risk the tariff refuses: ServiceRefusal `validation_error`, details["fields"] naming
        each refused member as `risk.<member>` (docs/tariff.md lists them)."""
        body: Dict[str, Any] = {"product": product, "risk": risk}
        if customer is not None:
            body["customer_id"] = str(customer)
        return await self._send("POST", f"{self.policy_url}/v1/quotes", body, retry=False,
                                customer=customer, answer=Quote)

    async def get_quote(self, reference: str) -> Quote:
        """A quote by its reference (`expired` once past valid_until); NotFound `quote_not_found`."""
        return await self._send("GET", f"{self.policy_url}/v1/quotes/{quote(reference, safe='')}", None,
                                retry=True, answer=Quote)

    async def email_quote(self, reference: str, email: str) -> SentTo:
        """Queues an e-mail to `email` with the quote as a PDF attachment; answers the address
        masked. NotFound `quote_not_found`; ServiceRefusal `validation_error` for a bad address."""
        url = f"{self.policy_url}/v1/quotes/{quote(reference, safe='')}/email"
        return await self._send("POST", url, {"email": email}, retry=False, answer=SentTo)

    async def request_quote_follow_up(
        self, reference: str, formula: str, channel: str, customer: Optional[CustomerIdentity] = None,
        contact: Optional[str] = None, conversation_id: Optional[str] = None,
    ) -> HandoffCreated:
        """Asks an adviser to set up the chosen `formula` of the quote: a hand-off (reason "quote")
        the advisers' console lists, its summary naming the quote, formula and premium. An
        anonymous visitor needs `contact` (phone or e-mail). ServiceRefusal `validation_error`
        (an unknown formula, no contact), NotFound `quote_not_found`."""
        body: Dict[str, Any] = {"formula": formula, "channel": channel}
        if customer is not None:
            body["customer_id"] = str(customer)
        if contact:
            body["contact"] = contact
        if conversation_id:
            body["conversation_id"] = conversation_id
        url = f"{self.policy_url}/v1/quotes/{quote(reference, safe='')}/follow-up"
        return await self._send("POST", url, body, retry=False, customer=customer, answer=HandoffCreated)

    async def simulate_contract_change(
        self, customer: CustomerIdentity, contract_number: str, change: Dict[str, Any]
    ) -> Simulation:
        """What the contract would cost with `change` ({"deductible_eur"?: int, "add_guarantees"?:
        [code], "remove_guarantees"?: [code]}): current and simulated premiums, the differences
        and the effective date. Changes nothing. ServiceRefusal `validation_error` (details
        "fields" name the allowed values), `contract_terminated` (409); NotFound
        `contract_not_found`."""
        url = f"{self.policy_url}/v1/customers/{customer}/contracts/{contract_number}/simulations"
        return await self._send("POST", url, dict(change), retry=True, customer=customer, answer=Simulation)

    # C: alerts the customer sets (issue 18).

    async def create_alert(
        self, customer: CustomerIdentity, kind: str, channel: str, days_before: int = 30,
        contract_number: Optional[str] = None,
    ) -> AlertAnswer:
        """An alert (`kind` due_date | renewal | unpaid_premium) on one contract or, None, on each
        active one; the same kind on the same contract again updates it. ServiceRefusal
        `contract_terminated` (409), NotFound `contract_not_found`."""
        body: Dict[str, Any] = {"kind": kind, "channel": channel, "days_before": days_before,
                                "contract_number": contract_number}
        url = f"{self.policy_url}/v1/customers/{customer}/alerts"
        return await self._send("POST", url, body, retry=False, customer=customer, answer=AlertAnswer)

    async def list_alerts(self, customer: CustomerIdentity) -> List[AlertAnswer]:
        """The customer's active alerts, oldest first."""
        return (await self._get(f"{self.policy_url}/v1/customers/{customer}/alerts", customer, AlertList)).alerts

    async def cancel_alert(self, customer: CustomerIdentity, alert_id: str) -> AlertAnswer:
        """Cancels one of the customer's alerts (NotFound `alert_not_found`, also when already cancelled)."""
        url = f"{self.policy_url}/v1/customers/{customer}/alerts/{quote(alert_id, safe='')}"
        return await self._send("DELETE", url, None, retry=False, customer=customer, answer=AlertAnswer)

    # --- policy service: claim notices (D, issue 15) -------------------------------

    async def record_notice_consent(
        self, customer: CustomerIdentity, channel: str, conversation_id: str, reply_address_assertion: str,
        claim_number: Optional[str] = None,
    ) -> NoticeConsentAnswer:
        """The customer agrees to be told here (the address the channel signed); given again on
        the same address: the consent already there. `claim_number`: only for a claim that was
        queued during an outage and filed since (its « enregistré » notice goes then, and the
        signed address may have expired within the queued claims' grace). ServiceRefusal
        `reply_address_required` / `reply_address_invalid`."""
        body = {"channel": channel, "conversation_id": conversation_id,
                "reply_address_assertion": reply_address_assertion}
        if claim_number:
            body["claim_number"] = claim_number
        url = f"{self.policy_url}/v1/customers/{customer}/notice-consents"
        return await self._send("POST", url, body, retry=True, customer=customer, answer=NoticeConsentAnswer)

    async def list_notice_consents(self, customer: CustomerIdentity) -> List[NoticeConsentAnswer]:
        """The customer's consents still given."""
        url = f"{self.policy_url}/v1/customers/{customer}/notice-consents"
        return (await self._get(url, customer, NoticeConsentList)).consents

    async def withdraw_notice_consents(
        self, customer: Optional[CustomerIdentity] = None, reply_address_assertion: Optional[str] = None,
    ) -> int:
        """« STOP »: withdraws the identified customer's consents and/or those of the signed
        address (anonymous); their notices not yet delivered are dropped. How many withdrawn."""
        body: Dict[str, Any] = {}
        if customer is not None:
            body["customer_id"] = str(customer)
        if reply_address_assertion:
            body["reply_address_assertion"] = reply_address_assertion
        url = f"{self.policy_url}/v1/notice-consents/withdraw"
        answer = await self._send("POST", url, body, retry=True, customer=customer, answer=NoticeConsentsWithdrawn)
        return answer.withdrawn

    # --- claims service ---------------------------------------------------------

    async def list_claims(self, customer: CustomerIdentity) -> List[Claim]:
        body = await self._get(f"{self.claims_url}/v1/customers/{customer}/claims", customer, ClaimList)
        return body.claims

    async def get_claim(self, customer: CustomerIdentity, claim_number: str) -> Claim:
        return await self._get(f"{self.claims_url}/v1/customers/{customer}/claims/{claim_number}", customer, Claim)

    async def file_claim(
        self,
        customer: CustomerIdentity,
        declaration: Dict[str, Any],
        idempotency_key: str,
        attachments: Sequence[str] = (),
        retry: bool = True,
    ) -> Claim:
        """Files a claim with the uploads given (their ids) linked to it; safe to retry:
        the same key never creates a second claim. `retry=False` makes one attempt only
        (the claim outbox retries later instead of keeping the customer waiting)."""
        url = f"{self.claims_url}/v1/customers/{customer}/claims"
        body = {**declaration, "attachments": list(attachments)} if attachments else declaration
        return await self._send("POST", url, body, retry=retry, headers={"Idempotency-Key": idempotency_key},
                                customer=customer, answer=Claim)

    async def upload_document(self, filename: str, content_type: str, data: bytes) -> Upload:
        """Hands a received file to the claims service, which checks it by its content.

        Answers its upload_id, content_type, size and filename; refusals come as
        ServiceRefusal with code `empty`, `too_large` or `unsupported_type`."""
        headers = {
            "Content-Type": content_type or "application/octet-stream",
            "X-Filename": quote(filename or "", safe=""),
        }
        url = f"{self.claims_url}/v1/uploads"
        return await self._send("POST", url, None, retry=False, headers=headers, data=data, answer=Upload)

    async def add_claim_document(self, customer: CustomerIdentity, claim_number: str, upload_id: str) -> ClaimDocumentLinked:
        """Links an upload to one of the customer's claims; safe to retry (linking twice
        to the same claim changes nothing)."""
        url = f"{self.claims_url}/v1/customers/{customer}/claims/{claim_number}/documents"
        return await self._send("POST", url, {"upload_id": upload_id}, retry=True, customer=customer,
                                answer=ClaimDocumentLinked)

    # --- plumbing ---------------------------------------------------------------

    async def _get(self, url: str, customer: CustomerIdentity, answer: Type[Model]) -> Model:
        return await self._send("GET", url, None, retry=True, customer=customer, answer=answer)

    async def _send(
        self,
        method: str,
        url: str,
        payload: Optional[Dict[str, Any]],
        *,
        retry: bool,
        answer: AnswerModel,
        headers: Optional[Dict[str, str]] = None,
        data: Optional[bytes] = None,
        customer: Optional[str] = None,
    ) -> Any:
        """The answer read as `answer` (its model in the contract)."""
        headers = dict(headers or {})
        if customer is not None:
            # A call about a customer without the assertion would be refused: not even made.
            assertion = getattr(customer, "assertion", None)
            if not assertion:
                raise IdentityRefused(ErrorCode.identity_required)
            headers[IDENTITY_HEADER] = assertion
        attempts = 1 + (self._retries if retry else 0)
        for attempt in range(1, attempts + 1):
            try:
                body = await self._send_once(method, url, payload, headers, data)
                break
            except ServiceUnavailable:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.2 * attempt)
        return _read_answer(method, url, body, answer)

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
                headers={"Authorization": f"Bearer {self._token}", **request_id_headers(), **headers},
            ) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("%s %s failed: %s", method, _path_of(url), type(error).__name__)
            self._count_error(url, "unreachable")
            raise ServiceUnavailable(str(type(error).__name__)) from error

        if status >= 500:
            logger.warning("%s %s answered %s", method, _path_of(url), status)
            self._count_error(url, "unavailable")
            raise ServiceUnavailable(f"status {status}")
        if status >= 400:
            error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
            code = error_code(error.get("code", "unknown"))
            self._count_error(url, str(code) if isinstance(code, ErrorCode) else "unknown")
            if status in (401, 403) and code in IDENTITY_REFUSALS:
                raise IdentityRefused(code)
            kind = NotFound if status == 404 else ServiceRefusal
            raise kind(status, code, error.get("message", ""), error)
        return body

    def _count_error(self, url: str, code: str) -> None:
        """oyat_service_errors_total{service, code} (core/metrics.py): codes of the contract only."""
        service = "claims" if url.startswith(self.claims_url) and not url.startswith(self.policy_url) else "policy"
        SERVICE_ERRORS.labels(service, bounded(code)).inc()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def _read_answer(method: str, url: str, body: Any, answer: AnswerModel) -> Any:
    """`body` as `answer`; ServiceUnavailable unless it is what the contract says the route answers."""
    try:
        return parse_obj_as(answer, body)
    except ValidationError as error:
        # Where the answer strays, never its values (personal data).
        wrong = sorted({".".join(map(str, problem["loc"])) for problem in error.errors()})
        logger.warning("%s %s answered outside the contract: %s", method, _path_of(url), ", ".join(wrong))
        SERVICE_ERRORS.labels("claims" if "/claims" in url or "/uploads" in url else "policy", "outside_contract").inc()
        raise ServiceUnavailable("answer outside the contract") from None


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
