"""E-mails and SMS, written to the outbox table. SMS are only recorded; e-mails too,
unless SMTP_URL is set: then they wait "queued" for the policy service to deliver them
(reference_services/mail.py). Bodies are what a customer (or an adviser) would receive."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import PARIS, french_date
from core.settings import Settings
from reference_services.policy.models import Customer, Handoff, OutboxMessage

# Set in a session's info by the services when SMTP_URL is set (reference_services/mail.py).
DELIVER_EMAILS = "oyat_deliver_emails"

LOGIN_SITE = "https://connexion.oyat-assurances.fr"
SIGNATURE = (
    "L'équipe Oyat Assurance\n"
    "Ceci est un message automatique, merci de ne pas y répondre. "
    "Pour toute question : 0825 07 11 22 ou contact@oyat-assurances.fr."
)


def _queue(session: AsyncSession, channel: str, recipient: str, subject: Optional[str],
           body: str, now: datetime, attachment: Optional[str] = None) -> None:
    deliver = channel == "email" and session.info.get(DELIVER_EMAILS, False)
    session.add(OutboxMessage(
        channel=channel, recipient=recipient, subject=subject, body=body,
        status="queued" if deliver else "sent", created_at=now, attempts=0,
        attachment=attachment,
    ))


def queue_password_reset(session: AsyncSession, customer: Customer, now: datetime) -> None:
    token = secrets.token_urlsafe(32)
    body = (
        f"Bonjour {customer.full_name},\n\n"
        "Vous avez demandé à réinitialiser le mot de passe de votre espace client "
        "Oyat Assurance. Pour choisir un nouveau mot de passe, ouvrez ce lien, "
        "valable 24 heures :\n"
        f"{LOGIN_SITE}/reinitialisation?jeton={token}\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : "
        "votre mot de passe actuel reste valable.\n\n" + SIGNATURE
    )
    _queue(session, "email", customer.email,
           "Réinitialisation de votre mot de passe Oyat Assurance", body, now)


def queue_identifier_reminder(session: AsyncSession, customer: Customer, now: datetime) -> None:
    body = (
        f"Bonjour {customer.full_name},\n\n"
        f"Votre identifiant de connexion à l'espace client Oyat Assurance est : "
        f"{customer.customer_id}\n\n"
        f"Connectez-vous sur {LOGIN_SITE} avec cet identifiant et votre mot de passe. "
        "Mot de passe oublié ? Cliquez sur « Mot de passe oublié » sur la page de connexion.\n\n"
        + SIGNATURE
    )
    _queue(session, "email", customer.email, "Votre identifiant Oyat Assurance", body, now)


def queue_identity_code(session: AsyncSession, customer: Customer, code: str,
                        now: datetime) -> None:
    body = (
        f"Oyat Assurance : votre code de vérification est {code}. Il est valable "
        "10 minutes. Ne le communiquez à personne : nos conseillers ne vous le "
        "demanderont jamais."
    )
    _queue(session, "sms", customer.phone, None, body, now)


def queue_attestation_link(session: AsyncSession, customer: Customer, contract_number: str,
                           url: str, link_valid_until: date, now: datetime) -> None:
    body = (
        f"Bonjour {customer.full_name},\n\n"
        f"Voici votre attestation d'assurance pour le contrat {contract_number}. "
        f"Téléchargez-la avec ce lien, valable jusqu'au {french_date(link_valid_until)} :\n"
        f"{url}\n\n"
        "Vous la retrouvez aussi à tout moment dans votre espace client, rubrique "
        "« Mes documents ».\n\n" + SIGNATURE
    )
    _queue(session, "email", customer.email,
           f"Votre attestation d'assurance – contrat {contract_number}", body, now)


def queue_claim_acknowledgement(session: AsyncSession, customer: Customer, claim_number: str,
                                contract_number: str, occurred_on: date, now: datetime) -> None:
    """The acknowledgement of a new claim: its number, whichever way it was filed
    (at once, or later from the assistant's queue while the claims service was down)."""
    body = (
        f"Bonjour {customer.full_name},\n\n"
        f"Nous avons bien reçu votre déclaration de sinistre du {french_date(occurred_on)} "
        f"sur le contrat {contract_number}. Elle est enregistrée sous le numéro "
        f"{claim_number} : rappelez-le dans tous vos échanges avec nous.\n\n"
        "Votre dossier est ouvert par un gestionnaire sous 24 à 48 h. Si c'est nécessaire, "
        "un expert vous contactera pour évaluer les dommages. Gardez tous vos justificatifs "
        "(factures, photos, devis) : vous pourrez les déposer dans votre espace client, "
        "rubrique « Mes sinistres ».\n\n" + SIGNATURE
    )
    _queue(session, "email", customer.email,
           f"Votre déclaration de sinistre {claim_number}", body, now)


def queue_handoff_notice(session: AsyncSession, handoff: Handoff, settings: Settings,
                         now: datetime) -> None:
    """Tells the advisers' address (HANDOFF_NOTIFY_EMAIL, if any) of a new hand-off: its
    reference, channel, time and the console's link. Never what the conversation holds (no
    summary, name, customer id or contact): the e-mail leaves the insurer's systems, the
    console shows the rest to a logged-in adviser, and records who opened it."""
    if not settings.handoff_notify_email:
        return
    channel = _plain(handoff.channel)
    filed = now.astimezone(PARIS)
    body = (
        "Bonjour,\n\n"
        "Un client demande à parler à un conseiller.\n\n"
        f"Transfert : {handoff.reference}\n"
        f"Canal : {channel}\n"
        f"Demandé le : {french_date(filed.date())} à {filed:%H:%M} (heure de Paris)\n"
        f"Client identifié : {'oui' if handoff.customer_id else 'non'}\n\n"
        "Ouvrez-le dans la console des conseillers :\n"
        f"{settings.adviser_console_url}/transferts/{handoff.reference}\n\n"
        "Ce message ne contient aucune donnée personnelle : la demande et le dossier du "
        "client sont dans la console.\n"
    )
    _queue(session, "email", settings.handoff_notify_email,
           f"Nouveau transfert {handoff.reference} ({channel})", body, now)


def _plain(channel: str) -> str:
    """The channel's name as a subject may hold it (letters, digits, spaces, « . _ - »)."""
    return re.sub(r"[^\w .-]", "", channel, flags=re.ASCII).strip()[:40] or "inconnu"


def queue_quote_email(session: AsyncSession, email: str, reference: str, product_label: str,
                      valid_until: date, now: datetime) -> None:
    """A quote sent to the address a visitor gave, the quote as a PDF attached when the
    e-mail is delivered (reference_services/mail.py renders "quote:<reference>")."""
    body = (
        "Bonjour,\n\n"
        f"Vous trouverez ci-joint votre devis d'{product_label} n° {reference}, valable jusqu'au "
        f"{french_date(valid_until)}. Il compare nos formules, leurs garanties, leur franchise "
        "et leur prix par mois et par an.\n\n"
        "Pour souscrire la formule qui vous convient, répondez à notre assistant sur notre site "
        "ou appelez le 0825 07 11 22 en rappelant le numéro du devis.\n\n"
        "Vous n'avez pas demandé ce devis ? Ignorez ce message.\n\n" + SIGNATURE
    )
    _queue(session, "email", email, f"Votre devis Oyat Assurance {reference}", body, now,
           attachment=f"quote:{reference}")
