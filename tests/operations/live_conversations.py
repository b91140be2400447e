"""Conversations held with the operated stack's real Rasa server through the REST
channel, as the operations tests hold them."""
import uuid

import pytest
import requests

from devtools.espace_client import issue_session_token


class Conversation:
    """One sender on the REST channel; signed in as `customer` when one is given."""

    def __init__(self, stack, customer=None):
        self.stack, self.sender = stack, f"metrics-{uuid.uuid4()}"
        self.metadata = {"auth_token": issue_session_token(customer, stack.jwt_secret)} if customer else {}

    def say(self, text: str) -> str:
        return "\n".join(message.get("text", "") for message in self.stack.say(self.sender, text, **self.metadata))


# Words no policyholder writes. The test needs one that the trained model does not
# understand; which one varies with the training data (a whimsical sentence may land on
# any request), so the first the model's own parse leaves to the fallback is used.
LOST_CANDIDATES = (
    "le perroquet de ma voisine chante faux le dimanche",
    "ma grand-mere collectionne les boites de camembert",
    "les pingouins font du toboggan sur la banquise",
    "j'adore les tartes aux mirabelles de lorraine",
    "le festival de jazz de marciac ouvre ses portes",
    "mon oncle joue de l'accordeon dans un orchestre de bal",
)


def not_understood(stack) -> str:
    """The first candidate that the stack's model leaves to the fallback."""
    for text in LOST_CANDIDATES:
        parsed = requests.post(f"{stack.url}/model/parse", params={"token": stack.api_token}, json={"text": text},
                               timeout=60)
        parsed.raise_for_status()
        if parsed.json()["intent"]["name"] == "nlu_fallback":
            return text
    pytest.fail(f"the model understands every one of {LOST_CANDIDATES}: add a sentence it cannot place")
