"""How a message is split into requests (bot/two_requests.py); the
conversations themselves are in tests/dialogue/test_two_requests.py."""

import types

import pytest

from bot.two_requests import SECOND_REQUEST, _announce, clauses, with_second_request


def said(text):
    return [text[begin:end].strip() for begin, end in clauses(text)]


@pytest.mark.parametrize("text, expected", [
    ("une attestation, et aussi où en est mon sinistre", ["une attestation", "où en est mon sinistre"]),
    ("jvoudrais une attestation pr ma voiture. et puis mon sinistre il en est ou",
     ["jvoudrais une attestation pr ma voiture", "mon sinistre il en est ou"]),
    ("mon bonus svp ensuite changer de rib", ["mon bonus svp", "changer de rib"]),
    ("une attestation et où en est mon dossier ?", ["une attestation", "où en est mon dossier"]),
    ("ma franchise? egalement le numero de tel de l agence", ["ma franchise", "le numero de tel de l agence"]),
])
def test_a_message_is_cut_where_it_turns_to_another_request(text, expected):
    assert said(text) == expected


@pytest.mark.parametrize("text", [
    "le tuyau sous l'evier a lache et le parquet est gonfle",  # one story, « et » between two facts
    "/request_attestation",  # a button's payload
    "je veux une attestation",
    "x" * 700,  # too long to be worth the parses
])
def test_a_message_of_one_piece_is_not_cut(text):
    assert len(clauses(text)) < 2


def parsed(intent, confidence=0.95, entities=(), text=""):
    return {"text": text, "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": list(entities)}


WHOLE = parsed("nlu_fallback", 0.5, [{"entity": "product", "value": "auto", "start": 20, "end": 27},
                                     {"entity": "claim_number", "value": "SIN-2026-000731", "start": 60, "end": 75}])


def test_two_requests_make_the_first_one_carrying_the_second():
    result = with_second_request(WHOLE, [
        ((0, 30), parsed("request_attestation", text="une attestation pour ma voiture")),
        ((40, 80), parsed("claim_status", 0.9, [{"entity": "claim_number", "value": "SIN-2026-000731", "start": 20,
                                                 "end": 35}], text="où en est le SIN-2026-000731")),
    ])
    assert result["intent"]["name"] == "request_attestation"
    # Each request keeps its own entities.
    assert [entity["entity"] for entity in result["entities"]] == ["product"]
    second = result[SECOND_REQUEST]
    assert second["intent"] == "claim_status" and second["text"] == "où en est le SIN-2026-000731"
    assert [entity["value"] for entity in second["entities"]] == ["SIN-2026-000731"]


@pytest.mark.parametrize("clause_parses", [
    [parsed("greet"), parsed("request_attestation")],  # « bonjour. une attestation »
    [parsed("declare_claim"), parsed("declare_claim")],  # a story, then the request it tells
    [parsed("request_attestation"), parsed("claim_status", confidence=0.55)],  # a doubtful second
    [parsed("request_attestation"), parsed("inform")],
])
def test_a_single_request_is_left_as_the_whole_message_says(clause_parses):
    spans = [((0, 10), clause_parses[0]), ((12, 30), clause_parses[1])]
    assert with_second_request(WHOLE, spans) is WHOLE


async def test_the_second_request_is_announced_by_the_name_the_domain_gives_it():
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load("domain")
    processor = types.SimpleNamespace(nlg=TemplatedNaturalLanguageGenerator(domain.responses))
    channel = CollectingOutputChannel()
    await _announce(processor, channel, DialogueStateTracker("marie", domain.slots), "request_attestation")
    assert [message["text"] for message in channel.messages] == ["Passons à votre deuxième demande : une attestation."]
