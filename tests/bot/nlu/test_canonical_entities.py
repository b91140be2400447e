"""The NLU output's entities in their canonical form (spec §3), from the component
trained on the project's own training data."""

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.canonical_entities import CanonicalEntities, fold
from tests.dialogue.conftest import ROOT


@pytest.fixture(scope="module")
def component(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("canonical_entities")
    CanonicalEntities.create({}, storage, resource, None).train(load_data(str(ROOT / "data" / "nlu")))
    return CanonicalEntities.load({}, storage, resource, None)


def entities(component, text, found=()):
    message = Message(data={"text": text, "entities": [dict(entity) for entity in found]})
    component.process([message])
    return [(entity["entity"], entity["value"]) for entity in message.get("entities")]


def extracted(text, entity, value):
    start = text.index(value)
    return {"entity": entity, "value": value, "start": start, "end": start + len(value), "extractor": "DIETClassifier"}


@pytest.mark.parametrize("text", ["AUT-482913", "aut 482913", "Aut.482.913", "mon contrat aut482913 svp"])
def test_contract_numbers_come_out_canonical(component, text):
    assert entities(component, text) == [("contract_number", "AUT-482913")]


@pytest.mark.parametrize("text", ["sin 2026 731", "SIN2026-731", "sin2026000731", "dossier SIN-2026-000731"])
def test_full_claim_numbers_come_out_canonical(component, text):
    assert entities(component, text) == [("claim_number", "SIN-2026-000731")]


def test_a_partial_claim_number_is_left_to_the_actions(component):
    assert entities(component, "où en est le 731") == []


@pytest.mark.parametrize("text", ["ab123cd", "AB 123 CD", "ab-123-cd"])
def test_plates_come_out_canonical(component, text):
    assert entities(component, text) == [("plate", "AB-123-CD")]


def test_an_identifier_an_extractor_misread_is_read_again_from_the_text(component):
    text = "attestation pour aut 482 913"
    assert entities(component, text, [extracted(text, "contract_number", "aut 482")]) == [
        ("contract_number", "AUT-482913")]


@pytest.mark.parametrize("span, value", [
    ("inondée", "catastrophe_naturelle"), ("inondation", "catastrophe_naturelle"), ("Tempete", "catastrophe_naturelle"),
    ("fuite d’eau", "degat_des_eaux"), ("dégats des eaux", "degat_des_eaux"), ("cambriolage", "vol"),
    ("pare-brise", "bris_de_glace"), ("PARE BRISE", "bris_de_glace"),
])
def test_claim_types_are_mapped_to_their_canonical_value_whatever_the_spelling(component, span, value):
    text = f"chez moi : {span}"
    assert entities(component, text, [extracted(text, "claim_type", span)]) == [("claim_type", value)]


@pytest.mark.parametrize("span, value", [
    ("appart", "habitation"), ("Logement", "habitation"), ("maisons", "habitation"), ("moto", "auto"),
    ("ma voiture", "auto"), ("décennale", "pro"), ("RC pro", "pro"), ("assurance vie", "prevoyance"),
    ("obsèques", "prevoyance"), ("mutuelle", "sante"),
])
def test_products_are_mapped_to_their_canonical_value_whatever_the_spelling(component, span, value):
    text = f"pour {span} merci"
    found = [(name, v) for name, v in entities(component, text, [extracted(text, "product", span)])]
    assert found == [("product", value)]


def test_a_value_with_no_canonical_form_is_dropped(component):
    text = "un truc bizarre"
    assert entities(component, text, [extracted(text, "claim_type", "truc")]) == []


@pytest.mark.parametrize("text, product", [
    ("je voudrais un devis pour assurer une moto", "auto"),
    ("combien pour assurer mon appart ?", "habitation"),
    ("un devis mutuelle", "sante"),
])
def test_a_product_named_in_a_quote_request_is_extracted(component, text, product):
    assert entities(component, text) == [("product", product)]


@pytest.mark.parametrize("text", ["je suis auto-entrepreneur", "mon contrat PRO-700215", "une automobile"])
def test_words_that_only_contain_a_product_word_name_no_product(component, text):
    assert ("product", "auto") not in entities(component, text)
    assert ("product", "pro") not in entities(component, text)


def test_folding_keeps_every_character_in_its_place():
    text = "Dégâts d’eau chez Chloé, İstanbul"
    assert len(fold(text)) == len(text) and fold(text).startswith("degats d eau chez chloe")


@pytest.mark.parametrize("value, kept", [("10000001", "10000001"), ("000731", None), ("1000 0001", "10000001")])
def test_a_customer_id_is_eight_digits_or_none(component, value, kept):
    text = f"c'est {value}"
    found = entities(component, text, [extracted(text, "customer_id", value)])
    assert found == ([("customer_id", kept)] if kept else [])


def ranked(text, *ranking):
    message = Message(data={"text": text, "entities": [],
                            "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
                            "intent_ranking": [{"name": name, "confidence": c} for name, c in ranking]})
    return message


@pytest.mark.parametrize("text", ["ou en est le sin 2026 731", "et le 731 il en est ou ??"])
def test_a_message_naming_a_claim_is_weighed_among_the_intents_that_can_name_one(component, text):
    message = ranked(text, ("contact_info", 0.45), ("claim_status", 0.30), ("contract_info", 0.15), ("inform", 0.1))
    component.process([message])
    assert message.get("intent")["name"] == "claim_status"
    assert message.get("intent")["confidence"] == pytest.approx(0.75)
    assert [entry["name"] for entry in message.get("intent_ranking")] == ["claim_status", "inform"]


def test_a_confident_other_request_naming_a_claim_stands(component):
    message = ranked("je veux changer de rib, c'est pour le dossier 731", ("change_payment_method", 0.9),
                     ("claim_status", 0.05))
    component.process([message])
    assert message.get("intent")["name"] == "change_payment_method"


def test_a_message_naming_no_claim_keeps_its_intents(component):
    message = ranked("et pour le reste il en est ou", ("contact_info", 0.45), ("claim_status", 0.30))
    component.process([message])
    assert message.get("intent")["name"] == "contact_info"


def test_a_claim_question_the_classifier_barely_saw_is_not_promoted(component):
    message = ranked("le 731 ?", ("contact_info", 0.45), ("repeat", 0.3), ("indemnification_info", 0.05))
    component.process([message])
    assert message.get("intent")["name"] == "contact_info"


@pytest.mark.parametrize("text", ["ou en est le SIN-2026-000731", "le dossier 731 ça avance ?", "des nouvelles du 731 ?"])
def test_a_message_naming_a_claim_and_asking_where_it_stands_is_a_claim_status_question(component, text):
    message = ranked(text, ("inform", 0.99), ("express_frustration", 0.006), ("claim_status", 0.004))
    component.process([message])
    assert message.get("intent") == {"name": "claim_status", "confidence": 0.99}
    assert [entry["name"] for entry in message.get("intent_ranking")][:2] == ["claim_status", "express_frustration"]


def test_a_claim_number_given_as_an_answer_stays_an_answer(component):
    message = ranked("SIN-2026-000731", ("inform", 0.99), ("claim_status", 0.01))
    component.process([message])
    assert message.get("intent")["name"] == "inform"
