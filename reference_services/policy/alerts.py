"""Alerts the customers set (routes under /v1/customers/{id}/alerts), and the reminder
job that sends what is due: before a contract's due date, before its tacit renewal (with
the notice period and the last day to terminate at that due date), and when a premium is
left unpaid.

Each reminder is produced once per alert, contract and occasion (the due date, or the
unpaid premium's due day): an `alert_reminders` row is written in the same transaction as
the message, under a unique constraint, so that the policy service's periodic round and
`python -m reference_services.cli alerts run` never send one twice, even together.

A reminder goes to the channel the customer chose: e-mail or SMS through the outbox
(reference_services/policy/notifications.py), or a conversation's channel (widget,
WhatsApp, Telegram, Messenger) through the claim notices
(`reference_services.notices.queue_notice`) when the customer consented to notices
there; without such a consent, by e-mail.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, List, Optional, Sequence

from sanic import Blueprint
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import PARIS, french_date, isoformat_paris, now_utc
from core.db import with_session
from core.labels import FREQUENCY_LABELS, PAYMENT_METHOD_LABELS, euros
from core.service_contract.requests import AlertInput
from reference_services.background import run_in_background
from reference_services.errors import ServiceError
from reference_services.policy.models import (
    Alert,
    AlertReminder,
    Contract,
    Customer,
    UnpaidPremium,
)
from reference_services.policy.notifications import SIGNATURE, _queue
from reference_services.policy.repository import PolicyRepository
from reference_services.responses import json_response
from reference_services.validation import read_body

logger = logging.getLogger(__name__)

ALERTS = "/v1/customers/<customer_id:str>/alerts"
# The contractual notice before the annual due date to terminate at that date.
NOTICE_PERIOD_MONTHS = 2
# The policy service's round: reminders are days apart, an hour late is on time.
ROUND_SECONDS = 15 * 60
RETRY_SECONDS = 60
MESSAGING_CHANNELS = ("widget", "whatsapp", "telegram", "messenger")
KIND_LABELS = {"due_date": "échéance", "renewal": "renouvellement", "unpaid_premium": "prime impayée"}


def add_routes(bp: Blueprint) -> None:
    bp.add_route(create_alert, ALERTS, methods=["POST"])
    bp.add_route(list_alerts, ALERTS, methods=["GET"])
    bp.add_route(cancel_alert, f"{ALERTS}/<alert_id:str>", methods=["DELETE"])


# --- dates -------------------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    """`day` moved back by whole months; a day the month lacks becomes its last day."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    return date(year, month + 1, min(day.day, 28))


def last_day_to_terminate(due_date: date) -> date:
    """The last day a termination at `due_date` may be sent (the notice period before it)."""
    return months_before(due_date, NOTICE_PERIOD_MONTHS)


def _occasions(alert: Alert, contract: Contract, today: date,
               unpaid: Sequence[UnpaidPremium]) -> List[date]:
    """The occasions of `alert` on `contract` whose reminder is due `today`."""
    if alert.kind == "unpaid_premium":
        return [row.due_on for row in unpaid
                if row.contract_number == contract.contract_number and row.paid_at is None
                and row.due_on <= today]
    due = contract.next_due_date
    if due is None or not due - timedelta(days=alert.days_before) <= today <= due:
        return []
    return [due]


def next_reminder_on(alert: Alert, contracts: Sequence[Contract], today: date,
                     sent: Sequence[AlertReminder]) -> Optional[date]:
    """The day of the next reminder known now (due dates), None when none is."""
    if alert.kind == "unpaid_premium":
        return None
    done = {(row.contract_number, row.occasion) for row in sent if row.alert_id == alert.alert_id}
    days = [max(today, contract.next_due_date - timedelta(days=alert.days_before))
            for contract in _contracts_of(alert, contracts)
            if contract.next_due_date and contract.next_due_date >= today
            and (contract.contract_number, contract.next_due_date) not in done]
    return min(days, default=None)


