"""Long messages as customers write them (a story, anger, then the request), through the
REST channel and the real stack: the request is served, or, when the NLU hesitates, its
two best guesses are offered as buttons, never « Je n'ai pas bien compris »."""

import uuid

import pytest

from devtools.espace_client import issue_session_token

MARIE = "10000001"
DID_NOT_UNDERSTAND = "Je n'ai pas bien compris"
DID_YOU_MEAN = "Vouliez-vous dire"


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


@pytest.fixture
def marie(rasa_stack):
    sender = f"test-{uuid.uuid4()}"
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)
    return sender, lambda text: rasa_stack.say(sender, text, auth_token=token)


def test_an_angry_story_ending_with_a_status_question_gets_the_claim_s_status(marie):
    _, say = marie
    answer = texts(say(
        "bonjour, je commence a en avoir assez, le plafond de ma cuisine est toujours tache, le voisin du "
        "dessus ne repond plus et moi j'attends depuis des semaines sans nouvelles de personne, kan est ce "
        "que quelqu'un va me dire ou ca en est mon dossier de fuite ???"))
    assert "SIN-2026-000731" in answer and "expertise" in answer, answer
    assert DID_NOT_UNDERSTAND not in answer


def offered(messages):
    return [button["payload"] for message in messages for button in message.get("buttons") or []]


def test_a_long_forgotten_password_story_gets_the_password_help_or_it_as_a_button(rasa_stack):
    sender = f"test-{uuid.uuid4()}"
    answer = rasa_stack.say(
        sender,
        "bonsoir dsl de vous embeter, je voulais telecharger mon echeancier pour ma banque mais ca fait "
        "tellement longtemps que je suis pas allee sur votre site que je sais plus du tout quel mot de passe "
        "j'avais mis, vous pouvez m'aider svp")
    assert "mot de passe" in texts(answer).lower() or "/forgot_password" in offered(answer), answer
    assert DID_NOT_UNDERSTAND not in texts(answer)


@pytest.mark.parametrize("message", [
    "bonjour, alors voila, mon beau-frere m'a dit de vous ecrire, on a eu pas mal de soucis cet hiver avec la "
    "maison et la voiture, je m'y perds un peu entre les papiers et les prelevements, je sais plus quoi faire",
    "re bonjour, c'est encore moi, bon je vous la fais courte : le garage, l'expert, la banque, tout le monde "
    "se renvoie la balle et moi au milieu je sais plus a quel saint me vouer, c'est quand que ca s'arrete",
])
def test_a_long_message_the_nlu_hesitates_on_offers_its_two_best_requests(rasa_stack, marie, message):
    sender, say = marie
    answer = say(message)
    assert DID_NOT_UNDERSTAND not in texts(answer)
    parsed = [event for event in rasa_stack.tracker(sender)["events"] if event["event"] == "user"][-1]["parse_data"]
    if parsed["intent"]["name"] != "nlu_fallback":
        return  # understood: served like any other request
    from core.labels import REQUESTS
    best_two = [candidate["name"] for candidate in parsed["intent_ranking"] if candidate["name"] in REQUESTS][:2]
    [question] = [message for message in answer if DID_YOU_MEAN in message.get("text", "")]
    assert [button["payload"] for button in question["buttons"]] == [f"/{intent}" for intent in best_two] + ["/deny"]
