"""Every self-service flow of the assistant carried to its end through the REST channel,
as a customer would: each case is one conversation (who is speaking, what they type in
turn) and what the last answer must say — facts from the customer's data or the insurer."""

import re
import uuid

import pytest

from devtools.espace_client import issue_session_token

MARIE, KARIM, SOPHIE, ANONYMOUS = "10000001", "10000002", "10000003", None

FLOWS = {
    # Claim follow-up
    "the expert's appointment": (MARIE, ["quand passe l'expert ?"], ["3 décembre 2026"]),
    "the amount paid on a closed claim": (KARIM, ["quand vais-je être remboursé pour mon pare-brise ?"], ["412"]),
    "vetusty explained against the contract": (MARIE, ["c'est quoi la vétusté, je serai remboursé en valeur à neuf ?"], ["vétusté"]),
    # Contracts and payments
    "the guarantees and deductible of a contract": (MARIE, ["qu'est-ce que couvre mon contrat habitation ?"], ["HAB-120034", "150"]),
    "the premium and the next due date": (MARIE, ["combien je paie pour ma voiture ?"], ["AUT-482913"]),
    "the bonus-malus coefficient": (MARIE, ["c'est quoi mon bonus ?"], ["0,68"]),
    "the termination rules": (MARIE, ["comment résilier mon assurance auto ?"], ["Hamon"]),
    "tacit renewal": (ANONYMOUS, ["mon contrat se renouvelle tout seul ?"], ["reconduction"]),
    # Attestations
    "the ten-year liability certificate": (SOPHIE, ["il me faut mon attestation décennale"], ["PRO-700215", "http"]),
    "no attestation for a terminated contract": (SOPHIE, ["il me faut une attestation pour mon logement"], ["résilié"]),
    "the green card question": (MARIE, ["je n'ai pas reçu ma carte verte"], ["Mémo véhicule assuré"]),
    # Insurer's facts, no identification needed
    "the contacts": (ANONYMOUS, ["quel est votre numéro de téléphone ?"], ["0825 07 11 22", "contact@oyat-assurances.fr", "CS 38735"]),
    "complaints and the mediator": (ANONYMOUS, ["je veux faire une réclamation"], ["[Mm]édiateur"]),
    "how long to keep documents": (ANONYMOUS, ["combien de temps garder mes attestations ?"], ["2 ans", "5 ans"]),
    "personal-data rights": (ANONYMOUS, ["je veux que vous supprimiez mes données"], ["données"]),
    "what the assistant can do": (ANONYMOUS, ["qu'est-ce que tu sais faire ?"], ["sinistre", "attestation"]),
    "out of scope": (ANONYMOUS, ["quel temps fera-t-il demain ?"], ["contrats", "sinistres"]),
    # Login help, anonymous
    "a forgotten password": (ANONYMOUS, ["j'ai oublié mon mot de passe"], ["connexion.oyat-assurances.fr", "spam"]),
    "a locked account": (ANONYMOUS, ["mon compte est bloqué"], ["0825 07 11 22"]),
    "an SMS code that does not arrive": (ANONYMOUS, ["le code par SMS n'arrive pas"], ["SMS"]),
    "a lost identifier": (ANONYMOUS, ["je n'ai jamais reçu mon identifiant"], ["identifiant"]),
    # Changes filed as requests
    "a new bank account": (MARIE, ["je veux changer de RIB", "prélèvements sur mon nouveau compte pour AUT-482913", "oui"],
                           [r"DEM-\d{4}-\d{6}", "5 jours"]),
    "a quote": (MARIE, ["je voudrais un devis pour assurer une moto"], ["devis"]),
    # Conversation repair
    "a procedure cancelled": (MARIE, ["je veux déclarer un sinistre", "laissez tomber, j'arrête", "oui"], ["rien n'a été enregistré"]),
    "a question inside the declaration, then back to it": (
        MARIE, ["je veux déclarer un sinistre", "quel est votre numéro de téléphone ?"], ["0825 07 11 22", "type de sinistre"],
    ),
    "a human on request": (ANONYMOUS, ["passez-moi un conseiller"], ["conseiller"]),
}


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.replace(" ", "_"))
def test_every_flow_reaches_its_answer_through_rest(rasa_stack, flow):
    customer, turns, expected = FLOWS[flow]
    sender = f"flow-{uuid.uuid4()}"
    metadata = {"auth_token": issue_session_token(customer, rasa_stack.jwt_secret)} if customer else {}
    for turn in turns:
        answer = "\n".join(message.get("text", "") for message in rasa_stack.say(sender, turn, **metadata))
    for pattern in expected:
        assert re.search(pattern, answer), f"{pattern!r} not in: {answer}"
