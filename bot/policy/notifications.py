"""E-mails and SMS, written to the outbox table (the reference implementation
sends nothing for real). Bodies are what a customer would receive."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import french_date
from bot.policy.models import Customer, OutboxMessage

LOGIN_SITE = "https://connexion.oyat-assurances.fr"
SIGNATURE = (
    "L'équipe Oyat Assurance\n"
    "Ceci est un message automatique, merci de ne pas y répondre. "
    "Pour toute question : 0825 07 11 22 ou contact@oyat-assurances.fr."
)


def _queue(session: AsyncSession, channel: str, recipient: str, subject: Optional[str],
           body: str, now: datetime) -> None:
    session.add(OutboxMessage(
        channel=channel, recipient=recipient, subject=subject, body=body,
        status="sent", created_at=now,
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
