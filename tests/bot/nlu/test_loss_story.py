"""A loss told as what happened becomes a declaration, whatever the classifier said,
unless the classifier is sure of another request the loss is only the context of."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.loss_story import LossStory


def read(text, intent, confidence):
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                            "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []})
    LossStory.create({}, None, None, None).process([message])
    claim_types = [e["value"] for e in message.get("entities") if e["entity"] == "claim_type"]
    return message.get("intent")["name"], claim_types


@pytest.mark.parametrize("text, claim_type", [
    ("mon pare brise est fissure depuis ce matin", "bris_de_glace"),
    ("g une fuite chez moi et le plafond de la voisine est abime", "degat_des_eaux"),
    ("hier soir une voiture m'a percutee au feu rouge rue de la gare", "accident_auto"),
])
def test_a_story_read_as_an_answer_is_a_declaration_with_its_type_of_loss(text, claim_type):
    assert read(text, "inform", 1.0) == ("declare_claim", [claim_type])


def test_a_story_the_classifier_did_not_understand_is_a_declaration():
    assert read("on m'a vole mon velo dans le garage samedi", "nlu_fallback", 0.5)[0] == "declare_claim"


def test_another_request_the_classifier_is_sure_of_is_kept():
    text = "jai eu un accrochage sur le parking, est ce que ca va me faire perdre mon bonus"
    assert read(text, "bonus_malus", 0.85)[0] == "bonus_malus"


def test_a_question_about_cover_is_no_story():
    assert read("est-ce que je suis couvert pour un bris de glace ?", "inform", 0.6)[0] == "inform"


def test_a_request_without_a_loss_is_left_alone():
    assert read("bonjour, je m'appelle Karim", "inform", 1.0) == ("inform", [])