def _contracts_of(alert: Alert, contracts: Sequence[Contract]) -> List[Contract]:
    """The active contracts an alert watches among the customer's."""
    return [contract for contract in contracts if contract.customer_id == alert.customer_id
            and contract.status == "active"
            and (alert.contract_number is None or contract.contract_number == alert.contract_number)]


# --- routes --------------------------------------------------------------------------


def alert_json(alert: Alert, next_on: Optional[date]) -> dict:
    return {
        "alert_id": alert.alert_id, "kind": alert.kind, "contract_number": alert.contract_number,
        "days_before": alert.days_before, "channel": alert.channel, "status": alert.status,
        "created_at": isoformat_paris(alert.created_at),
        "next_reminder_on": next_on.isoformat() if next_on else None,
    }


async def _answer(session: AsyncSession, alert: Alert, today: date) -> dict:
    contracts = await PolicyRepository(session).list_contracts(alert.customer_id)
    sent = (await session.execute(
        select(AlertReminder).where(AlertReminder.alert_id == alert.alert_id))).scalars().all()
    return alert_json(alert, next_reminder_on(alert, contracts, today, sent))


def _today(now: datetime) -> date:
    return now.astimezone(PARIS).date()


@with_session
async def create_alert(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    body = read_body(request, AlertInput)
    repository = PolicyRepository(session)
    await repository.get_customer(customer_id)
    contract_number = None
    if body.contract_number:
        contract = await repository.get_contract(customer_id, body.contract_number)
        if contract.status != "active":
            raise ServiceError("contract_terminated", end_date=contract.end_date.isoformat()
                               if contract.end_date else None)
        contract_number = contract.contract_number
    now = now_utc()
    days_before = 0 if body.kind == "unpaid_premium" else body.days_before
    # The same alert asked again (same kind, same contract) is the one kept, as now asked.
    alert = (await session.execute(select(Alert).where(
        Alert.customer_id == customer_id, Alert.kind == body.kind, Alert.status == "active",
        Alert.contract_number.is_(None) if contract_number is None
        else Alert.contract_number == contract_number,
    ))).scalars().first()
    if alert is None:
        alert = Alert(alert_id=secrets.token_hex(16), customer_id=customer_id, kind=body.kind,
                      contract_number=contract_number, status="active", created_at=now,
                      days_before=days_before, channel=body.channel)
        session.add(alert)
    else:
        alert.days_before, alert.channel = days_before, body.channel
    await session.commit()
    logger.info("alert %s (%s) set", alert.alert_id, alert.kind)
    return json_response(await _answer(session, alert, _today(now)), status=201)


@with_session
async def list_alerts(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    await PolicyRepository(session).get_customer(customer_id)
    alerts = (await session.execute(
        select(Alert).where(Alert.customer_id == customer_id, Alert.status == "active")
        .order_by(Alert.created_at, Alert.alert_id))).scalars().all()
    today = _today(now_utc())
    return json_response({"alerts": [await _answer(session, alert, today) for alert in alerts]})


@with_session
async def cancel_alert(request: Any, session: AsyncSession, customer_id: str,
                       alert_id: str) -> HTTPResponse:
    await PolicyRepository(session).get_customer(customer_id)
    alert = await session.get(Alert, alert_id)
    # Another customer's alert is as unknown as one that does not exist.
    if alert is None or alert.customer_id != customer_id or alert.status != "active":
        raise ServiceError("alert_not_found")
    alert.status, alert.cancelled_at = "cancelled", now_utc()
    await session.commit()
    logger.info("alert %s cancelled", alert_id)
    return json_response(alert_json(alert, None))


# --- the reminder job ---------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """A reminder produced by a round."""

    alert_id: str
    kind: str
    customer_id: str
    contract_number: str
    occasion: date
    sent_via: str  # notice | email | sms


def _label(labels: dict, value: str) -> str:
    return labels.get(value, value)


def _contract_name(contract: Contract) -> str:
    return f"{contract.label} ({contract.contract_number})"


def reminder_text(alert: Alert, contract: Contract, occasion: date, today: date,
                  unpaid: Optional[UnpaidPremium] = None) -> str:
    """What the customer reads: a few sentences, in French."""
    name = _contract_name(contract)
    if alert.kind == "unpaid_premium":
        amount = euros((unpaid.amount_cents if unpaid else 0) / 100)
        return (f"Oyat Assurance : la prime de {amount} de votre contrat {name}, due le "
                f"{french_date(occasion)}, n'a pas été reçue. Pour éviter une suspension de vos "
                "garanties, réglez-la depuis votre espace client ou appelez le 0825 07 11 22.")
    premium = euros(contract.premium_cents / 100)
    if alert.kind == "due_date":
        return (f"Oyat Assurance : l'échéance de votre contrat {name} est le {french_date(occasion)}. "
                f"Votre prime : {premium} {_label(FREQUENCY_LABELS, contract.premium_frequency)}, "
                f"réglée {_label(PAYMENT_METHOD_LABELS, contract.payment_method)}.")
    last_day = last_day_to_terminate(occasion)
    text = (f"Oyat Assurance : votre contrat {name} se renouvelle automatiquement le "
            f"{french_date(occasion)}. ")
    if today <= last_day:
        text += (f"Le préavis est de {NOTICE_PERIOD_MONTHS} mois : pour le résilier à cette "
                 f"échéance, envoyez votre demande au plus tard le {french_date(last_day)}.")
    else:
        text += (f"Le préavis de {NOTICE_PERIOD_MONTHS} mois pour le résilier à cette échéance a pris "
                 f"fin le {french_date(last_day)} ; après sa première année, un contrat auto ou "
                 "habitation peut être résilié à tout moment (loi Hamon).")
    return text


SUBJECTS = {
    "due_date": "Rappel : échéance de votre contrat {number}",
    "renewal": "Rappel : renouvellement de votre contrat {number}",
    "unpaid_premium": "Prime impayée sur votre contrat {number}",
}


def _queue_notice() -> Optional[Callable[..., Any]]:
    """The claim notices' queue (reference_services/notices), when it exists."""
    try:
        from reference_services.notices import queue_notice  # type: ignore[attr-defined]
    except ImportError:
        try:
            from reference_services.notices.service import queue_notice  # type: ignore
        except ImportError:
            return None
    return queue_notice


async def _send(session: AsyncSession, alert: Alert, customer: Customer, contract: Contract,
                text: str, dedup_key: str, now: datetime) -> str:
    """Queues the reminder on the alert's channel; how it went (notice | email | sms)."""
    if alert.channel in MESSAGING_CHANNELS:
        queue_notice = _queue_notice()
        if queue_notice is not None:
            queued = queue_notice(session, customer.customer_id, f"reminder_{alert.kind}", text, now, dedup_key,
                                  channel=alert.channel)
            if inspect.isawaitable(queued):
                queued = await queued
            if queued:
                return "notice"
    if alert.channel == "sms":
        _queue(session, "sms", customer.phone, None, text, now)
        return "sms"
    body = f"Bonjour {customer.full_name},\n\n{text}\n\n" + SIGNATURE
    _queue(session, "email", customer.email,
           SUBJECTS[alert.kind].format(number=contract.contract_number), body, now)
    return "email"


async def run_reminders(sessionmaker: Callable[[], AsyncSession], now: datetime) -> List[Reminder]:
    """Sends every reminder due at `now` not sent yet; what it sent."""
    today = _today(now)
    produced: List[Reminder] = []
    async with sessionmaker() as session:
        alerts = (await session.execute(
            select(Alert).where(Alert.status == "active").order_by(Alert.created_at, Alert.alert_id)
        )).scalars().all()
        for alert in alerts:
            customer = await session.get(Customer, alert.customer_id)
            contracts = (await session.execute(
                select(Contract).where(Contract.customer_id == alert.customer_id)
                .order_by(Contract.contract_number))).scalars().all()
            watched = _contracts_of(alert, contracts)
            unpaid: Sequence[UnpaidPremium] = []
            if alert.kind == "unpaid_premium" and watched:
                unpaid = (await session.execute(select(UnpaidPremium).where(
                    UnpaidPremium.contract_number.in_([c.contract_number for c in watched]),
                    UnpaidPremium.paid_at.is_(None)))).scalars().all()
            for contract in watched:
                for occasion in _occasions(alert, contract, today, unpaid):
                    reminder = await _produce(session, alert, customer, contract, occasion, today,
                                              unpaid, now)
                    if reminder is not None:
                        produced.append(reminder)
    return produced


async def _produce(session: AsyncSession, alert: Alert, customer: Customer, contract: Contract,
                   occasion: date, today: date, unpaid: Sequence[UnpaidPremium],
                   now: datetime) -> Optional[Reminder]:
    """One reminder, once: its row and its message in one transaction."""
    done = (await session.execute(select(AlertReminder.id).where(
        AlertReminder.alert_id == alert.alert_id, AlertReminder.contract_number == contract.contract_number,
        AlertReminder.occasion == occasion))).first()
    if done is not None:
        return None
    row = next((u for u in unpaid if u.contract_number == contract.contract_number
                and u.due_on == occasion), None)
    text = reminder_text(alert, contract, occasion, today, row)
    dedup_key = f"alert:{alert.alert_id}:{contract.contract_number}:{occasion.isoformat()}"
    sent_via = await _send(session, alert, customer, contract, text, dedup_key, now)
    session.add(AlertReminder(alert_id=alert.alert_id, contract_number=contract.contract_number,
                              occasion=occasion, sent_via=sent_via, created_at=now))
    try:
        await session.commit()
    except IntegrityError:  # another round sent it meanwhile: its message stands alone
        await session.rollback()
        return None
    logger.info("reminder %s for alert %s sent by %s", alert.kind, alert.alert_id, sent_via)
    return Reminder(alert.alert_id, alert.kind, alert.customer_id, contract.contract_number,
                    occasion, sent_via)


def install_reminders(app: Any) -> None:
    """Runs the reminder job while the policy service runs."""
    run_in_background(app, "reminder round", lambda app: run_reminders(app.ctx.sessionmaker, now_utc()),
                      ROUND_SECONDS, RETRY_SECONDS)


# --- command line (`python -m reference_services.cli alerts ...`) ----------------------


def parse_now(value: Optional[str]) -> datetime:
    """--now: an ISO moment (a date alone is 09:00 that day), Paris time unless it says."""
    if not value:
        return now_utc()
    moment = datetime.fromisoformat(value if "T" in value or " " in value else f"{value}T09:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


async def _with_sessions(settings: Any, work: Callable[[Callable[[], AsyncSession]], Any]) -> Any:
    from sqlalchemy.orm import sessionmaker

    from core.db import create_app_engine

    engine = create_app_engine(settings)
    try:
        return await work(sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, future=True))
    finally:
        await engine.dispose()


def run_command(settings: Any, now: datetime, out: Any) -> int:
    """`alerts run`: sends the reminders due at `now`; prints one line each."""
    sent = asyncio.run(_with_sessions(settings, lambda maker: run_reminders(maker, now)))
    for reminder in sent:
        out.write(f"{reminder.kind} reminder for {reminder.contract_number} "
                  f"(due {reminder.occasion.isoformat()}) sent by {reminder.sent_via}\n")
    if not sent:
        out.write("no reminder due\n")
    return len(sent)


def record_unpaid_command(settings: Any, contract_number: str, amount_cents: int, due_on: date,
                          out: Any) -> None:
    """`alerts unpaid`: the back office records a premium it did not receive."""

    async def record(maker: Callable[[], AsyncSession]) -> None:
        async with maker() as session:
            contract = await session.get(Contract, contract_number.upper())
            if contract is None:
                raise SystemExit(f"unknown contract {contract_number}")
            session.add(UnpaidPremium(contract_number=contract.contract_number, amount_cents=amount_cents,
                                      due_on=due_on, created_at=now_utc()))
            await session.commit()

    asyncio.run(_with_sessions(settings, record))
    out.write(f"unpaid premium of {contract_number.upper()} due {due_on.isoformat()} recorded\n")
