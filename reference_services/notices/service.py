"""Notices: what the services tell a customer unprompted, on the channel where the customer
agreed to be told (« oui, prévenez-moi ici »).

Each notice is written in the same transaction as the change it tells (a claim's phase, an
expert's visit, a reminder): nothing here commits. The notifier (connectors/notifier.py)
leases the due ones through the policy service's notice routes (blueprint.py), delivers them
and says how it went: delivered, failed (retried later, with longer and longer waits), or
delivered by e-mail/SMS instead (fallback). A lease lapses after LEASE_SECONDS, so that a
notice whose notifier died is leased again; a delivered one never is. Each notice has a
deduplication key (claim + event + value): the same event told twice is queued once.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any, Mapping, Optional, Sequence

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import PARIS, isoformat_paris
from core.labels import euros
from reference_services.notices.models import Notice, NoticeConsent
from reference_services.policy.models import Customer, OutboxMessage
from reference_services.policy.notifications import DELIVER_EMAILS, SIGNATURE

logger = logging.getLogger(__name__)

CLAIM_EVENTS = ("opened", "expert_visit_set", "expert_visit_moved", "indemnity_paid", "closed")
LEASE_SECONDS = 60
# After a failure: 30 s, 1 min, 2 min... an hour at most; "failed" after the 8th attempt.
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 3600
MAX_ATTEMPTS = 8
MAX_LEASE = 50

_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")
PHONE = "0825 07 11 22"


# --- the words --------------------------------------------------------------------------

def french_moment(moment: datetime, now: Optional[datetime] = None) -> str:
    """« jeudi 10 décembre à 14 h », « lundi 4 janvier 2027 à 9 h 30 » (Paris time; the
    year only when it is not the current one)."""
    local = moment.astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    year = "" if now is not None and now.astimezone(PARIS).year == local.year else f" {local.year}"
    hour = f"{local.hour} h" + (f" {local.minute:02d}" if local.minute else "")
    return f"{_WEEKDAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]}{year} à {hour}"


def claim_event_text(claim_number: str, event: str, now: datetime,
                     details: Mapping[str, Any]) -> str:
    """What the customer reads, one or two short sentences."""
    if event == "opened":
        return (f"Votre déclaration de sinistre est enregistrée sous le numéro {claim_number}. "
                "Un gestionnaire ouvre votre dossier sous 24 à 48 h ; je vous préviendrai ici "
                "à chaque étape.")
    if event == "expert_visit_set":
        return (f"Votre sinistre {claim_number} : la visite de l'expert est fixée au "
                f"{french_moment(details['expert_visit'], now)}.")
    if event == "expert_visit_moved":
        text = (f"Votre sinistre {claim_number} : la visite de l'expert est déplacée au "
                f"{french_moment(details['expert_visit'], now)}")
        previous = details.get("previous_expert_visit")
        if previous is not None:
            text += f" (au lieu du {french_moment(previous, now)})"
        return text + "."
    if event == "indemnity_paid":
        return (f"Votre sinistre {claim_number} : nous avons versé votre indemnité de "
                f"{euros(details['amount_paid_cents'] / 100)}. Comptez 2 à 3 jours ouvrés "
                "pour la voir sur votre compte.")
    if event == "closed":
        return (f"Votre sinistre {claim_number} est clôturé. Une question ? Écrivez-moi ici "
                f"ou appelez le {PHONE}.")
    raise ValueError(f"unknown claim event {event!r}")


def _dedup_value(event: str, details: Mapping[str, Any]) -> str:
    if event in ("expert_visit_set", "expert_visit_moved"):
        return details["expert_visit"].astimezone(PARIS).isoformat(timespec="minutes")
    if event == "indemnity_paid":
        return str(details.get("total_paid_cents", details["amount_paid_cents"]))
    return ""


# --- queuing (in the caller's transaction) ----------------------------------------------

async def active_consent(session: AsyncSession, customer_id: str, channel: Optional[str] = None,
                         only_channel: bool = False) -> Optional[NoticeConsent]:
    """The customer's consent on `channel`, else (unless `only_channel`) their latest one
    still given; None if none."""
    consents = (await session.execute(
        select(NoticeConsent)
        .where(NoticeConsent.customer_id == customer_id, NoticeConsent.withdrawn_at.is_(None))
        .order_by(NoticeConsent.given_at.desc(), NoticeConsent.id.desc())
    )).scalars().all()
    for consent in consents:
        if consent.channel == channel:
            return consent
    return consents[0] if consents and not only_channel else None


async def _queue(session: AsyncSession, consent: NoticeConsent, kind: str, text: str,
                 now: datetime, dedup_key: str, template_parameters: Optional[Sequence[str]],
                 claim_number: Optional[str] = None, event: Optional[str] = None) -> Notice:
    dedup_key = dedup_key[:200]
    existing = (await session.execute(
        select(Notice).where(Notice.dedup_key == dedup_key))).scalar_one_or_none()
    if existing is not None:
        return existing
    notice = Notice(
        dedup_key=dedup_key, customer_id=consent.customer_id, consent_id=consent.id,
        kind=kind, claim_number=claim_number, event=event, channel=consent.channel,
        address=consent.address, conversation_id=consent.conversation_id, text=text,
        template_parameters=json.dumps(list(template_parameters or [text]), ensure_ascii=False),
        status="queued", attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(notice)
    await session.flush()
    return notice


async def queue_notice(session: AsyncSession, customer_id: str, kind: str, text: str,
                       now: datetime, dedup_key: str, channel: Optional[str] = None,
                       template_parameters: Optional[Sequence[str]] = None) -> bool:
    """Queues `text` for the customer on their consent of `channel` (else their latest):
    True, or False when they gave none (tell them another way). The same `dedup_key` again
    queues nothing more (and answers True). Does not commit."""
    consent = await active_consent(session, customer_id, channel)
    if consent is None:
        return False
    await _queue(session, consent, kind, text, now, dedup_key, template_parameters)
    return True


async def record_claim_event(session: AsyncSession, claim: Any, event: str, now: datetime,
                             details: Optional[Mapping[str, Any]] = None) -> Optional[Notice]:
    """The notice of `event` of `claim` (a claims.models.Claim), queued when its customer
    agreed to notices: on the claim's channel when they agreed there (the usual case: the
    consent is asked right after the claim is filed), else on the channel of their latest
    consent (they agreed to hear of their claims there); None without any consent.
    details: `expert_visit` (and `previous_expert_visit`) for a visit set or moved,
    `amount_paid_cents` (and `total_paid_cents`) for an indemnity paid. Does not commit."""
    if event not in CLAIM_EVENTS:
        raise ValueError(f"unknown claim event {event!r}")
    details = dict(details or {})
    consent = await active_consent(session, claim.customer_id, claim.channel)
    if consent is None:
        return None
    text = claim_event_text(claim.claim_number, event, now, details)
    key = f"claim:{claim.claim_number}:{event}:{_dedup_value(event, details)}"
    notice = await _queue(session, consent, "claim_event", text, now, key, None,
                          claim_number=claim.claim_number, event=event)
    logger.info("notice of %s queued for claim %s on %s", event, claim.claim_number, consent.channel)
    return notice


# --- consents ---------------------------------------------------------------------------

async def give_consent(session: AsyncSession, customer_id: str, channel: str, address: str,
                       conversation_id: str, now: datetime) -> tuple[NoticeConsent, bool]:
    """The consent (given again on the same address: the one already there); (consent, created)."""
    existing = (await session.execute(
        select(NoticeConsent).where(
            NoticeConsent.customer_id == customer_id, NoticeConsent.channel == channel,
            NoticeConsent.address == address, NoticeConsent.withdrawn_at.is_(None))
        .order_by(NoticeConsent.id.desc()).limit(1)
    )).scalar_one_or_none()
    if existing is not None:
        return existing, False
    consent = NoticeConsent(customer_id=customer_id, channel=channel, address=address,
                            conversation_id=conversation_id, given_at=now)
    session.add(consent)
    await session.flush()
    return consent, True


async def withdraw_consents(session: AsyncSession, now: datetime, customer_id: Optional[str] = None,
                            channel: Optional[str] = None, address: Optional[str] = None) -> int:
    """Withdraws the customer's consents and/or those of (channel, address); their notices
    not yet delivered are dropped ("withdrawn"). How many consents were withdrawn."""
    who = []
    if customer_id is not None:
        who.append(NoticeConsent.customer_id == customer_id)
    if address is not None:
        who.append(and_(NoticeConsent.channel == channel, NoticeConsent.address == address))
    if not who:
        return 0
    ids = (await session.execute(
        select(NoticeConsent.id).where(or_(*who), NoticeConsent.withdrawn_at.is_(None))
    )).scalars().all()
    if not ids:
        return 0
    await session.execute(update(NoticeConsent).where(NoticeConsent.id.in_(ids))
                          .values(withdrawn_at=now))
    await session.execute(update(Notice).where(
        Notice.consent_id.in_(ids), Notice.status.in_(("queued", "sending"))
    ).values(status="withdrawn", next_attempt_at=None))
    return len(ids)


# --- the notifier's side ----------------------------------------------------------------

async def lease_notices(session: AsyncSession, now: datetime, limit: int) -> list[Notice]:
    """Up to `limit` due notices (queued and due, or whose lease lapsed), each leased for
    LEASE_SECONDS (status "sending"). Two notifiers never lease the same one at once: each
    lease is a conditional UPDATE. Commits."""
    # A lapsed lease after the last attempt: given up.
    await session.execute(update(Notice).where(
        Notice.status == "sending", Notice.next_attempt_at <= now, Notice.attempts >= MAX_ATTEMPTS,
    ).values(status="failed", next_attempt_at=None, last_error="lease lapsed"))
    due = or_(Notice.status == "queued", Notice.status == "sending")
    candidates = (await session.execute(
        select(Notice.id, Notice.status, Notice.attempts).where(due, Notice.next_attempt_at <= now)
        .order_by(Notice.next_attempt_at, Notice.id).limit(max(1, min(limit, MAX_LEASE)))
    )).all()
    leased_ids = []
    for notice_id, status, attempts in candidates:
        result = await session.execute(update(Notice).where(
            Notice.id == notice_id, Notice.status == status, Notice.attempts == attempts,
            Notice.next_attempt_at <= now,
        ).values(status="sending", attempts=attempts + 1,
                 next_attempt_at=now + timedelta(seconds=LEASE_SECONDS)))
        if result.rowcount == 1:
            leased_ids.append(notice_id)
    await session.commit()
    if not leased_ids:
        return []
    notices = (await session.execute(
        select(Notice).where(Notice.id.in_(leased_ids)).order_by(Notice.id)
        .execution_options(populate_existing=True))).scalars().all()
    return list(notices)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS))


async def mark_delivered(session: AsyncSession, notice: Notice, now: datetime,
                         by: str = "channel") -> None:
    """Delivered: never leased again (even if its lease had lapsed meanwhile). Commits."""
    if notice.status != "delivered":
        notice.status, notice.delivered_at, notice.delivered_by = "delivered", now, by
        notice.next_attempt_at = None
    await session.commit()


async def mark_failed(session: AsyncSession, notice: Notice, now: datetime, retry: bool,
                      reason: str) -> None:
    """A failed delivery: queued again later (waits doubling) when `retry` and attempts
    remain, "failed" otherwise. Commits."""
    notice.last_error = (reason or "")[:200] or None
    if retry and notice.attempts < MAX_ATTEMPTS:
        notice.status, notice.next_attempt_at = "queued", now + retry_delay(notice.attempts)
    else:
        notice.status, notice.next_attempt_at = "failed", None
    await session.commit()


async def deliver_by_fallback(session: AsyncSession, notice: Notice, now: datetime,
                              medium: str = "email") -> str:
    """The notice sent by e-mail (or SMS) to the customer's address on file through the
    services' outbox, and marked delivered that way, in one transaction. Returns the medium."""
    customer = await session.get(Customer, notice.customer_id)
    if medium == "sms" or not customer.email:
        medium = "sms"
        recipient, subject = customer.phone, None
        body = f"Oyat Assurance : {notice.text}"
    else:
        recipient = customer.email
        subject = (f"Votre sinistre {notice.claim_number} : du nouveau" if notice.claim_number
                   else "Un message d'Oyat Assurance")
        body = f"Bonjour {customer.full_name},\n\n{notice.text}\n\n{SIGNATURE}"
    deliver = medium == "email" and session.info.get(DELIVER_EMAILS, False)
    session.add(OutboxMessage(channel=medium, recipient=recipient, subject=subject, body=body,
                              status="queued" if deliver else "sent", created_at=now, attempts=0))
    await mark_delivered(session, notice, now, by=f"fallback_{medium}")
    return medium


def notice_json(notice: Notice, template_name: str, template_language: str) -> dict:
    """A leased notice as the notifier reads it."""
    return {
        "id": notice.id, "kind": notice.kind, "customer_id": notice.customer_id,
        "claim_number": notice.claim_number, "event": notice.event, "channel": notice.channel,
        "address": notice.address, "conversation_id": notice.conversation_id, "text": notice.text,
        "template": {"name": template_name, "language": template_language,
                     "parameters": json.loads(notice.template_parameters)},
        # The notifier falls back to e-mail rather than let this one fail for good.
        "last_attempt": notice.attempts >= MAX_ATTEMPTS,
    }


def consent_json(consent: NoticeConsent) -> dict:
    return {"consent_id": consent.id, "channel": consent.channel,
            "given_at": isoformat_paris(consent.given_at)}
